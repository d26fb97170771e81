namespace Shmap.Tests.Unit;

public class LiveSmokeTests
{
    [Fact]
    public async Task Follow_NewVersionPublished_AnswersFromNewest()
    {
        using var dir = new TestDirectory();
        var builder = new SharedMapBuilder();
        builder.Set("k", "v1");
        Assert.Equal(1, builder.Publish("n", dir.Options));
        using LiveSharedMap live = SharedMap.Follow("n", dir.Options);
        using SharedMap first = SharedMap.Open("n", dir.Options);
        Assert.Equal("v1", live.Get("k"));
        Assert.True(first.IsLatest);

        Task<long> wait = live.WaitForNewVersionAsync();
        builder.Set("k", "v2");
        Assert.Equal(2, builder.Publish("n", dir.Options));
        Assert.Equal(2, await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("v2", live.Get("k"));
        Assert.False(first.IsLatest);
        Assert.Equal("v1", first.Get("k"));

        Assert.True(SharedMap.Delete("n", dir.Options));
        Assert.True(live.IsDeleted);
        Assert.Equal("v2", live.Get("k"));
        builder.Set("k", "v3");
        Assert.Equal(3, builder.Publish("n", dir.Options));
        Assert.Equal("v3", live.Get("k"));
        Assert.False(live.IsDeleted);
        Assert.Equal(new[] { "n.lock", "n.shmap" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
    }
}
