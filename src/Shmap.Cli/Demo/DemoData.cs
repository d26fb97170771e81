namespace Shmap.Cli.Demo;

/// <summary>
/// The demo's data: user profiles keyed by id (<see cref="Profiles"/>), the kind of read-mostly table worker processes
/// look up constantly. Deterministic from the seed, so every run and every process agrees.
/// </summary>
internal static class DemoData
{
    /// <summary>The key the demo changes in version 2, so readers can show which version they see.</summary>
    public const string VersionKey = "demo:version";

    /// <summary>The seed project's own example (pysharedmap's README), included in every demo map.</summary>
    public static readonly (string Key, string Value)[] SeedExample = [("aaa", "323"), ("zb", "1233"), ("tes", "32z"), ("红", "32是")];

    /// <summary>The key of user <paramref name="id"/>.</summary>
    public static string Key(int id) => Profiles.Key(id);

    /// <summary>All entries of version 1, in key order; <paramref name="count"/> users plus the seed example and the version key.</summary>
    public static IEnumerable<(string Key, string Value)> Entries(int count, int seed)
    {
        var random = new Random(seed);
        foreach ((string Key, string Value) pair in SeedExample)
        {
            yield return pair;
        }

        yield return (VersionKey, "1");
        for (int id = 0; id < count; id++)
        {
            yield return (Key(id), Profiles.Value(random));
        }
    }

    /// <summary>Keys to look up: random users (all present), the same for a given seed.</summary>
    public static string[] LookupKeys(int count, int seed, int howMany)
    {
        var random = new Random(seed);
        var keys = new string[howMany];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = Key(random.Next(count));
        }

        return keys;
    }
}
