using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shmap.Tests.Unit;

/// <summary>
/// The store's own checks, as this user (no second user needed): links, FIFOs, files others may
/// write, directories others may write, the bounded publishers' lock. The attacks by a real second
/// user are in Security/AttackTests.
/// </summary>
public partial class TrustTests
{
    private const UnixFileMode Mode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void Open_SnapshotIsASymlink_ThrowsUntrustedFileNamingIt()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["k"] = "v" }.Share("real", options: dir.Options);
        File.CreateSymbolicLink(Path.Combine(dir.Path, "alias.shmap"), Path.Combine(dir.Path, "real.shmap"));

        var e = Assert.Throws<UntrustedFileException>(() => SharedMap.Open("alias", dir.Options));
        Assert.Equal(Path.Combine(dir.Path, "alias.shmap"), e.Path);
        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Throws<UntrustedFileException>(() => SharedMap.Follow("alias", dir.Options));
    }

    [Fact]
    public void Open_SnapshotIsAFifo_ThrowsAtOnceInsteadOfBlocking()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["k"] = "v" }.Share("other", options: dir.Options);
        Mkfifo(Path.Combine(dir.Path, "f.shmap"));

        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<UntrustedFileException>(() => SharedMap.Open("f", dir.Options));
        Assert.Contains("FIFO", e.Message, StringComparison.Ordinal);
        Assert.Throws<UntrustedFileException>(() => new SharedMapBuilder { ["k"] = "v" }.Publish("f", dir.Options));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Open_SnapshotWritableByOthers_ThrowsNamingTheMode()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["k"] = "v" }.Share("w", options: dir.Options);
        File.SetUnixFileMode(Path.Combine(dir.Path, "w.shmap"), Mode600 | UnixFileMode.OtherWrite);

        var e = Assert.Throws<UntrustedFileException>(() => SharedMap.Open("w", dir.Options));
        Assert.Contains("writable by group or other", e.Message, StringComparison.Ordinal);
        Assert.Contains("0602", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Share_DirectoryWritableByOthersWithoutSticky_ThrowsAndWritesNothing()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        File.SetUnixFileMode(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);

        var e = Assert.Throws<UntrustedFileException>(() => new SharedMapBuilder { ["k"] = "v" }.Share("x", options: dir.Options));
        Assert.Equal(dir.Path, e.Path);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));

        // Sticky, as /tmp: allowed.
        File.SetUnixFileMode(dir.Path, File.GetUnixFileMode(dir.Path) | UnixFileMode.StickyBit);
        new SharedMapBuilder { ["k"] = "v" }.Share("x", options: dir.Options);
        using SharedMap map = SharedMap.Open("x", dir.Options);
        Assert.Equal("v", map.Get("k"));
    }

    [Fact]
    public void Share_DirectoryIsASymlink_Throws()
    {
        using var dir = new TestDirectory();
        using var target = new TestDirectory();
        Directory.CreateDirectory(target.Path);
        Directory.CreateSymbolicLink(dir.Path, target.Path);

        var e = Assert.Throws<UntrustedFileException>(() => new SharedMapBuilder { ["k"] = "v" }.Share("x", options: dir.Options));
        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(target.Path));
        File.Delete(dir.Path);
    }

    [Fact]
    public void Publish_LockHeldByAnotherHolder_TimesOutNamingThePid()
    {
        using var dir = new TestDirectory();
        SharedMapOptions options = dir.Options with { LockTimeout = TimeSpan.FromMilliseconds(300) };
        new SharedMapBuilder { ["k"] = "v1" }.Share("held", options: options);

        // flock locks belong to an open file description: a second open in this process conflicts.
        using (var holder = new FileStream(Path.Combine(dir.Path, "held.wlock"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            Assert.Equal(0, Flock(holder.SafeFileHandle, 2 | 4)); // LOCK_EX | LOCK_NB
            var clock = Stopwatch.StartNew();
            var e = Assert.Throws<SharedMapLockTimeoutException>(() => new SharedMapBuilder { ["k"] = "v2" }.Publish("held", options));
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
            Assert.Equal(Environment.ProcessId, e.HolderPid);
            Assert.Contains($"process {Environment.ProcessId} holds it", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(2, new SharedMapBuilder { ["k"] = "v2" }.Publish("held", options));
    }

    [Fact]
    public void Publish_ControlFileOfAnImpossibleVersion_RefusedAndNothingChanges()
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["k"] = "v1" }.Share("v", options: dir.Options);
        using (var control = new FileStream(Path.Combine(dir.Path, "v.lock"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            control.Position = 24;
            control.Write(BitConverter.GetBytes(long.MaxValue - 1));
        }

        var e = Assert.Throws<ShmapException>(() => new SharedMapBuilder { ["k"] = "v2" }.Publish("v", dir.Options));
        Assert.Contains("no publisher could have reached", e.Message, StringComparison.Ordinal);
        using SharedMap map = SharedMap.Open("v", dir.Options);
        Assert.Equal(("v1", 1L), (map.Get("k"), map.Version));
    }

    [Fact]
    public void Import_InvalidCopy_NothingPublishedAndNoTempFileLeft()
    {
        using var dir = new TestDirectory();
        byte[] bytes = new SharedMapBuilder { ["a"] = "1", ["b"] = "2" }.Dump();
        bytes[^1] ^= 0x55; // the body checksum no longer matches: only a full verification sees it
        string source = Path.Combine(dir.Path + "-src.shmap");
        File.WriteAllBytes(source, bytes);
        try
        {
            Assert.Throws<SnapshotFormatException>(() => SharedMap.Import("imp", source, options: dir.Options));
            Assert.False(SharedMap.Exists("imp", dir.Options));
            Assert.DoesNotContain(Directory.GetFiles(dir.Path), static f => f.EndsWith(".tmp", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Theory]
    [InlineData("abc\u202Etxt.exe")]
    [InlineData("zero\u200Bwidth")]
    [InlineData("\uFEFFbom")]
    [InlineData("isolate\u2066x")]
    public void Names_WithFormatCharacters_AreRefused(string name)
    {
        using var dir = new TestDirectory();
        var e = Assert.Throws<ArgumentException>(() => new SharedMapBuilder { ["k"] = "v" }.Share(name, options: dir.Options));
        Assert.Contains("format character", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SharedMap.Open(name, dir.Options));
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "mkfifo", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeMkfifo(string path, int mode);

    private static void Mkfifo(string path) => Assert.Equal(0, NativeMkfifo(path, 0x180));
}
