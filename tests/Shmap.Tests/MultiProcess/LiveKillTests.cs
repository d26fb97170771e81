using System.Globalization;
using Shmap.Stress;
using Xunit.Abstractions;

namespace Shmap.Tests.MultiProcess;

[Collection(LiveMultiProcessCollection.Name)]
public sealed class LiveKillTests(ITestOutputHelper output)
{
    private const int Kills = 50;

    [Fact]
    public void Publisher_KilledAtRandomPoints_ReadersSeeOnlyCompleteVersionsAndNextPublishCleansUp()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using var dir = new TestDirectory();
        string[] target = ["--dir", dir.Path, "--name", "kill"];
        // ~250 KB snapshots: a publish takes a few ms, so random kill times land in every phase of one.
        string[] shape = ["--keys", "1000", "--pad", "200"];
        LiveStressTool.Run("publish", LiveStressTool.ExitTimeout, [.. target, .. shape, "--versions", "1"]).Dispose();

        // One reading thread (zero-copy lookups too): the publishers started 50 times need the other core.
        // This test opens and verifies the name after every kill itself.
        using var follower = LiveStressTool.Start("follow", [.. target, "--threads", "1", "--duration", "0", "--stop-on-stdin", "--seed", seed.ToString(CultureInfo.InvariantCulture)]);
        LiveStressTool.WaitReady(follower);

        long lastPrinted = 1;
        long lastOpened = 1;
        int killedWithTemp = 0;
        var stale = new List<string>();
        string[] publisherArguments = [.. target, .. shape, "--versions", "0", "--print", "--wait-go", "--stop-on-stdin"];
        ChildProcess next = LiveStressTool.Start("publish", publisherArguments);
        try
        {
            for (int round = 0; round < Kills; round++)
            {
                // The next publisher starts up while this one runs; it waits for "go".
                using ChildProcess publisher = next;
                LiveStressTool.WaitReady(publisher);
                publisher.WriteLine("go");
                next = LiveStressTool.Start("publish", publisherArguments);

                // Kill a few ms after its first publish: somewhere in a later publish, at a random point.
                publisher.WaitForLine(static l => l.StartsWith("published ", StringComparison.Ordinal), LiveStressTool.StartTimeout);
                Thread.Sleep(random.Next(0, 30));
                publisher.Kill();
                Assert.True(publisher.HasExited);

                // Temp files a killed publisher left must be gone: this round published after them.
                Assert.All(stale, static path => Assert.False(File.Exists(path), $"stale temp file {path} survived a later publish"));
                stale = [.. Directory.GetFiles(dir.Path, "*.tmp")];
                killedWithTemp += stale.Count > 0 ? 1 : 0;

                List<(long Version, string Tag)> published = LiveStressTool.Published(publisher);
                Assert.NotEmpty(published);
                Assert.True(published[0].Version > lastPrinted, $"round {round}: version {published[0].Version} after {lastPrinted}");
                Assert.True(published.Zip(published.Skip(1)).All(static p => p.First.Version < p.Second.Version));
                lastPrinted = published[^1].Version;

                // What the kill left under the name is a whole version, no older than any printed.
                using SharedMap left = SharedMap.Open("kill", dir.Options);
                left.Verify();
                Assert.True(left.Version >= lastPrinted && left.Version >= lastOpened, $"round {round}: left version {left.Version}, printed {lastPrinted}, opened before {lastOpened}");
                lastOpened = left.Version;
            }
        }
        finally
        {
            next.Dispose();
        }

        output.WriteLine($"{Kills} kills, {killedWithTemp} left a temp file; last version printed {lastPrinted}, left {lastOpened}");

        // A fake leftover too, so cleaning is checked even if the last kill left none.
        string fake = Path.Combine(dir.Path, ".kill.999999." + Guid.NewGuid().ToString("N") + ".tmp");
        File.WriteAllBytes(fake, new byte[100]);
        using ChildProcess last = LiveStressTool.Run("publish", LiveStressTool.ExitTimeout, [.. target, .. shape, "--versions", "1", "--print"]);
        long final = Assert.Single(LiveStressTool.Published(last)).Version;
        Assert.True(final > lastOpened);
        Assert.Equal(["kill.lock", "kill.shmap", "kill.wlock"], LiveStressTool.Files(dir.Path));

        Dictionary<string, string> summary = LiveStressTool.Stop(follower, "follow");
        output.WriteLine(follower.Output[^1]);
        Assert.Equal(0, summary.Long("errors"));
        Assert.Equal(final, summary.Long("final"));
        Assert.True(summary.Long("versions") >= 10, $"The follower saw only {summary["versions"]} versions.\n{follower.Transcript()}");
    }
}
