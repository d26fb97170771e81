using Shmap.Stress;
using Xunit.Abstractions;

namespace Shmap.Tests.MultiProcess;

[Collection(LiveMultiProcessCollection.Name)]
public sealed class LiveTornReadTests(ITestOutputHelper output)
{
    [Fact]
    public void Publish_300VersionsWhileTwoProcessesFollow_EveryCallSeesOneVersionNeverGoingBack()
    {
        using var dir = new TestDirectory();
        string[] target = ["--dir", dir.Path, "--name", "torn"];
        LiveStressTool.Run("publish", LiveStressTool.ExitTimeout, [.. target, "--versions", "1"]).Dispose();

        // Two follower processes reading until told to stop: one with two threads sharing the follower
        // (each with a follower of its own for zero-copy lookups), one with a single thread doing all
        // calls on one follower and a thread opening the name over and over.
        using var first = LiveStressTool.Start("follow", [.. target, "--threads", "2", "--duration", "0", "--stop-on-stdin", "--seed", "11"]);
        using var second = LiveStressTool.Start("follow", [.. target, "--threads", "1", "--openers", "1", "--duration", "0", "--stop-on-stdin", "--seed", "22"]);
        LiveStressTool.WaitReady(first);
        LiveStressTool.WaitReady(second);

        // 1 ms between publishes: on a loaded 2-core machine an unpaced writer can finish all 300
        // while a follower is descheduled, and the follower would see too few versions to test switching.
        using ChildProcess writer = LiveStressTool.Run("publish", TimeSpan.FromSeconds(120), [.. target, "--versions", "300", "--sleep-ms", "1", "--print"]);
        List<(long Version, string Tag)> published = LiveStressTool.Published(writer);
        Assert.Equal(Enumerable.Range(2, 300).Select(static v => (long)v), published.Select(static p => p.Version));

        foreach (ChildProcess follower in new[] { first, second })
        {
            Dictionary<string, string> summary = LiveStressTool.Stop(follower, "follow");
            output.WriteLine(follower.Output[^1]);
            Assert.Equal(0, summary.Long("errors"));
            Assert.Equal(301, summary.Long("final"));
            Assert.True(summary.Long("versions") >= 10, $"The follower saw only {summary["versions"]} versions: too few to test switching.\n{follower.Transcript()}");
        }

        // Old versions were unlinked as they were replaced; no temporary file is left.
        Assert.Equal(["torn.lock", "torn.shmap", "torn.wlock"], LiveStressTool.Files(dir.Path));
        using SharedMap last = SharedMap.Open("torn", dir.Options);
        Assert.Equal(301, last.Version);
        last.Verify();
    }
}
