using System.Diagnostics;
using System.Globalization;

namespace Shmap.Stress.Commands;

/// <summary>
/// <c>memory</c>: publishes <c>--publishes</c> versions of a map of about <c>--mb</c> MiB while a
/// follower process reads it throughout, and checks that old versions are given back: once the
/// follower has switched to a new version, the follower maps at most two versions (current and
/// previous) and the directory's tmpfs usage, unlinked-but-mapped files included, is at most two
/// versions plus the control file. Also samples continuously, unsynchronised with publishing, and
/// reports the highest figures seen (a publish in progress adds its temporary file, a switch maps the
/// new version before unmapping the oldest: three versions for a moment is expected there).
/// Exits 1 when a bound is exceeded or the follower reports an error. The steady check reads the
/// mappings of every process on the machine; the continuous one, of this process and the follower.
/// </summary>
internal static class MemoryCommand
{
    public static int Run(Options options)
    {
        (Target target, PrivateDirectory? owned) = Target.OwnedFromOptions(options, "memory");
        using PrivateDirectory? cleanup = owned;
        int publishes = options.Int("publishes", 200);
        double mb = options.Double("mb", 20);
        int keys = options.Int("keys", 1000);
        int followerThreads = options.Int("follower-threads", 1);
        options.ThrowOnUnused();

        // Values of ~pad bytes: key, tag and separators add ~20.
        int pad = (int)Math.Max(0, (mb * 1024 * 1024 / keys) - 40);
        var map = new StressMap(keys, pad);
        var builder = new SharedMapBuilder();
        map.Fill(builder, "1", StressMap.ExtrasFor(1));
        if (builder.Publish(target.Name, target.Options) != 1)
        {
            Console.Error.WriteLine($"memory: '{target.Name}' already exists in {target.Directory}; use a fresh --dir.");
            return 2;
        }

        // One follower, no held snapshots: what it maps is what LiveSharedMap keeps.
        using ChildProcess follower = Self.Start("follow", [.. target.Arguments(), "--threads", followerThreads.ToString(CultureInfo.InvariantCulture), "--hold", "0", "--duration", "0", "--stop-on-stdin", "--span-reads", followerThreads == 1 ? "shared" : "own"]);
        follower.WaitForLine(static l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var any = new Maxima();
        using var stopSampling = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            int[] pids = [follower.Id, Environment.ProcessId];
            while (!stopSampling.IsCancellationRequested)
            {
                any.Follower = Math.Max(any.Follower, ProcMemory.SnapshotBytesMapped(follower.Id, target.Directory).Bytes);
                any.Tmpfs = Math.Max(any.Tmpfs, ProcMemory.DirectoryUsage(target.Directory, pids, pids).Bytes);
                stopSampling.Token.WaitHandle.WaitOne(5);
            }
        })
        { IsBackground = true, Name = "sampler" };
        sampler.Start();

        var steady = new Maxima();
        long versionBytes = new FileInfo(target.SnapshotPath).Length;
        var publishMs = new List<double>(publishes);
        long started = Stopwatch.GetTimestamp();
        string? failure = null;
        for (long version = 2; version <= publishes + 1 && failure is null; version++)
        {
            long before = Stopwatch.GetTimestamp();
            map.Fill(builder, version.ToString(CultureInfo.InvariantCulture), StressMap.ExtrasFor(version));
            long got = builder.Publish(target.Name, target.Options);
            publishMs.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
            if (got != version)
            {
                failure = $"published version {got}, expected {version}";
                break;
            }

            versionBytes = Math.Max(versionBytes, new FileInfo(target.SnapshotPath).Length);
            failure = SampleSteady(target, follower, versionBytes, steady);
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        stopSampling.Cancel();
        sampler.Join();
        follower.CloseInput();
        int followerExit = follower.WaitForExit(TimeSpan.FromSeconds(120));
        string followerSummary = follower.Output.LastOrDefault(static l => l.StartsWith("follow: ", StringComparison.Ordinal)) ?? "(no summary)";
        if (failure is null && followerExit != 0)
        {
            failure = $"follower exited {followerExit}: {followerSummary}\n{follower.Transcript()}";
        }

        double page = 4096;
        double version1 = Math.Ceiling(versionBytes / page) * page;
        publishMs.Sort();
        bool pass = failure is null;
        Console.WriteLine(FormattableString.Invariant(
            $"memory: publishes={publishMs.Count} version_mb={versionBytes / 1048576.0:F1} seconds={seconds:F1} publish_ms_median={Stats.Quantile(publishMs, 0.5):F1} publish_ms_p99={Stats.Quantile(publishMs, 0.99):F1} follower_steady_versions={steady.Follower / version1:F2} tmpfs_steady_versions={steady.Tmpfs / version1:F2} follower_any_versions={any.Follower / version1:F2} tmpfs_any_versions={any.Tmpfs / version1:F2} follower_steady_mb={steady.Follower / 1048576.0:F1} tmpfs_steady_mb={steady.Tmpfs / 1048576.0:F1} version_bytes={versionBytes} follower_steady_bytes={steady.Follower} tmpfs_steady_bytes={steady.Tmpfs} result={(pass ? "PASS" : "FAIL")}"));
        Console.WriteLine($"memory-follower: {followerSummary}");
        if (failure is not null)
        {
            Console.Error.WriteLine($"memory: FAIL {failure}");
        }

        return pass ? 0 : 1;
    }

    /// <summary>
    /// Waits (bounded) until the follower maps the version just published and has let go of older
    /// ones, then records the follower's and the directory's usage. Returns a failure, or null.
    /// </summary>
    private static string? SampleSteady(Target target, ChildProcess follower, long versionBytes, Maxima steady)
    {
        long bound = 2 * RoundUp(versionBytes);
        long deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        long followerBytes;
        long tmpfsBytes;
        while (true)
        {
            if (follower.HasExited)
            {
                return $"follower exited early\n{follower.Transcript()}";
            }

            // Cheap first (the follower's maps), then the whole of /proc once the follower has settled.
            bool switched = ProcMemory.MapsCurrent(follower.Id, target.Directory, target.SnapshotPath);
            followerBytes = ProcMemory.SnapshotBytesMapped(follower.Id, target.Directory).Bytes;
            tmpfsBytes = -1;
            long tmpfsBound = bound + RoundUp(ControlFileBytes);
            if (switched && followerBytes <= bound)
            {
                tmpfsBytes = ProcMemory.DirectoryUsage(target.Directory, [follower.Id, Environment.ProcessId]).Bytes;
                if (tmpfsBytes <= tmpfsBound)
                {
                    break;
                }
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                return FormattableString.Invariant($"10 s after a publish: follower switched={switched}, maps {followerBytes} bytes of snapshots and the directory holds {tmpfsBytes} bytes (-1: not measured); bound {bound} (+{RoundUp(ControlFileBytes)} control file)");
            }

            Thread.Sleep(1);
        }

        steady.Follower = Math.Max(steady.Follower, followerBytes);
        steady.Tmpfs = Math.Max(steady.Tmpfs, tmpfsBytes);
        return null;
    }

    private const long ControlFileBytes = 64;

    private static long RoundUp(long bytes) => (bytes + 4095) / 4096 * 4096;

    private sealed class Maxima
    {
        public long Follower { get; set; }

        public long Tmpfs { get; set; }
    }
}
