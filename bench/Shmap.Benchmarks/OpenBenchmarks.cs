using BenchmarkDotNet.Attributes;

namespace Shmap.Benchmarks;

/// <summary>
/// <see cref="SharedMap.Open"/> + Dispose of a published map of N entries: maps the file and checks
/// the header, so it should not grow with N. Setup publishes the map and checks that it holds N
/// entries, that every key gives its value and that 100,000 misses are absent.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(OpenConfig))]
public class OpenBenchmarks
{
    private const string MapName = "open";

    private Scratch? _scratch;

    [Params(1_000_000, 10_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _scratch = new Scratch("open");
        var data = Dataset.Create(N);
        var builder = new SharedMapBuilder();
        for (int i = 0; i < data.Count; i++)
        {
            builder.Set(data.Keys[i], data.Values[i]);
        }

        builder.Share(MapName, force: true, _scratch.Options);
        builder.Clear();

        using SharedMap map = SharedMap.Open(MapName, _scratch.Options);
        if (map.Count != N)
        {
            throw new InvalidOperationException($"The published map holds {map.Count} entries, expected {N}.");
        }

        for (int i = 0; i < data.Count; i++)
        {
            string? value = map.Get(data.Keys[i]);
            if (!string.Equals(value, data.Values[i], StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Key '{data.Keys[i]}' gave '{value ?? "<absent>"}', expected '{data.Values[i]}'.");
            }
        }

        foreach (string miss in data.CreateMisses(Math.Min(N, 100_000)))
        {
            if (map.Get(miss) is { } value)
            {
                throw new InvalidOperationException($"Absent key '{miss}' gave '{value}'.");
            }
        }

        Console.WriteLine($"// published {N} entries, {map.ByteLength} bytes; every key found, 100,000 misses absent");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scratch?.Dispose();
        _scratch = null;
    }

    [Benchmark]
    public int OpenDispose()
    {
        using SharedMap map = SharedMap.Open(MapName, _scratch!.Options);
        return map.Count;
    }
}
