using System.Text;

namespace Shmap.Tests.Unit;

/// <summary>Shared names: validation, Share/Publish/Open/Exists/Delete semantics, versions, file modes.</summary>
public class SharedNameTests
{
    private const UnixFileMode Mode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode700 = Mode600 | UnixFileMode.UserExecute;

    // Kept out of InlineData: lone surrogates and control characters do not survive test-case serialization.
    private static readonly string[] s_invalidNames =
    [
        "", "/", "a/b", "/abs", "..", ".", "\\", "a\\b", "a\0b", "\0", "a\u0001", "tab\t", "line\n", "\u007F", "\u0085",
        new('a', 201), new('红', 67), "\uD800", "a\uDC00", "x\uD83D",
    ];

    private static readonly string[] s_validNames =
    [
        "test:3325", "a", "with space", "ünïcødé-红", "😀", new('a', 200), new('红', 66), ".hidden", "a.shmap", "a.lock", "-dash", "glob*?[x]", "a.1",
    ];

    public static TheoryData<int> InvalidNameIndexes => [.. Enumerable.Range(0, s_invalidNames.Length)];

    public static TheoryData<int> ValidNameIndexes => [.. Enumerable.Range(0, s_validNames.Length)];

    [Theory]
    [MemberData(nameof(InvalidNameIndexes))]
    public void EveryNameApi_InvalidName_ThrowsArgumentExceptionAndTouchesNothing(int which)
    {
        string name = s_invalidNames[which];
        using var dir = new TestDirectory();
        var builder = new SharedMapBuilder { ["k"] = "v" };
        Assert.ThrowsAny<ArgumentException>(() => builder.Share(name, options: dir.Options));
        Assert.ThrowsAny<ArgumentException>(() => builder.Share(name, force: true, dir.Options));
        Assert.ThrowsAny<ArgumentException>(() => builder.Publish(name, dir.Options));
        Assert.ThrowsAny<ArgumentException>(() => SharedMap.Open(name, dir.Options));
        Assert.ThrowsAny<ArgumentException>(() => SharedMap.Exists(name, dir.Options));
        Assert.ThrowsAny<ArgumentException>(() => SharedMap.Delete(name, dir.Options));
        Assert.False(Directory.Exists(dir.Path), "an invalid name created the directory");
    }

    [Fact]
    public void EveryNameApi_NullName_ThrowsArgumentNull()
    {
        using var dir = new TestDirectory();
        var builder = new SharedMapBuilder();
        Assert.Throws<ArgumentNullException>(() => builder.Share(null!, options: dir.Options));
        Assert.Throws<ArgumentNullException>(() => SharedMap.Open(null!, dir.Options));
        Assert.Throws<ArgumentNullException>(() => SharedMap.Exists(null!, dir.Options));
        Assert.Throws<ArgumentNullException>(() => SharedMap.Delete(null!, dir.Options));
    }

    [Theory]
    [MemberData(nameof(ValidNameIndexes))]
    public void ShareOpenDelete_ValidName_RoundTrips(int which)
    {
        string name = s_validNames[which];
        using var dir = new TestDirectory();
        Assert.False(SharedMap.Exists(name, dir.Options));
        TestMaps.Build(TestMaps.Seed()).Share(name, options: dir.Options);
        Assert.True(SharedMap.Exists(name, dir.Options));
        Assert.True(File.Exists(Path.Combine(dir.Path, name + ".shmap")));
        using (SharedMap map = SharedMap.Open(name, dir.Options))
        {
            Assert.Equal(name, map.Name);
            MapAssert.Matches(TestMaps.Seed(), map);
        }

        Assert.True(SharedMap.Delete(name, dir.Options));
        Assert.False(SharedMap.Exists(name, dir.Options));
    }

    [Fact]
    public void Share_Twice_ThrowsExistsAndLeavesMapUnchanged()
    {
        using var dir = new TestDirectory();
        TestMaps.Build(TestMaps.Seed()).Share("test:3325", options: dir.Options);
        string path = Path.Combine(dir.Path, "test:3325.shmap");
        byte[] before = File.ReadAllBytes(path);

        var other = new SharedMapBuilder { ["aaa"] = "changed" };
        SharedMapExistsException e = Assert.Throws<SharedMapExistsException>(() => other.Share("test:3325", force: false, dir.Options));
        Assert.Equal("test:3325", e.Name);
        Assert.Equal(path, e.Path);
        Assert.IsAssignableFrom<ShmapException>(e);

        Assert.Equal(before, File.ReadAllBytes(path));
        using SharedMap map = SharedMap.Open("test:3325", dir.Options);
        Assert.Equal("323", map.Get("aaa"));
        Assert.Equal(1, map.Version);
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp", new EnumerationOptions { AttributesToSkip = 0 }));
    }

    [Fact]
    public void Share_Force_ReplacesAndIncrementsVersion()
    {
        using var dir = new TestDirectory();
        DateTimeOffset start = DateTimeOffset.UtcNow.AddSeconds(-1);
        TestMaps.Build(TestMaps.Seed()).Share("v", options: dir.Options);
        using SharedMap first = SharedMap.Open("v", dir.Options);
        Assert.Equal(1, first.Version);
        Assert.InRange(first.PublishedAt!.Value, start, DateTimeOffset.UtcNow.AddSeconds(1));

        new SharedMapBuilder { ["aaa"] = "second" }.Share("v", force: true, dir.Options);
        using (SharedMap second = SharedMap.Open("v", dir.Options))
        {
            Assert.Equal(2, second.Version);
            Assert.Equal("second", second.Get("aaa"));
            Assert.Single(second);
        }

        Assert.Equal(3, new SharedMapBuilder { ["aaa"] = "third" }.Publish("v", dir.Options));
        using (SharedMap third = SharedMap.Open("v", dir.Options))
        {
            Assert.Equal(3, third.Version);
            Assert.Equal("third", third.Get("aaa"));
        }

        // The map opened first still reads its own snapshot.
        Assert.Equal(1, first.Version);
        MapAssert.Matches(TestMaps.Seed(), first);
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.tmp", new EnumerationOptions { AttributesToSkip = 0 }));
    }

    [Fact]
    public void Publish_NewName_StartsAtVersionOne()
    {
        using var dir = new TestDirectory();
        Assert.Equal(1, new SharedMapBuilder().Publish("p", dir.Options));
        Assert.Equal(2, new SharedMapBuilder().Publish("p", dir.Options));
        Assert.Throws<SharedMapExistsException>(() => new SharedMapBuilder().Share("p", options: dir.Options));
    }

    [Fact]
    public void Delete_ExistsAndOpen_FollowDeletion()
    {
        using var dir = new TestDirectory();
        Assert.False(SharedMap.Delete("d", dir.Options));
        Assert.False(Directory.Exists(dir.Path), "Delete of a missing name created the directory");
        SharedMapNotFoundException missingDir = Assert.Throws<SharedMapNotFoundException>(() => SharedMap.Open("d", dir.Options));
        Assert.Equal("d", missingDir.Name);

        TestMaps.Build(TestMaps.Seed()).Share("d", options: dir.Options);
        Assert.Throws<SharedMapNotFoundException>(() => SharedMap.Open("other", dir.Options));
        using SharedMap held = SharedMap.Open("d", dir.Options);

        Assert.True(SharedMap.Delete("d", dir.Options));
        Assert.False(SharedMap.Exists("d", dir.Options));
        Assert.False(SharedMap.Delete("d", dir.Options));
        SharedMapNotFoundException gone = Assert.Throws<SharedMapNotFoundException>(() => SharedMap.Open("d", dir.Options));
        Assert.Equal(Path.Combine(dir.Path, "d.shmap"), gone.Path);

        // Maps already open keep working after the delete.
        MapAssert.Matches(TestMaps.Seed(), held);

        // Sharing again (without force) works, and the numbering continues.
        new SharedMapBuilder { ["new"] = "1" }.Share("d", options: dir.Options);
        using SharedMap again = SharedMap.Open("d", dir.Options);
        Assert.Equal(2, again.Version);
        Assert.Equal("1", again.Get("new"));
    }

    [Fact]
    public void Delete_SnapshotWithoutControlFile_RemovesIt()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        File.WriteAllBytes(Path.Combine(dir.Path, "copied.shmap"), TestMaps.Build(TestMaps.Seed()).Dump());
        using (SharedMap map = SharedMap.Open("copied", dir.Options))
        {
            Assert.Equal(0, map.Version); // never published: copied in by hand
            Assert.Equal("323", map.Get("aaa"));
        }

        Assert.True(SharedMap.Delete("copied", dir.Options));
        Assert.False(SharedMap.Exists("copied", dir.Options));
    }

    [Fact]
    public void Share_DefaultMode_OwnerOnlyFilesAndDirectory()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["k"] = "v" }.Share("m", options: dir.Options);
        Assert.Equal(Mode600, File.GetUnixFileMode(Path.Combine(dir.Path, "m.shmap")));
        Assert.Equal(Mode600, File.GetUnixFileMode(Path.Combine(dir.Path, "m.lock")));
        Assert.Equal(Mode700, File.GetUnixFileMode(dir.Path));

        // A replacement keeps the mode.
        new SharedMapBuilder { ["k"] = "w" }.Share("m", force: true, dir.Options);
        Assert.Equal(Mode600, File.GetUnixFileMode(Path.Combine(dir.Path, "m.shmap")));
    }

    [Fact]
    public void Share_GroupReadMode_Gives0640AndGroupSearchableDirectory()
    {
        using var dir = new TestDirectory();
        SharedMapOptions options = dir.Options with { FileMode = Mode600 | UnixFileMode.GroupRead };
        new SharedMapBuilder { ["k"] = "v" }.Share("g", options: options);
        Assert.Equal(Mode600 | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(dir.Path, "g.shmap")));
        Assert.Equal(Mode700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(dir.Path));
        using SharedMap map = SharedMap.Open("g", options);
        Assert.Equal("v", map.Get("k"));
    }

    [Fact]
    public void Share_WorldReadMode_Gives0644()
    {
        using var dir = new TestDirectory();
        const UnixFileMode Mode644 = Mode600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        new SharedMapBuilder { ["k"] = "v" }.Share("w", options: dir.Options with { FileMode = Mode644 });
        Assert.Equal(Mode644, File.GetUnixFileMode(Path.Combine(dir.Path, "w.shmap")));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead)]
    [InlineData(UnixFileMode.UserWrite)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.SetUser)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherExecute)]
    public void Share_InvalidFileMode_ThrowsArgumentException(UnixFileMode mode)
    {
        using var dir = new TestDirectory();
        Assert.ThrowsAny<ArgumentException>(() => new SharedMapBuilder().Share("bad-mode", options: dir.Options with { FileMode = mode }));
        Assert.False(File.Exists(Path.Combine(dir.Path, "bad-mode.shmap")));
    }

    [Fact]
    public void Share_StaleTempFiles_RemovesOnlyThisNamesLeftovers()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string hex = new('a', 32);
        string stale = Path.Combine(dir.Path, $".t.12345.{hex}.tmp");
        string otherName = Path.Combine(dir.Path, $".t.1.12345.{hex}.tmp"); // name "t.1"
        string notTemp = Path.Combine(dir.Path, ".t.notes.tmp");
        foreach (string path in new[] { stale, otherName, notTemp })
        {
            File.WriteAllText(path, "leftover");
        }

        new SharedMapBuilder().Share("t", options: dir.Options);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(otherName));
        Assert.True(File.Exists(notTemp));
    }

    [Fact]
    public void Share_OverDamagedFile_ForceReplacesIt()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string path = Path.Combine(dir.Path, "damaged.shmap");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("not a snapshot"));
        Assert.True(SharedMap.Exists("damaged", dir.Options));
        Assert.Throws<SnapshotFormatException>(() => SharedMap.Open("damaged", dir.Options));
        Assert.Throws<SharedMapExistsException>(() => new SharedMapBuilder().Share("damaged", options: dir.Options));

        new SharedMapBuilder { ["k"] = "v" }.Share("damaged", force: true, dir.Options);
        using SharedMap map = SharedMap.Open("damaged", dir.Options);
        Assert.Equal("v", map.Get("k"));
        Assert.Equal(1, map.Version);
    }
}

/// <summary>Tests that change process-wide state (environment variables) run alone.</summary>
[CollectionDefinition(nameof(EnvironmentCollection), DisableParallelization = true)]
public sealed class EnvironmentCollection
{
}

[Collection(nameof(EnvironmentCollection))]
public class SharedMapDirectoryVariableTests
{
    [Fact]
    public void DefaultOptions_ShmapDirSet_UsesIt()
    {
        using var dir = new TestDirectory();
        string? saved = Environment.GetEnvironmentVariable("SHMAP_DIR");
        string? savedRuntime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        try
        {
            Environment.SetEnvironmentVariable("SHMAP_DIR", dir.Path);
            Assert.Equal(dir.Path, SharedMapOptions.Default.ResolvedDirectory);
            new SharedMapBuilder { ["k"] = "env" }.Share("from-env");
            Assert.True(File.Exists(Path.Combine(dir.Path, "from-env.shmap")));
            Assert.True(SharedMap.Exists("from-env"));
            using (SharedMap map = SharedMap.Open("from-env"))
            {
                Assert.Equal("env", map.Get("k"));
                Assert.Equal(Path.Combine(dir.Path, "from-env.shmap"), map.Path);
            }

            // An explicit directory wins over the variable.
            using var explicitDir = new TestDirectory();
            Assert.False(SharedMap.Exists("from-env", explicitDir.Options));
            Assert.Equal(explicitDir.Path, explicitDir.Options.ResolvedDirectory);

            Assert.True(SharedMap.Delete("from-env"));
            Assert.False(SharedMap.Exists("from-env"));

            // Without SHMAP_DIR: the user's runtime directory when there is one, else a per-user
            // directory under /dev/shm (no user can squat or collide with another's).
            Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", null);
            string perUser = "/dev/shm/shmap-" + EffectiveUserId();
            Environment.SetEnvironmentVariable("SHMAP_DIR", string.Empty);
            Assert.Equal(perUser, SharedMapOptions.Default.ResolvedDirectory);
            Environment.SetEnvironmentVariable("SHMAP_DIR", null);
            Assert.Equal(perUser, SharedMapOptions.Default.ResolvedDirectory);
            Assert.Equal(perUser, new SharedMapOptions().ResolvedDirectory);
            Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", "/run/user/4242");
            Assert.Equal("/run/user/4242/shmap", SharedMapOptions.Default.ResolvedDirectory);
            Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", "relative/dir");
            Assert.Equal(perUser, SharedMapOptions.Default.ResolvedDirectory);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SHMAP_DIR", saved);
            Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", savedRuntime);
        }
    }

    /// <summary>The effective uid, from the second field of /proc/self/status's Uid line.</summary>
    internal static string EffectiveUserId() =>
        File.ReadLines("/proc/self/status").First(static l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
}
