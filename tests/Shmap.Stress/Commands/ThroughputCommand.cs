using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Shmap.Stress.Commands;

/// <summary>
/// <c>throughput</c>: aggregate lookup rate of one follower process, then of two at once, on a map of
/// <c>--entries</c> entries: each <c>throughput-worker</c> follows the name and does random
/// <c>TryGetValue(utf8)</c> hits from one thread for <c>--seconds</c>. Repeated <c>--rounds</c> times
/// alternately; the ratio is (two processes' total) / (one process), target ≥ 1.8 on two cores.
/// Workers also report the CPU time they got: on a shared machine a low ratio with less than two
/// cores' worth of CPU is the scheduler's, not the map's.
/// </summary>
internal static class ThroughputCommand
{
    public static int Run(Options options)
    {
        (Target target, PrivateDirectory? owned) = Target.OwnedFromOptions(options, "throughput");
        using PrivateDirectory? cleanup = owned;
        int entries = options.Int("entries", 1_000_000);
        double seconds = options.Double("seconds", 5);
        int rounds = options.Int("rounds", 3);
        string? output = options.OptionalString("out");
        bool pin = options.Flag("pin");
        options.ThrowOnUnused();

        long buildStart = Stopwatch.GetTimestamp();
        var builder = new SharedMapBuilder();
        Span<byte> key = stackalloc byte[8];
        for (int i = 0; i < entries; i++)
        {
            WorkerKey(i, key);
            builder.Set(key, Encoding.UTF8.GetBytes("v" + i.ToString(CultureInfo.InvariantCulture)));
        }

        builder.Publish(target.Name, target.Options);
        long bytes = new FileInfo(target.SnapshotPath).Length;
        Console.WriteLine(FormattableString.Invariant($"throughput: map of {entries} entries, {bytes / 1048576.0:F1} MiB, built and published in {Stopwatch.GetElapsedTime(buildStart).TotalSeconds:F1} s"));
        if (pin)
        {
            return RunPinned(target, entries, seconds, rounds);
        }

        var table = new StringBuilder();
        var ratios = new List<double>();
        var cpuRatios = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            (double one, double oneCpu, double onePerCpu) = Measure(target, entries, seconds, 1, round);
            (double two, double twoCpu, double twoPerCpu) = Measure(target, entries, seconds, 2, round);
            double ratio = two / one;
            double cpuRatio = twoPerCpu / onePerCpu;
            ratios.Add(ratio);
            cpuRatios.Add(cpuRatio);
            string line = FormattableString.Invariant($"throughput: round={round} one_process_mlookups_s={one / 1e6:F2} (cpu {oneCpu:F2} cores, {onePerCpu / 1e6:F2} per cpu-s) two_processes_mlookups_s={two / 1e6:F2} (cpu {twoCpu:F2} cores, {twoPerCpu / 1e6:F2} per cpu-s) ratio={ratio:F2} cpu_normalised_ratio={cpuRatio:F2}");
            Console.WriteLine(line);
            table.Append(FormattableString.Invariant($"| {round} | {one / 1e6:F2} | {oneCpu:F2} | {onePerCpu / 1e6:F2} | {two / 1e6:F2} | {twoCpu:F2} | {twoPerCpu / 1e6:F2} | {ratio:F2} | {cpuRatio:F2} |\n"));
        }

        double median = Stats.Median(ratios);
        double cpuMedian = Stats.Median(cpuRatios);
        bool pass = median >= 1.8;
        Console.WriteLine(FormattableString.Invariant($"throughput: median_ratio={median:F2} target=1.8 result={(pass ? "PASS" : "FAIL")} median_cpu_normalised_ratio={cpuMedian:F2}"));
        Stats.Append(output, FormattableString.Invariant($"""

            ### Aggregate lookup throughput, 1 vs 2 follower processes ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)

            `Shmap.Stress throughput --entries {entries} --seconds {seconds} --rounds {rounds}`: map of {entries} entries ({bytes / 1048576.0:F1} MiB); each follower process (`SharedMap.Follow`) does random `TryGetValue(utf8)` hits on 8-byte keys from one thread for {seconds} s. Millions of lookups per second of wall time (total of the processes); the CPU their lookup threads got (cores' worth); and the total of each process's lookups per second of its own CPU time, i.e. what they would do with a core each. Ratio = 2 processes / 1 process; the CPU-normalised ratio compares the per-CPU-second totals, so it shows whether two processes slow each other (shared cache, memory) whatever CPU share the machine gave them. Target: two processes ≥ 1.8 × one (wall time).

            | Round | 1 proc Mlookups/s | CPU cores | M/CPU-s | 2 procs Mlookups/s | CPU cores | M/CPU-s (sum) | Ratio | CPU-normalised ratio |
            |---|---|---|---|---|---|---|---|---|
            {table}
            Median ratio **{median:F2}**: **{(pass ? "PASS" : "FAIL")}** (target ≥ 1.8). Median CPU-normalised ratio {cpuMedian:F2}.

            {Stats.Machine()}

            """));
        return pass ? 0 : 1;
    }

    /// <summary>
    /// <c>--pin</c>: the two CPUs of a virtual machine can differ in speed (measured here: one ran
    /// memory-bound lookups 1.8x slower than the other for minutes), so an unpinned single worker
    /// measures whichever CPU it landed on. Each round runs one worker on CPU 0, one on CPU 1, then
    /// two at once, one on each; the ratio is the pair's total over the mean of the two singles.
    /// </summary>
    private static int RunPinned(Target target, int entries, double seconds, int rounds)
    {
        var ratios = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            double on0 = Measure(target, entries, seconds, 1, round, [0]).Rate;
            double on1 = Measure(target, entries, seconds, 1, round, [1]).Rate;
            double two = Measure(target, entries, seconds, 2, round, [0, 1]).Rate;
            double ratio = two / ((on0 + on1) / 2);
            ratios.Add(ratio);
            Console.WriteLine(FormattableString.Invariant($"throughput: round={round} pinned one_on_cpu0_mlookups_s={on0 / 1e6:F2} one_on_cpu1_mlookups_s={on1 / 1e6:F2} two_processes_mlookups_s={two / 1e6:F2} ratio_to_mean_single={ratio:F2} ratio_to_faster_single={two / Math.Max(on0, on1):F2}"));
        }

        double median = Stats.Median(ratios);
        bool pass = median >= 1.8;
        Console.WriteLine(FormattableString.Invariant($"throughput: pinned median_ratio={median:F2} target=1.8 result={(pass ? "PASS" : "FAIL")}"));
        return pass ? 0 : 1;
    }

    /// <summary>
    /// Runs <paramref name="processes"/> workers at once; returns their total lookups per second of
    /// wall time, the cores' worth of CPU their lookup threads got, and the sum of each one's lookups
    /// per second of its own CPU time (what they would do with a core each).
    /// </summary>
    private static (double Rate, double Cores, double PerCpu) Measure(Target target, int entries, double seconds, int processes, int round, int[]? cpus = null)
    {
        var workers = new List<ChildProcess>();
        try
        {
            for (int p = 0; p < processes; p++)
            {
                string[] pin = cpus is null ? [] : ["--cpu", cpus[p].ToString(CultureInfo.InvariantCulture)];
                workers.Add(Self.Start("throughput-worker", [.. target.Arguments(), "--entries", entries.ToString(CultureInfo.InvariantCulture), "--seconds", seconds.ToString(CultureInfo.InvariantCulture), "--seed", (round * 10 + p).ToString(CultureInfo.InvariantCulture), .. pin]));
            }

            foreach (ChildProcess worker in workers)
            {
                worker.WaitForLine(static l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(120));
            }

            foreach (ChildProcess worker in workers)
            {
                worker.WriteLine("go");
            }

            double rate = 0;
            double cores = 0;
            double perCpu = 0;
            foreach (ChildProcess worker in workers)
            {
                if (worker.WaitForExit(TimeSpan.FromSeconds(seconds + 60)) != 0)
                {
                    throw new InvalidOperationException($"worker failed\n{worker.Transcript()}");
                }

                Dictionary<string, string> f = worker.Output.Last(static l => l.StartsWith("throughput-worker: ", StringComparison.Ordinal))["throughput-worker: ".Length..]
                    .Split(' ').Select(static kv => kv.Split('=')).ToDictionary(static kv => kv[0], static kv => kv[1]);
                double wall = double.Parse(f["seconds"], CultureInfo.InvariantCulture);
                double cpu = double.Parse(f["cpu_seconds"], CultureInfo.InvariantCulture);
                double lookups = double.Parse(f["lookups"], CultureInfo.InvariantCulture);
                rate += lookups / wall;
                cores += cpu / wall;
                perCpu += lookups / Math.Max(cpu, 0.01);
            }

            return (rate, cores, perCpu);
        }
        finally
        {
            workers.ForEach(static w => w.Dispose());
        }
    }

    /// <summary>Key i: "k" and 7 digits, 8 bytes.</summary>
    private static void WorkerKey(int i, Span<byte> key)
    {
        key[0] = (byte)'k';
        for (int d = 7; d >= 1; d--)
        {
            key[d] = (byte)('0' + (i % 10));
            i /= 10;
        }
    }

    /// <summary><c>throughput-worker</c>: warms up, prints "ready", waits for "go", looks keys up for the given seconds.</summary>
    public static int RunWorker(Options options)
    {
        Target target = Target.FromOptions(options);
        int entries = options.Int("entries", 1_000_000);
        double seconds = options.Double("seconds", 5);
        ulong state = (ulong)options.Long("seed", 1) * 0x9E3779B97F4A7C15UL | 1;
        int pinTo = options.Int("cpu", -1);
        options.ThrowOnUnused();
        if (pinTo >= 0)
        {
            PinThisThread(pinTo);
        }

        byte[] keys = new byte[entries * 8L];
        for (int i = 0; i < entries; i++)
        {
            WorkerKey(i, keys.AsSpan(i * 8, 8));
        }

        using LiveSharedMap live = SharedMap.Follow(target.Name, target.Options);
        (long warm, long warmMisses) = Lookups(live, keys, entries, Stopwatch.Frequency, ref state); // 1 s: tiered JIT, page faults
        Console.WriteLine("ready");
        string? line;
        while ((line = Console.In.ReadLine()) is not null && line != "go")
        {
        }

        if (line is null)
        {
            return 3; // the parent went away before "go"
        }

        double cpuBefore = ThreadCpuSeconds();
        long start = Stopwatch.GetTimestamp();
        (long lookups, long misses) = Lookups(live, keys, entries, (long)(seconds * Stopwatch.Frequency), ref state);
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpu = ThreadCpuSeconds() - cpuBefore;
        Console.WriteLine(FormattableString.Invariant($"throughput-worker: lookups={lookups} misses={misses + warmMisses} seconds={wall:F3} cpu_seconds={cpu:F3} warmup_lookups={warm}"));
        return misses + warmMisses == 0 ? 0 : 1;
    }

    /// <summary>Keeps the calling thread (the worker's lookup thread) on one CPU (sched_setaffinity of thread 0 = self).</summary>
    private static void PinThisThread(int cpu)
    {
        ulong mask = 1UL << cpu;
        if (SchedSetAffinity(0, sizeof(ulong), ref mask) != 0)
        {
            throw new InvalidOperationException($"sched_setaffinity to CPU {cpu} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nuint size, ref ulong mask);

    /// <summary>CPU time of the calling thread (utime + stime of /proc/thread-self/stat, in 1/100 s).</summary>
    private static double ThreadCpuSeconds()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from the 3rd (state) on
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static (long Lookups, long Misses) Lookups(LiveSharedMap live, byte[] keys, int entries, long ticks, ref ulong state)
    {
        long end = Stopwatch.GetTimestamp() + ticks;
        long lookups = 0;
        long misses = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            for (int n = 0; n < 4096; n++)
            {
                // xorshift64*, then a multiply-shift into [0, entries).
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                int i = (int)(((state * 0x2545F4914F6CDD1DUL) >> 32) * (ulong)entries >> 32);
                if (!live.TryGetValue(keys.AsSpan(i * 8, 8), out ReadOnlySpan<byte> _))
                {
                    misses++;
                }
            }

            lookups += 4096;
        }

        return (lookups, misses);
    }
}
