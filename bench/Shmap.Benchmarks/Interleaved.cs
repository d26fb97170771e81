using System.Diagnostics;
using System.Globalization;

namespace Shmap.Benchmarks;

/// <summary>
/// <c>interleaved [N] [rounds]</c>: the point lookups of Dictionary, SharedMap and LiveSharedMap (and
/// SharedMap's batches) in
/// one process, one round of each after the other, many rounds; prints the median per lookup and
/// each one's median ratio to its round's neighbour. On a shared machine whose speed drifts by 2x
/// between minutes, BenchmarkDotNet's one-process-per-case runs can compare cases measured under
/// different neighbours; here every ratio is of two loops measured seconds apart, on the same
/// keys, the same mapping and the same heap.
/// </summary>
internal static class Interleaved
{
    public static int Run(int count, int rounds)
    {
        var data = Dataset.Create(count);
        int lookups = LookupBenchmarks.Lookups;
        string[] keys = Dataset.CopyInOrder(data.Keys, Dataset.ShuffledOrder(count, lookups));
        byte[][] utf8 = Dataset.EncodeInOrder(keys);
        ReadOnlyMemory<byte>[] memory = [.. utf8.Select(static k => (ReadOnlyMemory<byte>)k)];
        var refs = new ValueRef[LookupBenchmarks.ManyBatch];
        string?[] values = new string?[LookupBenchmarks.ManyBatch];
        using var scratch = new Scratch("interleaved");
        var builder = new SharedMapBuilder();
        var dictionary = new Dictionary<string, string>(count);
        for (int i = 0; i < count; i++)
        {
            builder.Set(data.Keys[i], data.Values[i]);
            dictionary.Add(data.Keys[i], data.Values[i]);
        }

        builder.Share("interleaved", force: true, scratch.Options);
        builder = null;
        using SharedMap map = SharedMap.Open("interleaved", scratch.Options);
        using LiveSharedMap live = SharedMap.Follow("interleaved", scratch.Options);

        (string Name, Func<int> Loop)[] loops =
        [
            ("Dictionary.TryGetValue", () => LookupBenchmarks.CountDictionary(dictionary, keys)),
            ("SharedMap.TryGetValue(utf8)", () => LookupBenchmarks.CountShmapUtf8(map, utf8)),
            ("LiveSharedMap.TryGetValue(utf8)", () => LookupBenchmarks.CountLiveUtf8(live, utf8)),
            ("SharedMap.Get(string)", () => LookupBenchmarks.CountShmapString(map, keys)),
            ("LiveSharedMap.Get(string)", () => LookupBenchmarks.CountLiveString(live, keys)),
            ("SharedMap.Get(string) again", () => LookupBenchmarks.CountShmapString(map, keys)),
            ("SharedMap.GetMany(utf8), 64", () => LookupBenchmarks.CountManyUtf8(map, memory, refs.AsSpan(0, 64))),
            ("SharedMap.GetMany(utf8), 1024", () => LookupBenchmarks.CountManyUtf8(map, memory, refs)),
            ("SharedMap.GetMany(string), 64", () => LookupBenchmarks.CountMany(map, keys, values.AsSpan(0, 64))),
            ("SharedMap.GetMany(string), 1024", () => LookupBenchmarks.CountMany(map, keys, values)),
        ];
        var times = loops.Select(_ => new List<double>()).ToArray();
        for (int round = -1; round < rounds; round++)
        {
            for (int j = 0; j < loops.Length; j++)
            {
                long start = Stopwatch.GetTimestamp();
                int found = loops[j].Loop();
                double perLookup = Stopwatch.GetElapsedTime(start).TotalNanoseconds / lookups;
                if (found != lookups)
                {
                    throw new InvalidOperationException($"{loops[j].Name} found {found} of {lookups} keys.");
                }

                if (round >= 0)
                {
                    times[j].Add(perLookup);
                }
            }
        }

        Console.WriteLine($"{count:N0} entries, {lookups:N0} random hits per loop, {rounds} interleaved rounds (median ns per lookup; ratio = median of per-round ratios)");
        Console.WriteLine();
        Console.WriteLine("| loop | median ns | vs Dictionary | vs SharedMap |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (int j = 0; j < loops.Length; j++)
        {
            // The SharedMap loop of the same API: the one just before each Live loop.
            string versusShared = loops[j].Name.StartsWith("Live", StringComparison.Ordinal) ? $"{RatioMedian(times[j], times[j - 1]):F2}x" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {loops[j].Name} | {Median(times[j]):F1} | {RatioMedian(times[j], times[0]):F2}x | {versusShared} |"));
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double RatioMedian(List<double> a, List<double> b) => Median([.. a.Zip(b, static (x, y) => x / y)]);
}
