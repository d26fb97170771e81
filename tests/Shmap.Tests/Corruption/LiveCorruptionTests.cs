using Shmap.Store;

namespace Shmap.Tests.Corruption;

/// <summary>A follower that finds a damaged newest snapshot keeps serving the last good one, then moves on.</summary>
public class LiveCorruptionTests
{
    [Theory]
    [InlineData(0)] // truncated to nothing
    [InlineData(1)] // truncated inside the header
    [InlineData(2)] // header byte flipped
    [InlineData(3)] // lying file_length (truncated body)
    public void Follow_DamagedNewestSnapshot_KeepsLastGoodThenTakesNextPublish(int damage)
    {
        using var dir = new TestDirectory();
        TestMaps.Build(TestMaps.Seed()).Share("live", options: dir.Options);
        using LiveSharedMap live = SharedMap.Follow("live", dir.Options);
        Assert.Equal("323", live.Get("aaa"));

        byte[] next = new SharedMapBuilder { ["aaa"] = "damaged" }.Dump();
        byte[] bytes = damage switch
        {
            0 => [],
            1 => next.AsSpan(0, 60).ToArray(),
            2 => Flip(next, 20),
            _ => next.AsSpan(0, next.Length - 1).ToArray(),
        };
        string temp = Path.Combine(dir.Path, "incoming.tmp-bad");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, Path.Combine(dir.Path, "live.shmap"), overwrite: true);
        BumpControlWord("live", dir.Options);

        // Every call still answers from version 1, without throwing.
        Assert.Equal("323", live.Get("aaa"));
        Assert.Equal(1, live.Version);
        Assert.Equal(4, live.Count);
        using (SharedMap snapshot = live.Snapshot())
        {
            MapAssert.Matches(TestMaps.Seed(), snapshot);
        }

        // The next good publish (version 3: the damaged file was recorded as 2) is taken.
        Assert.Equal(3, new SharedMapBuilder { ["aaa"] = "good again" }.Publish("live", dir.Options));
        Assert.Equal("good again", live.Get("aaa"));
        Assert.Equal(3, live.Version);
    }

    private static byte[] Flip(byte[] bytes, int position)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[position] ^= 0xFF;
        return copy;
    }

    /// <summary>What a publisher does after renaming its file into place: bump the control file's sequence.</summary>
    private static void BumpControlWord(string name, SharedMapOptions options)
    {
        using ControlFile control = ControlFile.Lock(SharedName.Create(name, options), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        control.RecordPublish(control.Version + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        control.Touch();
    }
}
