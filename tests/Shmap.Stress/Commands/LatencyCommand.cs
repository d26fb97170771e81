using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Shmap.Stress.Commands;

/// <summary>
/// <c>latency</c>: how soon a follower in another process sees a version after <c>Publish</c> returns.
/// Publishes an already-built map <c>--publishes</c> times, <c>--gap-ms</c> (± half) apart; a
/// <c>latency-follower</c> child notes when it sees each version, either polling <c>Version</c> in a
/// tight loop (<c>poll</c>) or awaiting <c>WaitForNewVersionAsync</c> (<c>wait</c>). Latency =
/// (child's <see cref="Stopwatch.GetTimestamp"/> when seen) − (ours when Publish returned): both read
/// CLOCK_MONOTONIC, so they compare across processes. Negative: seen before Publish returned (the
/// control word is bumped before the file's time is touched and the call returns).
/// </summary>
internal static class LatencyCommand
{
    public static int Run(Options options)
    {
        (Target target, PrivateDirectory? owned) = Target.OwnedFromOptions(options, "latency");
        using PrivateDirectory? cleanup = owned;
        int publishes = options.Int("publishes", 1000);
        int keys = options.Int("keys", 100_000);
        int gapMs = options.Int("gap-ms", 2);
        string mode = options.String("mode", "both");
        string? output = options.OptionalString("out");
        int seed = options.Int("seed", 1);
        options.ThrowOnUnused();
        string[] modes = mode switch
        {
            "both" => ["poll", "wait"],
            "poll" or "wait" => [mode],
            _ => throw new OptionException($"--mode is poll, wait or both, not '{mode}'."),
        };

        var builder = new SharedMapBuilder();
        for (int i = 0; i < keys; i++)
        {
            builder.Set(StressMap.Key(i), "value " + i.ToString(CultureInfo.InvariantCulture));
        }

        builder.Publish(target.Name, target.Options);
        long bytes = new FileInfo(target.SnapshotPath).Length;
        var random = new Random(seed);
        var report = new StringBuilder();
        bool pass = true;
        foreach (string m in modes)
        {
            using ChildProcess follower = Self.Start("latency-follower", [.. target.Arguments(), "--mode", m, "--stop-on-stdin"]);
            follower.WaitForLine(static l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Thread.Sleep(200);

            var published = new Dictionary<long, long>(publishes);
            var publishMs = new List<double>(publishes);
            for (int n = 0; n < publishes; n++)
            {
                // Apart enough that the follower has settled into waiting; jittered so it is not in phase.
                Thread.Sleep(gapMs / 2 + random.Next(gapMs + 1));
                long before = Stopwatch.GetTimestamp();
                long version = builder.Publish(target.Name, target.Options);
                long returned = Stopwatch.GetTimestamp();
                published[version] = returned;
                publishMs.Add(Stopwatch.GetElapsedTime(before, returned).TotalMilliseconds);
            }

            Thread.Sleep(500);
            follower.CloseInput();
            if (follower.WaitForExit(TimeSpan.FromSeconds(60)) != 0)
            {
                Console.Error.WriteLine($"latency: follower failed.\n{follower.Transcript()}");
                return 1;
            }

            var latencies = new List<double>(publishes);
            foreach (string line in follower.Output)
            {
                string[] f = line.Split(' ');
                if (f.Length == 3 && f[0] == "seen" && published.TryGetValue(long.Parse(f[1], CultureInfo.InvariantCulture), out long returned))
                {
                    latencies.Add((long.Parse(f[2], CultureInfo.InvariantCulture) - returned) * 1e6 / Stopwatch.Frequency);
                }
            }

            latencies.Sort();
            publishMs.Sort();
            string switching = follower.Output.LastOrDefault(static l => l.StartsWith("latency-follower: ", StringComparison.Ordinal)) is string summary && summary.Contains("switch_call_median_us=", StringComparison.Ordinal)
                ? summary[summary.IndexOf("switch_call_median_us=", StringComparison.Ordinal)..]
                : "";
            double median = Stats.Quantile(latencies, 0.5);
            bool ok = latencies.Count > 0 && median < 1000;
            pass &= ok;
            string line1 = FormattableString.Invariant(
                $"latency: mode={m} publishes={publishes} seen={latencies.Count} map_bytes={bytes} median_us={median:F1} p90_us={Stats.Quantile(latencies, 0.9):F1} p99_us={Stats.Quantile(latencies, 0.99):F1} max_us={(latencies.Count > 0 ? latencies[^1] : double.NaN):F1} min_us={(latencies.Count > 0 ? latencies[0] : double.NaN):F1} before_return={latencies.Count(static l => l < 0)} publish_ms_median={Stats.Quantile(publishMs, 0.5):F2} {switching} target=median<1ms result={(ok ? "PASS" : "FAIL")}");
            Console.WriteLine(line1);
            report.Append(FormattableString.Invariant(
                $"| {(m == "poll" ? "polls `Version` in a tight loop" : "awaits `WaitForNewVersionAsync`")} | {publishes} | {latencies.Count} | {median:F1} | {Stats.Quantile(latencies, 0.9):F1} | {Stats.Quantile(latencies, 0.99):F1} | {(latencies.Count > 0 ? latencies[^1] : double.NaN):F1} | {latencies.Count(static l => l < 0)} | {Stats.Quantile(publishMs, 0.5):F1} | {(switching.Length > 0 ? switching.Replace("switch_call_median_us=", "", StringComparison.Ordinal).Replace(" switch_call_p99_us=", " / ", StringComparison.Ordinal) : "–")} | {(ok ? "PASS" : "FAIL")} |\n"));
        }

        Stats.Append(output, FormattableString.Invariant($"""

            ### Publish-to-visible latency ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)

            `Shmap.Stress latency --publishes {publishes} --keys {keys} --gap-ms {gapMs}`: map of {keys} entries ({bytes / 1048576.0:F1} MiB) published again and again ({gapMs} ms ± half apart); a follower in another process notes when it sees each version. Latency = follower's `Stopwatch.GetTimestamp()` when seen − publisher's when `Publish` returned, in µs; negative = seen before `Publish` returned. "Switching call" (polling only): duration of the `Version` call that saw the new version, i.e. the follower's own cost of opening the new version and unmapping the oldest. Target: median under 1 ms.

            | Follower | Publishes | Seen | Median µs | p90 µs | p99 µs | Max µs | Seen before return | Publish ms (median) | Switching call µs (median / p99) | Result |
            |---|---|---|---|---|---|---|---|---|---|---|
            {report}
            {Stats.Machine()}

            """));
        return pass ? 0 : 1;
    }

    /// <summary><c>latency-follower</c>: notes (version, timestamp) for each version seen; prints them when stopped.</summary>
    public static int RunFollower(Options options)
    {
        Target target = Target.FromOptions(options);
        string mode = options.String("mode", "poll");
        using StopSignal stop = StopSignal.FromOptions(options);
        options.ThrowOnUnused();
        using LiveSharedMap live = SharedMap.Follow(target.Name, target.Options);
        var seen = new List<(long Version, long At)>(100_000);
        var switchTicks = new List<double>(100_000);
        long last = live.Version;
        Console.WriteLine("ready");
        if (mode == "poll")
        {
            while (!stop.IsStopped)
            {
                long called = Stopwatch.GetTimestamp();
                long version = live.Version;
                if (version != last)
                {
                    long at = Stopwatch.GetTimestamp();
                    seen.Add((version, at));
                    switchTicks.Add(at - called);
                    last = version;
                }
            }
        }
        else
        {
            try
            {
                while (true)
                {
                    long version = live.WaitForNewVersionAsync(stop.Token).GetAwaiter().GetResult();
                    seen.Add((version, Stopwatch.GetTimestamp()));
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        var text = new StringBuilder();
        foreach ((long version, long at) in seen)
        {
            text.Append(CultureInfo.InvariantCulture, $"seen {version} {at}\n");
        }

        Console.Write(text);
        List<double> switchUs = [.. switchTicks.Select(static t => t * 1e6 / Stopwatch.Frequency).Order()];
        string switching = switchUs.Count == 0 ? "" : FormattableString.Invariant($" switch_call_median_us={Stats.Quantile(switchUs, 0.5):F1} switch_call_p99_us={Stats.Quantile(switchUs, 0.99):F1}");
        Console.WriteLine($"latency-follower: mode={mode} seen={seen.Count}{switching}");
        return 0;
    }
}
