namespace Shmap.Tests;

/// <summary>Small maps shared by several test classes.</summary>
internal static class TestMaps
{
    public static SortedDictionary<string, string> Seed()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        model["aaa"] = "323";
        model["zb"] = "1233";
        model["tes"] = "32z";
        model["红"] = "32是";
        return model;
    }

    public static SharedMapBuilder Build(IEnumerable<KeyValuePair<string, string>> entries)
    {
        var builder = new SharedMapBuilder();
        foreach ((string key, string value) in entries)
        {
            builder.Set(key, value);
        }

        return builder;
    }
}
