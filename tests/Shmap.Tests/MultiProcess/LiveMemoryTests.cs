using System.Globalization;
using Shmap.Stress;
using Xunit.Abstractions;

namespace Shmap.Tests.MultiProcess;

[Collection(LiveMultiProcessCollection.Name)]
public sealed class LiveMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// Many publishes of a large map with a follower process reading throughout: once the follower
    /// has switched to each new version, it maps at most two versions and the directory's tmpfs usage
    /// (unlinked-but-mapped files included) is at most two versions plus the control file, so no
    /// version is kept past its time. By default 100 × 4 MB, which proves the bound as well as bigger
    /// runs (a leak of one version would show as 100); SHMAP_LONG_TESTS=1 runs 1,000 × 50 MB.
    /// </summary>
    [Fact]
    public void Publish_ManyLargeVersionsWhileFollowed_MemoryStaysWithinTwoVersions()
    {
        bool full = Environment.GetEnvironmentVariable("SHMAP_LONG_TESTS") == "1";
        (int publishes, int megabytes) = full ? (1000, 50) : (100, 4);
        using var dir = new TestDirectory();
        using ChildProcess run = LiveStressTool.Start("memory", "--dir", dir.Path, "--publishes", publishes.ToString(CultureInfo.InvariantCulture), "--mb", megabytes.ToString(CultureInfo.InvariantCulture));
        int exit = run.WaitForExit(full ? TimeSpan.FromHours(2) : TimeSpan.FromMinutes(5));
        foreach (string line in run.Output)
        {
            output.WriteLine(line);
        }

        Assert.True(exit == 0, $"memory run failed ({exit}).\n{run.Transcript()}");
        Dictionary<string, string> summary = LiveStressTool.Summary(run, "memory");
        long version = RoundUp(summary.Long("version_bytes"));
        Assert.True(version >= megabytes * 1024L * 1024 * 9 / 10, $"versions of {version} bytes, not ~{megabytes} MB");
        Assert.Equal(publishes, summary.Long("publishes"));
        Assert.True(summary.Long("follower_steady_bytes") <= 2 * version, $"follower mapped {summary["follower_steady_bytes"]} bytes of snapshots; two versions are {2 * version}");
        Assert.True(summary.Long("tmpfs_steady_bytes") <= (2 * version) + 4096, $"the directory held {summary["tmpfs_steady_bytes"]} bytes; two versions and the control file are {(2 * version) + 4096}");
        Assert.Contains("errors=0", run.Output.Single(static l => l.StartsWith("memory-follower: ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    private static long RoundUp(long bytes) => (bytes + 4095) / 4096 * 4096;
}
