namespace Shmap.Tests.Unit;

/// <summary>The public API the CLI uses instead of the file layout: listing, paths, format version, builders from pairs.</summary>
public class PublicApiTests
{
    [Fact]
    public void List_PublishedAndCorruptNames_ListsEachWithFilesAndHeaderInOrder()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder(TestMaps.Seed()).Share("b", options: dir.Options);
        new SharedMapBuilder(TestMaps.Seed()).Share("a", options: dir.Options);
        new SharedMapBuilder(TestMaps.Seed()).Publish("a", dir.Options);
        File.WriteAllBytes(Path.Combine(dir.Path, "bad.shmap"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(dir.Path, ".a.1.x.tmp"), [1]);
        File.WriteAllBytes(Path.Combine(dir.Path, ".hidden.shmap"), [1]);

        IReadOnlyList<SharedMapInfo> infos = SharedMap.List(dir.Options);

        Assert.Equal(["a", "b", "bad"], infos.Select(static i => i.Name));
        SharedMapInfo a = infos[0];
        Assert.Equal(Path.Combine(dir.Path, "a.shmap"), a.SnapshotPath);
        Assert.Equal(Path.Combine(dir.Path, "a.lock"), a.ControlPath);
        Assert.Equal(2, a.Version);
        Assert.Equal(4, a.Count);
        Assert.Equal(new FileInfo(a.SnapshotPath).Length, a.ByteLength);
        Assert.NotNull(a.PublishedAt);
        Assert.Null(a.Problem);
        SharedMapInfo bad = infos[2];
        Assert.Equal(0, bad.Version);
        Assert.Equal(3, bad.ByteLength);
        Assert.NotNull(bad.Problem);
    }

    [Fact]
    public void List_NoDirectory_Empty()
    {
        using var dir = new TestDirectory();
        Assert.Empty(SharedMap.List(dir.Options));
    }

    [Fact]
    public void PathsOf_Name_AreTheFilesPublished()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder(TestMaps.Seed()).Share("n", options: dir.Options);
        using SharedMap map = SharedMap.Open("n", dir.Options);
        Assert.Equal(map.Path, SharedMap.SnapshotPathOf("n", dir.Options));
        Assert.True(File.Exists(SharedMap.ControlPathOf("n", dir.Options)));
        Assert.Throws<ArgumentException>(() => SharedMap.SnapshotPathOf("a/b", dir.Options));
    }

    [Fact]
    public void FormatVersion_OpenMap_IsTheHeaderVersion()
    {
        byte[] bytes = TestMaps.Build(TestMaps.Seed()).Dump();
        using SharedMap map = SharedMap.Load(bytes);
        Assert.Equal(BitConverter.ToUInt16(bytes, 8), map.FormatVersion);
        map.Dispose();
        Assert.Throws<ObjectDisposedException>(() => map.FormatVersion);
    }

    [Fact]
    public void BodyChecksum_SameEntriesPublishedAgain_IsTheHeaderFieldAndUnchanged()
    {
        using var dir = new TestDirectory();
        SharedMapBuilder builder = TestMaps.Build(TestMaps.Seed());
        byte[] bytes = builder.Dump();
        using SharedMap loaded = SharedMap.Load(bytes);
        Assert.Equal(BitConverter.ToUInt64(bytes, 112), loaded.BodyChecksum);
        builder.Publish("sum", dir.Options);
        builder.Publish("sum", dir.Options);
        using SharedMap published = SharedMap.Open("sum", dir.Options);
        Assert.Equal(2, published.Version);
        Assert.Equal(loaded.BodyChecksum, published.BodyChecksum);
        published.Dispose();
        Assert.Throws<ObjectDisposedException>(() => published.BodyChecksum);
    }

    [Fact]
    public void Builder_FromPairs_HoldsThemLastWins()
    {
        KeyValuePair<string, string>[] pairs = [new("k", "1"), new("j", "2"), new("k", "3")];
        var builder = new SharedMapBuilder(pairs);
        Assert.Equal(2, builder.Count);
        Assert.Equal("3", builder.Get("k"));
        builder.AddRange([new("x", "4")]);
        Assert.Equal(3, builder.Count);
        Assert.Throws<ArgumentNullException>(() => new SharedMapBuilder(null!));
    }

    [Fact]
    public void ContainsKeyKeysValues_Map_AgreeWithTheModel()
    {
        SortedDictionary<string, string> model = TestMaps.Seed();
        using SharedMap map = SharedMap.Load(TestMaps.Build(model).Dump());
        Assert.All(model.Keys, k => Assert.True(map.ContainsKey(k)));
        Assert.False(map.ContainsKey("absent"));
        Assert.False(map.ContainsKey("\ud800"));
        Assert.Throws<ArgumentNullException>(() => map.ContainsKey((string)null!));
        Assert.Equal(model.Keys, map.Keys);
        Assert.Equal(model.Values, map.Values);
    }

    [Fact]
    public void LiveSharedMap_PublicConstructor_FollowsTheName()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder(TestMaps.Seed()).Share("live", options: dir.Options);
        using var live = new LiveSharedMap("live", dir.Options);
        Assert.Equal("32z", live.Get("tes"));
        Assert.Equal(TestMaps.Seed().Keys, live.Keys);
        Assert.Throws<SharedMapNotFoundException>(() => new LiveSharedMap("absent", dir.Options));
    }
}
