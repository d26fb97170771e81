namespace Shmap.Tests.Unit;

public class SmokeTests
{
    [Fact]
    public void Share_SeedExample_ReadsBackByName()
    {
        using var dir = new TestDirectory();
        var builder = new SharedMapBuilder();
        builder.Set("aaa", "323");
        builder.Set("zb", "1233");
        builder.Set("tes", "32z");
        builder.Set("红", "32是");
        Assert.Equal("32z", builder.Get("tes"));
        builder.Share("test:3325", force: true, dir.Options);

        using SharedMap map = SharedMap.Open("test:3325", dir.Options);
        Assert.Equal("32是", map.Get("红"));
        Assert.Equal("32z", map.Get("tes"));
        Assert.Null(map.Get("nope"));
        Assert.Equal(4, map.Count);
        Assert.Equal(new[] { "aaa", "tes", "zb", "红" }, map.Keys.ToArray());
        Assert.Equal(1, map.Version);
        map.Verify();
    }
}
