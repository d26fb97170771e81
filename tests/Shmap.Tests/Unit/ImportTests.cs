namespace Shmap.Tests.Unit;

/// <summary><see cref="SharedMap.Import"/> and <see cref="SharedMap.WriteTo"/>: snapshot files in and out of shared names.</summary>
public class ImportTests
{
    [Fact]
    public void Import_ValidFile_PublishesNextVersionWithFreshStamp()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string file = Path.Combine(dir.Path, "export.bin");
        File.WriteAllBytes(file, TestMaps.Build(TestMaps.Seed()).Dump());

        Assert.Equal(1, SharedMap.Import("imported", file, options: dir.Options));
        using (SharedMap map = SharedMap.Open("imported", dir.Options))
        {
            Assert.Equal(1, map.Version);
            Assert.NotNull(map.PublishedAt);
            MapAssert.Matches(TestMaps.Seed(), map);
        }

        Assert.Throws<SharedMapExistsException>(() => SharedMap.Import("imported", file, options: dir.Options));
        Assert.Equal(2, SharedMap.Import("imported", file, force: true, dir.Options));

        // A published file carries its stamp; importing it elsewhere stamps it anew.
        string published = Path.Combine(dir.Path, "imported.shmap");
        Assert.Equal(1, SharedMap.Import("copy", published, options: dir.Options));
        using SharedMap copy = SharedMap.Open("copy", dir.Options);
        Assert.Equal(1, copy.Version);
        MapAssert.Matches(TestMaps.Seed(), copy);
    }

    [Fact]
    public void Import_DamagedFile_ThrowsFormatAndLeavesNameAlone()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["old"] = "kept" }.Share("target", options: dir.Options);
        string file = Path.Combine(dir.Path, "damaged.bin");
        byte[] bytes = TestMaps.Build(TestMaps.Seed()).Dump();

        bytes[^1] ^= 0x01; // body damage: only Verify() sees it
        File.WriteAllBytes(file, bytes);
        Assert.Throws<SnapshotFormatException>(() => SharedMap.Import("target", file, force: true, dir.Options));
        Assert.Throws<SnapshotFormatException>(() => SharedMap.Import("fresh", file, options: dir.Options));

        File.WriteAllBytes(file, bytes.AsSpan(0, bytes.Length - 3).ToArray()); // truncated
        Assert.Throws<SnapshotFormatException>(() => SharedMap.Import("target", file, force: true, dir.Options));
        Assert.Throws<FileNotFoundException>(() => SharedMap.Import("target", Path.Combine(dir.Path, "missing.bin"), force: true, dir.Options));

        using SharedMap map = SharedMap.Open("target", dir.Options);
        Assert.Equal(1, map.Version);
        Assert.Equal("kept", map.Get("old"));
        Assert.False(SharedMap.Exists("fresh", dir.Options));
    }

    [Fact]
    public void WriteTo_LoadedAndOpenedMaps_WritesTheirExactBytes()
    {
        using var dir = new TestDirectory();
        byte[] dump = TestMaps.Build(TestMaps.Seed()).Dump();
        using (SharedMap loaded = SharedMap.Load(dump))
        {
            using var stream = new MemoryStream();
            loaded.WriteTo(stream);
            Assert.Equal(dump, stream.ToArray());
        }

        TestMaps.Build(TestMaps.Seed()).Share("written", options: dir.Options);
        using SharedMap opened = SharedMap.Open("written", dir.Options);
        using var copy = new MemoryStream();
        opened.WriteTo(copy);
        Assert.Equal(File.ReadAllBytes(opened.Path!), copy.ToArray());
        Assert.Throws<ArgumentNullException>(() => opened.WriteTo(null!));
    }
}
