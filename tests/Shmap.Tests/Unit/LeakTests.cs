using System.Globalization;
using System.Runtime.CompilerServices;

namespace Shmap.Tests.Unit;

/// <summary>
/// Maps that are never disposed give their memory back once unreachable: a <see cref="SharedMap.Load(byte[])"/>
/// copy (native memory) and an opened mapping. Measured from /proc/self (the process's own view),
/// (/proc/self/maps, RssAnon + RssShmem) after dropping many maps of a few MB and forcing collections. Run alone (no parallel tests
/// allocating in the same process while RSS is read).
/// </summary>
[Collection(nameof(LeakCollection))]
public class LeakTests
{
    private const int Maps = 200;

    [Fact]
    public void Load_DroppedWithoutDispose_NativeCopiesAreFreed()
    {
        byte[] snapshot = BuildSnapshot();
        long all = (long)Maps * snapshot.Length;
        Collect();
        long before = Resident();

        long held = LoadHoldAndDrop(snapshot);
        Assert.True(held - before > all / 2, $"the measure does not see the copies: resident {before} -> {held} bytes while holding {Maps} copies of {snapshot.Length} bytes");

        Collect();
        long after = Resident();
        Assert.True(after - before < all / 4, $"{Maps} undisposed copies of {snapshot.Length} bytes were not freed: resident {before} -> {held} (held) -> {after} bytes after collecting");
    }

    [Fact]
    public void Open_DroppedWithoutDispose_MappingsAreUnmapped()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string path = Path.Combine(dir.Path, "leak.shmap");
        using (FileStream file = File.Create(path))
        {
            file.Write(BuildSnapshot());
        }

        Collect();
        int held = OpenHoldAndDrop(path);
        Assert.Equal(Maps, held);

        Collect();
        Assert.Equal(0, MappingsOf(path));
    }

    /// <summary>Loads <see cref="Maps"/> copies, reads from each, and drops them all; returns the resident memory while they were held.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long LoadHoldAndDrop(byte[] snapshot)
    {
        var maps = new List<SharedMap>();
        for (int i = 0; i < Maps; i++)
        {
            SharedMap map = SharedMap.Load(snapshot);
            Assert.Equal(Value(i), map.Get(Key(i)));
            maps.Add(map);
        }

        long held = Resident();
        GC.KeepAlive(maps);
        return held;
    }

    /// <summary>Opens the file <see cref="Maps"/> times, reads from each, and drops them all; returns how many mappings of it were seen while held.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int OpenHoldAndDrop(string path)
    {
        var maps = new List<SharedMap>();
        for (int i = 0; i < Maps; i++)
        {
            SharedMap map = SharedMap.OpenFile(path);
            Assert.Equal(Value(i), map.Get(Key(i)));
            maps.Add(map);
        }

        int held = MappingsOf(path);
        GC.KeepAlive(maps);
        return held;
    }

    /// <summary>A snapshot of about 2.5 MB.</summary>
    private static byte[] BuildSnapshot()
    {
        var builder = new SharedMapBuilder();
        for (int i = 0; i < 20_000; i++)
        {
            builder.Set(Key(i), Value(i));
        }

        return builder.Dump();
    }

    private static string Key(int i) => "key" + i.ToString("D6", CultureInfo.InvariantCulture);

    private static string Value(int i) => i.ToString(CultureInfo.InvariantCulture).PadLeft(100, 'v');

    private static void Collect()
    {
        for (int i = 0; i < 4; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>Lines of /proc/self/maps that map <paramref name="path"/>.</summary>
    private static int MappingsOf(string path) => File.ReadLines("/proc/self/maps").Count(line => line.EndsWith(" " + path, StringComparison.Ordinal));

    /// <summary>Resident memory of this process that is not file cache: RssAnon + RssShmem of /proc/self/status (a large copy is anonymous shared memory), in bytes.</summary>
    private static long Resident() => Status("RssAnon:") + Status("RssShmem:");

    private static long Status(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/self/status has no {field} line.");
    }
}

[CollectionDefinition(nameof(LeakCollection), DisableParallelization = true)]
public sealed class LeakCollection
{
}
