using System.Collections.Frozen;
using BenchmarkDotNet.Attributes;

namespace Shmap.Benchmarks;

/// <summary>
/// Publishing N entries from an already-filled <see cref="SharedMapBuilder"/> (a new version of the
/// same name each time, written to tmpfs and renamed into place) against freezing the same pairs
/// from an already-filled <see cref="Dictionary{TKey, TValue}"/> with <c>ToFrozenDictionary</c>, the
/// baseline. A filled Dictionary is the cheapest source for ToFrozenDictionary (no re-hashing into
/// a temporary dictionary), so the comparison favours FrozenDictionary. The builder keeps the key
/// order it computed until a key is added or removed, so before each <see cref="Share"/> one key
/// is removed and set again: every measured Share orders all keys, as the first one after filling
/// does. <see cref="Share_Unchanged"/> republishes an unchanged builder (a publish loop's case).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BuildConfig))]
public class ShareBenchmarks
{
    private const string MapName = "share";

    private Scratch? _scratch;
    private SharedMapBuilder? _builder;
    private Dictionary<string, string>? _dictionary;
    private string _churnKey = "";
    private string _churnValue = "";

    [Params(1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _scratch = new Scratch("share");
        var data = Dataset.Create(N);
        (_churnKey, _churnValue) = (data.Keys[0], data.Values[0]);
        _builder = new SharedMapBuilder();
        _dictionary = new Dictionary<string, string>(N);
        for (int i = 0; i < data.Count; i++)
        {
            _builder.Set(data.Keys[i], data.Values[i]);
            _dictionary.Add(data.Keys[i], data.Values[i]);
        }

        // Both outputs hold exactly the data set.
        _builder.Share(MapName, force: true, _scratch.Options);
        using (SharedMap map = SharedMap.Open(MapName, _scratch.Options))
        {
            CheckAll("SharedMap", map.Count, data, map.Get);
            Console.WriteLine($"// snapshot: {map.ByteLength} bytes, {(map.ByteLength - data.RawUtf8Bytes) / (double)N:F2} bytes per entry over the raw UTF-8 keys and values");
        }

        FrozenDictionary<string, string> frozen = _dictionary.ToFrozenDictionary();
        CheckAll("FrozenDictionary", frozen.Count, data, key => frozen.TryGetValue(key, out string? v) ? v : null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scratch?.Dispose();
        _scratch = null;
    }

    [Benchmark(Baseline = true)]
    public FrozenDictionary<string, string> ToFrozenDictionary() => _dictionary!.ToFrozenDictionary();

    [IterationSetup(Target = nameof(Share))]
    public void ChangeKeys()
    {
        _builder!.Remove(_churnKey);
        _builder.Set(_churnKey, _churnValue);
    }

    [Benchmark]
    public void Share() => _builder!.Share(MapName, force: true, _scratch!.Options);

    [Benchmark]
    public void Share_Unchanged() => _builder!.Share(MapName, force: true, _scratch!.Options);

    private void CheckAll(string peer, int count, Dataset data, Func<string, string?> get)
    {
        if (count != N)
        {
            throw new InvalidOperationException($"{peer} holds {count} entries, expected {N}.");
        }

        for (int i = 0; i < data.Count; i++)
        {
            string? value = get(data.Keys[i]);
            if (!string.Equals(value, data.Values[i], StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{peer}: key '{data.Keys[i]}' gave '{value ?? "<absent>"}', expected '{data.Values[i]}'.");
            }
        }

        Console.WriteLine($"// {peer}: all {N} keys checked");
    }
}
