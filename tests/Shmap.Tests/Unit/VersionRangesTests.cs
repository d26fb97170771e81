using System.Globalization;
using System.Text;
using Shmap.Reading;

namespace Shmap.Tests.Unit;

/// <summary>
/// The ranges a follower maps its versions into: a reader of a version that was let go (a
/// follower's late call) reads zeros or a later version's bytes inside the range, and never
/// throws from the lenient lookup, crashes, or reads outside it.
/// </summary>
public class VersionRangesTests
{
    [Fact]
    public void Map_VersionLetGo_RangeZeroedThenReusedAndTheOldReaderStaysSafe()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string first = Write(dir, "a", Entries("a", 3000));
        string second = Write(dir, "b", Entries("bb", 2500));
        var ranges = new VersionRanges();

        SnapshotReader old = new(ranges.Map(Open(first)));
        byte[][] keys = [.. Entries("a", 3000).Keys.Concat(Entries("bb", 2500).Keys).Select(static k => Encoding.UTF8.GetBytes(k))];
        Assert.True(old.TryGetValue(keys[0], out _));
        old.Release();

        // Zeroed: every lookup answers "absent" (all slots empty), none throws.
        Assert.All(keys, key => Assert.Equal(0UL, old.TryFind(key, out _)));

        // The next version lands in the same range; the old reader reads its bytes with the old layout.
        SnapshotReader next = new(ranges.Map(Open(second)));
        Assert.True(SameStart(next, old), "the zeroed range was not reused");
        int answered = 0;
        foreach (byte[] key in keys)
        {
            ulong offset = old.TryFind(key, out ReadOnlySpan<byte> value);
            if (offset is not 0 and not SnapshotReader.Unreadable)
            {
                answered++;
                Assert.True(value.Length <= new FileInfo(first).Length);
            }

            _ = StringLookup.Find(old, Encoding.UTF8.GetString(key), out _);
        }

        // The new version answers correctly from the reused range.
        Assert.All(Entries("bb", 2500), e => Assert.True(next.TryGetValue(Encoding.UTF8.GetBytes(e.Key), out ReadOnlySpan<byte> v) && Encoding.UTF8.GetString(v) == e.Value));
        Assert.True(answered < keys.Length);
        next.Release();
        ranges.Close();
    }

    [Fact]
    public void Map_LargerVersion_ReservesALargerRangeAndDropsTheSmallOne()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        var ranges = new VersionRanges();
        SnapshotReader small = new(ranges.Map(Open(Write(dir, "s", Entries("s", 100)))));
        long one = ranges.ReservedBytes;
        Assert.True(one >= new FileInfo(Path.Combine(dir.Path, "s.shmap")).Length);
        small.Release();
        Assert.Equal(one, ranges.ReservedBytes); // kept for reuse

        // Larger than the range (2 MB granules with 25% headroom): a new one, the small one kept free.
        string big = Write(dir, "big", Entries(new string('x', 200), 20_000));
        Assert.True(new FileInfo(big).Length > one);
        SnapshotReader large = new(ranges.Map(Open(big)));
        Assert.True(ranges.ReservedBytes > one);
        Assert.True(large.TryGetValue(Encoding.UTF8.GetBytes("k00001"), out _));
        large.Release();
        ranges.Close();
        Assert.Equal(0, ranges.ReservedBytes);
    }

    private static SortedDictionary<string, string> Entries(string value, int count)
    {
        SortedDictionary<string, string> entries = Utf8Order.NewModel();
        for (int i = 0; i < count; i++)
        {
            entries["k" + i.ToString("D5", CultureInfo.InvariantCulture)] = value + i.ToString(CultureInfo.InvariantCulture);
        }

        return entries;
    }

    private static string Write(TestDirectory dir, string name, SortedDictionary<string, string> entries)
    {
        string path = Path.Combine(dir.Path, name + ".shmap");
        using FileStream file = File.Create(path);
        TestMaps.Build(entries).WriteTo(file);
        return path;
    }

    private static unsafe bool SameStart(SnapshotReader a, SnapshotReader b) => a.Base == b.Base;

    private static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1);
}
