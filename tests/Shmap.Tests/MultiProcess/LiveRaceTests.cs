using System.Globalization;
using Shmap.Stress;
using Xunit.Abstractions;

namespace Shmap.Tests.MultiProcess;

[Collection(LiveMultiProcessCollection.Name)]
public sealed class LiveRaceTests(ITestOutputHelper output)
{
    private const int PerPublisher = 150;

    [Fact]
    public void TwoPublishers_RaceOnOneName_VersionsDistinctIncreasingAndComplete()
    {
        using var dir = new TestDirectory();
        string[] target = ["--dir", dir.Path, "--name", "race"];
        string[] common = [.. target, "--tag", "id", "--print"];
        LiveStressTool.Run("publish", LiveStressTool.ExitTimeout, [.. common, "--id", "init", "--versions", "1"]).Dispose();

        // The follower checks every version it meets is complete (count, extras, every value's tag)
        // and prints which tag each version number carried.
        using var follower = LiveStressTool.Start("follow", [.. target, "--tag", "id", "--threads", "2", "--openers", "1", "--duration", "0", "--stop-on-stdin", "--print-versions", "--seed", "7"]);
        LiveStressTool.WaitReady(follower);

        using var a = LiveStressTool.Start("publish", [.. common, "--id", "A", "--versions", PerPublisher.ToString(CultureInfo.InvariantCulture)]);
        using var b = LiveStressTool.Start("publish", [.. common, "--id", "B", "--versions", PerPublisher.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(a.WaitForExit(TimeSpan.FromSeconds(120)) == 0, a.Transcript());
        Assert.True(b.WaitForExit(TimeSpan.FromSeconds(120)) == 0, b.Transcript());

        List<(long Version, string Tag)> fromA = LiveStressTool.Published(a);
        List<(long Version, string Tag)> fromB = LiveStressTool.Published(b);
        Assert.Equal(PerPublisher, fromA.Count);
        Assert.Equal(PerPublisher, fromB.Count);
        foreach (List<(long Version, string Tag)> own in new[] { fromA, fromB })
        {
            Assert.True(own.Zip(own.Skip(1)).All(static p => p.First.Version < p.Second.Version), "a publisher's versions must increase");
        }

        // Each publish got its own number, and together they are exactly 2..301.
        var byVersion = fromA.Concat(fromB).ToDictionary(static p => p.Version, static p => p.Tag);
        Assert.Equal(Enumerable.Range(2, 2 * PerPublisher).Select(static v => (long)v), byVersion.Keys.Order());
        byVersion[1] = "init.0";
        int interleavings = fromA.Count(p => byVersion.TryGetValue(p.Version + 1, out string? next) && next.StartsWith('B'));
        output.WriteLine($"A's versions followed directly by one of B's: {interleavings}");

        Dictionary<string, string> summary = LiveStressTool.Stop(follower, "follow");
        output.WriteLine(follower.Output[^1]);
        Assert.Equal(0, summary.Long("errors"));
        Assert.Equal(2 * PerPublisher + 1, summary.Long("final"));

        // Every version the follower checked carried the tag of the publish that got that number.
        List<string[]> seen = [.. follower.Output.Where(static l => l.StartsWith("version ", StringComparison.Ordinal)).Select(static l => l.Split(' '))];
        Assert.True(seen.Count >= 10, $"The follower checked only {seen.Count} versions.\n{follower.Transcript()}");
        Assert.All(seen, f => Assert.Equal(byVersion[long.Parse(f[1], CultureInfo.InvariantCulture)], f[2]));
        Assert.Equal(["race.lock", "race.shmap", "race.wlock"], LiveStressTool.Files(dir.Path));
    }
}
