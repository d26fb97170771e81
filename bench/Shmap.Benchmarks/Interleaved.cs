using System.Collections.Frozen;
using System.Diagnostics;
using System.Globalization;

namespace Shmap.Benchmarks;

/// <summary>
/// <c>interleaved [N] [rounds] [ascii|profiles|both]</c>: the point lookups of Dictionary,
/// FrozenDictionary, LightningDB, SharedMap and LiveSharedMap (and SharedMap's batches) in one
/// process, one loop after the other, many rounds; prints the median per lookup, the median of
/// each loop's per-round ratio to its baseline (the Dictionary loop over the same keys in the same
/// round), and the bytes each lookup allocated. On a shared machine whose speed drifts by 2x
/// between minutes, BenchmarkDotNet's one-process-per-case runs can compare cases measured under
/// different neighbours; here every ratio is of two loops measured seconds apart, on the same
/// keys, the same mapping and the same heap.
/// </summary>
/// <remarks>
/// <para>Three key streams of <see cref="LookupBenchmarks.Lookups"/> keys each: hits whose key
/// strings were allocated in lookup order ("hot": walking them is sequential, as keys freshly
/// parsed from a request), the same hits with every key in a record of its own allocated in another
/// order ("cold": a join over rows spread over the heap, <see cref="Dataset.CopyScattered"/>), and
/// misses. Loops count hits and do not read the values' characters; the string paths of SharedMap
/// decode and allocate the value, which is their job.</para>
/// <para><c>SHMAP_INTERLEAVED_ONLY=a,b</c> keeps the loops whose names contain a or b, and their
/// baselines. Each table is also written to <c>interleaved-WORKLOAD-N.md</c> in the current
/// directory (the plot script reads those).</para>
/// <para><c>SHMAP_INTERLEAVED_BOUNDS=1</c> adds the string path's floors: Dictionary's lookup plus
/// a copy of the value it found, and Shmap's UTF-8 lookup of a key already encoded (hot and cold,
/// <see cref="Dataset.EncodeScattered"/>) plus one string of the value's byte length filled by a
/// plain widening (no key to encode, no UTF-8 decoding at all), beside the string calls that
/// allocate nothing (<c>TryCopyValue</c>, <c>ContainsKey</c>). A string-key lookup that allocates
/// its result does all the second floor does and more. <c>SHMAP_INTERLEAVED_GC=1</c> prints each
/// loop's gen0 collections and pause time in the last round.</para>
/// </remarks>
internal static class Interleaved
{
    /// <summary>The string batch size of a service answering a request's keys at once.</summary>
    public const int Batch = 256;

    private const string Cold = "cold: ";
    private const string Miss = "miss: ";

    public static int Run(int count, int rounds, IReadOnlyList<Workload> workloads)
    {
        foreach (Workload workload in workloads)
        {
            Run(count, rounds, workload);
        }

        return 0;
    }

    private static void Run(int count, int rounds, Workload workload)
    {
        var data = Dataset.Create(count, workload);
        int lookups = LookupBenchmarks.Lookups;
        int[] order = Dataset.ShuffledOrder(count, lookups);
        string[] hot = Dataset.CopyInOrder(data.Keys, order);
        string[] cold = Dataset.CopyScattered(data.Keys, order, out object[] records);
        int missCount = Math.Min(count, lookups);
        string[] misses = Dataset.CopyInOrder(data.CreateMisses(missCount), Dataset.ShuffledOrder(missCount, lookups, Dataset.Seed + 3));
        byte[][] utf8 = Dataset.EncodeInOrder(hot);
        byte[][] utf8Misses = Dataset.EncodeInOrder(misses);
        ReadOnlyMemory<byte>[] memory = [.. utf8.Select(static k => (ReadOnlyMemory<byte>)k)];
        var refs = new ValueRef[Batch];
        string?[] values = new string?[Batch];
        using var scratch = new Scratch("interleaved");
        var builder = new SharedMapBuilder();
        var dictionary = new Dictionary<string, string>(count);
        for (int i = 0; i < count; i++)
        {
            builder.Set(data.Keys[i], data.Values[i]);
            dictionary.Add(data.Keys[i], data.Values[i]);
        }

        FrozenDictionary<string, string> frozen = dictionary.ToFrozenDictionary();
        builder.Share("interleaved", force: true, scratch.Options);
        builder = null;
        using SharedMap map = SharedMap.Open("interleaved", scratch.Options);
        using LiveSharedMap live = SharedMap.Follow("interleaved", scratch.Options);
        using LmdbStore lmdb = LmdbStore.Create(scratch.Subdirectory("lmdb"), data.Keys, data.Values);
        Check(data, order, hot, cold, misses, map, live, lmdb);

        // Each loop: its name (a prefix tells its key stream, and so its Dictionary baseline), the loop, and the keys it must find.
        (string Name, Func<int> Loop, int Expected)[] loops =
        [
            ("Dictionary.TryGetValue", () => LookupBenchmarks.CountDictionary(dictionary, hot), lookups),
            ("FrozenDictionary.TryGetValue", () => LookupBenchmarks.CountFrozen(frozen, hot), lookups),
            ("LightningDB Get(utf8)", () => LookupBenchmarks.CountLmdb(lmdb, utf8), lookups),
            ("SharedMap.TryGetValue(utf8)", () => LookupBenchmarks.CountShmapUtf8(map, utf8), lookups),
            ("LiveSharedMap.TryGetValue(utf8)", () => LookupBenchmarks.CountLiveUtf8(live, utf8), lookups),
            ("SharedMap.Get(string)", () => LookupBenchmarks.CountShmapString(map, hot), lookups),
            ("SharedMap.TryGetValue(string, out string)", () => LookupBenchmarks.CountShmapTryString(map, hot), lookups),
            ("SharedMap.Get(ReadOnlySpan<char>)", () => LookupBenchmarks.CountShmapSpan(map, hot), lookups),
            ("LiveSharedMap.Get(string)", () => LookupBenchmarks.CountLiveString(live, hot), lookups),
            ($"SharedMap.GetMany(string), {Batch}", () => LookupBenchmarks.CountMany(map, hot, values), lookups),
            ($"SharedMap.GetMany(utf8), {Batch}", () => LookupBenchmarks.CountManyUtf8(map, memory, refs), lookups),
            (Cold + "Dictionary.TryGetValue", () => LookupBenchmarks.CountDictionary(dictionary, cold), lookups),
            (Cold + "FrozenDictionary.TryGetValue", () => LookupBenchmarks.CountFrozen(frozen, cold), lookups),
            (Cold + "SharedMap.Get(string)", () => LookupBenchmarks.CountShmapString(map, cold), lookups),
            (Cold + "LiveSharedMap.Get(string)", () => LookupBenchmarks.CountLiveString(live, cold), lookups),
            (Cold + $"SharedMap.GetMany(string), {Batch}", () => LookupBenchmarks.CountMany(map, cold, values), lookups),
            (Miss + "Dictionary.TryGetValue", () => LookupBenchmarks.CountDictionary(dictionary, misses), 0),
            (Miss + "FrozenDictionary.TryGetValue", () => LookupBenchmarks.CountFrozen(frozen, misses), 0),
            (Miss + "LightningDB Get(utf8)", () => LookupBenchmarks.CountLmdb(lmdb, utf8Misses), 0),
            (Miss + "SharedMap.TryGetValue(utf8)", () => LookupBenchmarks.CountShmapUtf8(map, utf8Misses), 0),
            (Miss + "SharedMap.Get(string)", () => LookupBenchmarks.CountShmapString(map, misses), 0),
            (Miss + "LiveSharedMap.Get(string)", () => LookupBenchmarks.CountLiveString(live, misses), 0),
        ];
        object[] coldUtf8Records = [];
        if (Environment.GetEnvironmentVariable("SHMAP_INTERLEAVED_BOUNDS") == "1")
        {
            // Floors of the string path: what any lookup that returns a fresh string pays at least
            // (Dictionary's lookup plus a copy of the value it found; Shmap's UTF-8 lookup of a key
            // already encoded plus one string of the value's length filled by a plain widening, less
            // work than any UTF-8 decoder), and the string calls that allocate nothing.
            char[] chars = new char[4096];
            byte[][] utf8Cold = Dataset.EncodeScattered(cold, out coldUtf8Records);
            foreach (string prefix in new[] { "", Cold })
            {
                string[] keys = prefix == Cold ? cold : hot;
                byte[][] encoded = prefix == Cold ? utf8Cold : utf8;
                loops =
                [
                    .. loops,
                    (prefix + "floor: Dictionary.TryGetValue + a copy of the value", () => LookupBenchmarks.CountDictionaryCopy(dictionary, keys), lookups),
                    (prefix + "floor: SharedMap.TryGetValue(utf8)", () => LookupBenchmarks.CountShmapUtf8(map, encoded), lookups),
                    (prefix + "floor: SharedMap.TryGetValue(utf8) + the value widened into a new string", () => LookupBenchmarks.CountShmapUtf8Widen(map, encoded), lookups),
                    (prefix + "SharedMap.TryCopyValue(string)", () => LookupBenchmarks.CountShmapCopy(map, keys, chars), lookups),
                    (prefix + "SharedMap.ContainsKey(string)", () => LookupBenchmarks.CountShmapContains(map, keys), lookups),
                ];
            }

            loops = [.. loops, (Miss + "SharedMap.ContainsKey(string)", () => LookupBenchmarks.CountShmapContains(map, misses), 0)];
        }

        if (Environment.GetEnvironmentVariable("SHMAP_INTERLEAVED_ONLY") is { Length: > 0 } only)
        {
            string[] parts = only.Split(',');
            loops = [.. loops.Where(l => l.Name.EndsWith("Dictionary.TryGetValue", StringComparison.Ordinal) && !l.Name.Contains("Frozen", StringComparison.Ordinal)
                || parts.Any(p => l.Name.Contains(p, StringComparison.Ordinal)))];
        }

        int[] baselines = [.. loops.Select(l => Array.FindIndex(loops, b => b.Name == StreamOf(l.Name) + "Dictionary.TryGetValue"))];
        var times = loops.Select(_ => new List<double>()).ToArray();
        var allocated = new double[loops.Length];
        bool printGc = Environment.GetEnvironmentVariable("SHMAP_INTERLEAVED_GC") == "1";
        for (int round = -1; round < rounds; round++)
        {
            for (int j = 0; j < loops.Length; j++)
            {
                long bytes = GC.GetAllocatedBytesForCurrentThread();
                int gcs = GC.CollectionCount(0);
                TimeSpan paused = GC.GetTotalPauseDuration();
                long start = Stopwatch.GetTimestamp();
                int found = loops[j].Loop();
                double perLookup = Stopwatch.GetElapsedTime(start).TotalNanoseconds / lookups;
                if (printGc && round == rounds - 1)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{loops[j].Name}: {GC.CollectionCount(0) - gcs} gen0 GCs, {(GC.GetTotalPauseDuration() - paused).TotalNanoseconds / lookups:F1} ns/lookup paused"));
                }

                allocated[j] = (double)(GC.GetAllocatedBytesForCurrentThread() - bytes) / lookups;
                if (found != loops[j].Expected)
                {
                    throw new InvalidOperationException($"{loops[j].Name} found {found} of {lookups} keys, expected {loops[j].Expected}.");
                }

                if (round >= 0)
                {
                    times[j].Add(perLookup);
                }
            }
        }

        GC.KeepAlive(records);
        GC.KeepAlive(coldUtf8Records);
        var table = new StringWriter(CultureInfo.InvariantCulture);
        table.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{workload}: {count:N0} entries, {lookups:N0} lookups per loop, {rounds} interleaved rounds (median ns per lookup; ratio = median of per-round ratios to the Dictionary loop over the same keys)"));
        table.WriteLine();
        table.WriteLine("| loop | median ns | vs Dictionary | allocated B/lookup |");
        table.WriteLine("|---|---:|---:|---:|");
        for (int j = 0; j < loops.Length; j++)
        {
            string ratio = baselines[j] >= 0 ? string.Create(CultureInfo.InvariantCulture, $"{RatioMedian(times[j], times[baselines[j]]):F2}x") : "";
            table.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {loops[j].Name} | {Median(times[j]):F1} | {ratio} | {allocated[j]:F1} |"));
        }

        Console.WriteLine(table.ToString());
        File.WriteAllText(string.Create(CultureInfo.InvariantCulture, $"interleaved-{workload.ToString().ToLowerInvariant()}-{count}.md"), table.ToString());
    }

    /// <summary>The key stream prefix of a loop's name ("", "cold: " or "miss: ").</summary>
    private static string StreamOf(string name) => name.StartsWith(Cold, StringComparison.Ordinal) ? Cold : name.StartsWith(Miss, StringComparison.Ordinal) ? Miss : "";

    /// <summary>Every stream answers as the data says, through every peer, before anything is timed.</summary>
    private static void Check(Dataset data, int[] order, string[] hot, string[] cold, string[] misses, SharedMap map, LiveSharedMap live, LmdbStore lmdb)
    {
        for (int i = 0; i < order.Length; i++)
        {
            string expected = data.Values[order[i]];
            if (map.Get(hot[i]) != expected || live.Get(cold[i]) != expected || map.Get(cold[i]) != expected
                || map.Get(hot[i].AsSpan()) != expected || lmdb.Get(hot[i]) != expected)
            {
                throw new InvalidOperationException($"'{hot[i]}' does not give its value '{expected}'.");
            }
        }

        foreach (string miss in misses)
        {
            if (map.Get(miss) is not null || live.Get(miss) is not null || data.Contains(miss) || lmdb.Get(miss) is not null)
            {
                throw new InvalidOperationException($"The miss '{miss}' is found.");
            }
        }
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double RatioMedian(List<double> a, List<double> b) => Median([.. a.Zip(b, static (x, y) => x / y)]);
}
