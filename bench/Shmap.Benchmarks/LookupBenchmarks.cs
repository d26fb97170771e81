using System.Collections.Frozen;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using LightningDB;

namespace Shmap.Benchmarks;

/// <summary>
/// Lookup of present keys (Hit) and absent keys of the same shape (Miss), per key. Each invocation
/// looks up <see cref="Lookups"/> keys in shuffled order: whole permutations of the key set, so at
/// N = 1,000,000 every key is looked up once per invocation and the map is touched at random. The
/// lookup keys are separate copies allocated in lookup order. Loops only count hits (no peer reads
/// its value's characters); <c>Get(string)</c> and <c>GetMany(string)</c> decode and allocate
/// their values by design. The GetMany benchmarks look the stream up in calls of
/// <see cref="ManyBatch"/> keys into one reused array (a request's worth of keys). The ColdHit
/// category looks the same keys up from copies scattered over the heap (rows of a table being
/// joined, <see cref="Dataset.CopyScattered"/>). Workloads: <see cref="Benchmarks.Workload"/>.
/// Dictionary is the baseline of each category, so Ratio is peer time / Dictionary time.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(LookupConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class LookupBenchmarks
{
    /// <summary>Lookups per invocation (OperationsPerInvoke).</summary>
    public const int Lookups = 1_000_000;

    /// <summary>The largest GetMany batch benchmarked; the stream is looked up in consecutive batches.</summary>
    public const int ManyBatch = 1_024;

    private const string Hit = "Hit";
    private const string Miss = "Miss";

    /// <summary>Hits whose key strings are scattered over the heap (<see cref="Dataset.CopyScattered"/>).</summary>
    private const string ColdHit = "ColdHit";

    /// <summary>The GetMany hit rows and their Dictionary baseline (one baseline per category).</summary>
    private const string HitBatch = "HitBatch";
    private const string MapName = "lookup";

    private Scratch? _scratch;
    private string[] _hitKeys = [];
    private string[] _coldKeys = [];
    private object[] _coldRecords = [];
    private string[] _hitValues = [];
    private string[] _missKeys = [];
    private byte[][] _hitUtf8 = [];
    private byte[][] _missUtf8 = [];
    private ReadOnlyMemory<byte>[] _hitMemory = [];
    private ReadOnlyMemory<byte>[] _missMemory = [];
    private string?[] _manyValues = [];
    private ValueRef[] _manyRefs = [];
    private Dictionary<string, string>? _dictionary;
    private FrozenDictionary<string, string>? _frozen;
    private SharedMap? _map;
    private LiveSharedMap? _live;
    private LmdbStore? _lmdb;

    /// <summary>Map sizes: 10,000 and 1,000,000, or the comma-separated list in <c>SHMAP_BENCH_SIZES</c> (e.g. 10000000).</summary>
    [ParamsSource(nameof(Sizes))]
    public int N { get; set; }

    /// <summary>The data: both workloads, or the one named in <c>SHMAP_BENCH_WORKLOADS</c> (ascii, profiles).</summary>
    [ParamsSource(nameof(Workloads))]
    public Workload Workload { get; set; }

    public static IEnumerable<Workload> Workloads =>
        Environment.GetEnvironmentVariable("SHMAP_BENCH_WORKLOADS") is { Length: > 0 } names
            ? names.Split(',').Select(static s => Enum.Parse<Workload>(s, ignoreCase: true))
            : [Workload.Ascii, Workload.Profiles];

    public static IEnumerable<int> Sizes =>
        Environment.GetEnvironmentVariable("SHMAP_BENCH_SIZES") is { Length: > 0 } sizes
            ? sizes.Split(',').Select(static s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture))
            : [10_000, 1_000_000];

    [GlobalSetup(Targets = [nameof(Dictionary_Hit), nameof(Dictionary_Miss), nameof(Dictionary_Loop_Hit), nameof(Dictionary_Cold_Hit)])]
    public void SetupDictionary()
    {
        Dataset data = Prepare(utf8: false);
        _dictionary = Fill(data);
        Check("Dictionary", _dictionary.Count, key => _dictionary.TryGetValue(key, out string? v) ? v : null);
    }

    [GlobalSetup(Targets = [nameof(Frozen_Hit), nameof(Frozen_Miss), nameof(Frozen_Cold_Hit)])]
    public void SetupFrozen()
    {
        Dataset data = Prepare(utf8: false);
        _frozen = Fill(data).ToFrozenDictionary();
        Check("FrozenDictionary", _frozen.Count, key => _frozen.TryGetValue(key, out string? v) ? v : null);
    }

    [GlobalSetup(Targets = [nameof(Shmap_Utf8_Hit), nameof(Shmap_Utf8_Miss), nameof(Shmap_GetString_Hit), nameof(Shmap_GetString_Miss),
        nameof(Shmap_GetMany_Hit), nameof(Shmap_GetMany_Miss), nameof(Shmap_GetManyUtf8_Hit), nameof(Shmap_GetManyUtf8_Miss),
        nameof(Live_Utf8_Hit), nameof(Live_GetString_Hit), nameof(Shmap_GetSpan_Hit), nameof(Shmap_GetString_Cold_Hit), nameof(Live_GetString_Cold_Hit)])]
    public void SetupShmap()
    {
        Dataset data = Prepare(utf8: true);
        _scratch = new Scratch("lookup");
        var builder = new SharedMapBuilder();
        for (int i = 0; i < data.Count; i++)
        {
            builder.Set(data.Keys[i], data.Values[i]);
        }

        builder.Share(MapName, force: true, _scratch.Options);
        _map = SharedMap.Open(MapName, _scratch.Options);
        _live = SharedMap.Follow(MapName, _scratch.Options);
        SharedMap map = _map;
        LiveSharedMap live = _live;
        Check("LiveSharedMap.Get(string)", live.Count, live.Get);
        CheckUtf8("LiveSharedMap.TryGetValue(utf8)", utf8 => live.TryGetValue(utf8, out ReadOnlySpan<byte> value) ? Encoding.UTF8.GetString(value) : null);
        Check("SharedMap.Get(string)", map.Count, map.Get);
        CheckUtf8("SharedMap.TryGetValue(utf8)", utf8 => map.TryGetValue(utf8, out ReadOnlySpan<byte> value) ? Encoding.UTF8.GetString(value) : null);

        // GetMany over the same streams: the batch answers must equal the expected values.
        _hitMemory = [.. _hitUtf8.Select(static k => (ReadOnlyMemory<byte>)k)];
        _missMemory = [.. _missUtf8.Select(static k => (ReadOnlyMemory<byte>)k)];
        _manyValues = new string?[ManyBatch];
        _manyRefs = new ValueRef[ManyBatch];
        var values = new string?[Lookups];
        var refs = new ValueRef[Lookups];
        map.GetMany(_hitKeys, values);
        CheckBatch("SharedMap.GetMany(string)", i => values[i], hits: true);
        map.GetMany(_missKeys, values);
        CheckBatch("SharedMap.GetMany(string)", i => values[i], hits: false);
        map.GetMany(_hitMemory, refs);
        CheckBatch("SharedMap.GetMany(utf8)", i => refs[i].Found ? Encoding.UTF8.GetString(map.GetValue(refs[i])) : null, hits: true);
        map.GetMany(_missMemory, refs);
        CheckBatch("SharedMap.GetMany(utf8)", i => refs[i].Found ? Encoding.UTF8.GetString(map.GetValue(refs[i])) : null, hits: false);
    }

    [GlobalSetup(Targets = [nameof(Lmdb_Hit), nameof(Lmdb_Miss)])]
    public void SetupLmdb()
    {
        Dataset data = Prepare(utf8: true);
        _scratch = new Scratch("lookup");
        Console.WriteLine("// " + LmdbNative.SelfCheck(_scratch.Path));
        _lmdb = LmdbStore.Create(_scratch.Subdirectory("lmdb"), data.Keys, data.Values);
        LmdbStore lmdb = _lmdb;
        Check("LightningDB", checked((int)lmdb.Count), lmdb.Get);
        CheckUtf8("LightningDB", utf8 =>
        {
            (MDBResultCode code, _, MDBValue value) = lmdb.Transaction.Get(lmdb.Database, utf8);
            return code == MDBResultCode.Success ? Encoding.UTF8.GetString(value.AsSpan()) : null;
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _live?.Dispose();
        _live = null;
        _map?.Dispose();
        _map = null;
        _lmdb?.Dispose();
        _lmdb = null;
        _scratch?.Dispose();
        _scratch = null;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Dictionary_Hit() => CountDictionary(_dictionary!, _hitKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Frozen_Hit() => CountFrozen(_frozen!, _hitKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Shmap_Utf8_Hit() => CountShmapUtf8(_map!, _hitUtf8);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Shmap_GetString_Hit() => CountShmapString(_map!, _hitKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Shmap_GetSpan_Hit() => CountShmapSpan(_map!, _hitKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Live_Utf8_Hit() => CountLiveUtf8(_live!, _hitUtf8);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Live_GetString_Hit() => CountLiveString(_live!, _hitKeys);

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(ColdHit)]
    public int Dictionary_Cold_Hit() => CountDictionary(_dictionary!, _coldKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(ColdHit)]
    public int Frozen_Cold_Hit() => CountFrozen(_frozen!, _coldKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(ColdHit)]
    public int Shmap_GetString_Cold_Hit() => CountShmapString(_map!, _coldKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(ColdHit)]
    public int Live_GetString_Cold_Hit() => CountLiveString(_live!, _coldKeys);

    /// <summary>
    /// The Dictionary loop of <see cref="Dictionary_Hit"/> again: its argument only places it in
    /// the GetMany rows' groups, as their baseline, so that BenchmarkDotNet prints their ratio.
    /// </summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(HitBatch)]
    [Arguments(64)]
    [Arguments(256)]
    [Arguments(ManyBatch)]
    public int Dictionary_Loop_Hit(int batch) => batch > 0 ? CountDictionary(_dictionary!, _hitKeys) : 0;

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(HitBatch)]
    [Arguments(64)]
    [Arguments(256)]
    [Arguments(ManyBatch)]
    public int Shmap_GetMany_Hit(int batch) => CountMany(_map!, _hitKeys, _manyValues.AsSpan(0, batch));

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(HitBatch)]
    [Arguments(64)]
    [Arguments(256)]
    [Arguments(ManyBatch)]
    public int Shmap_GetManyUtf8_Hit(int batch) => CountManyUtf8(_map!, _hitMemory, _manyRefs.AsSpan(0, batch));

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Hit)]
    public int Lmdb_Hit() => CountLmdb(_lmdb!, _hitUtf8);

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    public int Dictionary_Miss() => CountDictionary(_dictionary!, _missKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    public int Frozen_Miss() => CountFrozen(_frozen!, _missKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    public int Shmap_Utf8_Miss() => CountShmapUtf8(_map!, _missUtf8);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    public int Shmap_GetString_Miss() => CountShmapString(_map!, _missKeys);

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    [Arguments(64)]
    [Arguments(256)]
    [Arguments(ManyBatch)]
    public int Shmap_GetMany_Miss(int batch) => CountMany(_map!, _missKeys, _manyValues.AsSpan(0, batch));

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    [Arguments(64)]
    [Arguments(256)]
    [Arguments(ManyBatch)]
    public int Shmap_GetManyUtf8_Miss(int batch) => CountManyUtf8(_map!, _missMemory, _manyRefs.AsSpan(0, batch));

    [Benchmark(OperationsPerInvoke = Lookups)]
    [BenchmarkCategory(Miss)]
    public int Lmdb_Miss() => CountLmdb(_lmdb!, _missUtf8);

    internal static int CountDictionary(Dictionary<string, string> dictionary, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (dictionary.TryGetValue(key, out _))
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>Dictionary's lookup plus a copy of the value it found: what Dictionary pays when it must return a fresh string.</summary>
    internal static int CountDictionaryCopy(Dictionary<string, string> dictionary, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (dictionary.TryGetValue(key, out string? value) && new string(value.AsSpan()).Length >= 0)
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>The string path without its allocation: the value decoded into a reused buffer.</summary>
    internal static int CountShmapCopy(SharedMap map, string[] keys, char[] buffer)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (map.TryCopyValue(key, buffer, out int _))
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>String keys, the key found and the value not decoded.</summary>
    internal static int CountShmapContains(SharedMap map, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (map.ContainsKey(key))
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>
    /// A floor of the string path: the UTF-8 lookup of keys already encoded (no key to encode), then
    /// the value's bytes widened into a new string of their length (Latin-1: less work than any
    /// UTF-8 decoder, and as many chars as it could give).
    /// </summary>
    internal static int CountShmapUtf8Widen(SharedMap map, byte[][] keys)
    {
        int found = 0;
        foreach (byte[] key in keys)
        {
            if (map.TryGetValue(key, out ReadOnlySpan<byte> value) && System.Text.Encoding.Latin1.GetString(value).Length >= 0)
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountFrozen(FrozenDictionary<string, string> frozen, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (frozen.TryGetValue(key, out _))
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountShmapUtf8(SharedMap map, byte[][] keys)
    {
        int found = 0;
        foreach (byte[] key in keys)
        {
            if (map.TryGetValue(key, out ReadOnlySpan<byte> _))
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountShmapString(SharedMap map, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (map.Get(key) is not null)
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountShmapTryString(SharedMap map, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (map.TryGetValue(key, out string? _))
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountShmapSpan(SharedMap map, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (map.Get(key.AsSpan()) is not null)
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountLiveUtf8(LiveSharedMap live, byte[][] keys)
    {
        int found = 0;
        foreach (byte[] key in keys)
        {
            if (live.TryGetValue(key, out ReadOnlySpan<byte> _))
            {
                found++;
            }
        }

        return found;
    }

    internal static int CountLiveString(LiveSharedMap live, string[] keys)
    {
        int found = 0;
        foreach (string key in keys)
        {
            if (live.Get(key) is not null)
            {
                found++;
            }
        }

        return found;
    }

    /// <summary>GetMany over consecutive batches of up to <paramref name="values"/>.Length keys into one reused array, counting the answers.</summary>
    internal static int CountMany(SharedMap map, string[] keys, Span<string?> values)
    {
        int found = 0;
        for (int start = 0; start < keys.Length; start += values.Length)
        {
            Span<string?> batch = values[..Math.Min(values.Length, keys.Length - start)];
            map.GetMany(keys.AsSpan(start, batch.Length), batch);
            foreach (string? value in batch)
            {
                if (value is not null)
                {
                    found++;
                }
            }
        }

        return found;
    }

    internal static int CountManyUtf8(SharedMap map, ReadOnlyMemory<byte>[] keys, Span<ValueRef> values)
    {
        int found = 0;
        for (int start = 0; start < keys.Length; start += values.Length)
        {
            Span<ValueRef> batch = values[..Math.Min(values.Length, keys.Length - start)];
            map.GetMany(keys.AsSpan(start, batch.Length), batch);
            foreach (ValueRef value in batch)
            {
                if (value.Found)
                {
                    found++;
                }
            }
        }

        return found;
    }

    internal static int CountLmdb(LmdbStore lmdb, byte[][] keys)
    {
        LightningTransaction transaction = lmdb.Transaction;
        LightningDatabase database = lmdb.Database;
        int found = 0;
        foreach (byte[] key in keys)
        {
            (MDBResultCode code, _, _) = transaction.Get(database, (ReadOnlySpan<byte>)key);
            if (code == MDBResultCode.Success)
            {
                found++;
            }
        }

        return found;
    }

    private static Dictionary<string, string> Fill(Dataset data)
    {
        var dictionary = new Dictionary<string, string>(data.Count);
        for (int i = 0; i < data.Count; i++)
        {
            dictionary.Add(data.Keys[i], data.Values[i]);
        }

        return dictionary;
    }

    /// <summary>Generates the data set and the hit and miss lookup streams.</summary>
    private Dataset Prepare(bool utf8)
    {
        var data = Dataset.Create(N, Workload);
        int[] hitOrder = Dataset.ShuffledOrder(N, Lookups);
        _hitKeys = Dataset.CopyInOrder(data.Keys, hitOrder);
        _coldKeys = Dataset.CopyScattered(data.Keys, hitOrder, out _coldRecords);
        _hitValues = new string[Lookups];
        for (int i = 0; i < Lookups; i++)
        {
            _hitValues[i] = data.Values[hitOrder[i]];
        }

        // Enough distinct misses that, like the hits, they do not sit in cache as a small set.
        int missCount = Math.Min(N, Lookups);
        string[] misses = data.CreateMisses(missCount);
        _missKeys = Dataset.CopyInOrder(misses, Dataset.ShuffledOrder(missCount, Lookups, Dataset.Seed + 3));
        if (utf8)
        {
            _hitUtf8 = Dataset.EncodeInOrder(_hitKeys);
            _missUtf8 = Dataset.EncodeInOrder(_missKeys);
        }

        // Every key is in the hit stream (whole permutations), and no miss is a key.
        if (N <= Lookups && new HashSet<string>(_hitKeys, StringComparer.Ordinal).Count != N)
        {
            throw new InvalidOperationException($"The hit stream does not cover all {N} keys.");
        }

        foreach (string miss in misses)
        {
            if (data.Contains(miss))
            {
                throw new InvalidOperationException($"Miss key '{miss}' is in the data set.");
            }
        }

        return data;
    }

    /// <summary>Every hit key maps to its value in the peer, no miss key is found, and the peer holds N entries.</summary>
    private void Check(string peer, int count, Func<string, string?> get)
    {
        if (count != N)
        {
            throw new InvalidOperationException($"{peer} holds {count} entries, expected {N}.");
        }

        for (int i = 0; i < _hitKeys.Length; i++)
        {
            string? value = get(_hitKeys[i]);
            if (!string.Equals(value, _hitValues[i], StringComparison.Ordinal) || !string.Equals(get(_coldKeys[i]), _hitValues[i], StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{peer}: key '{_hitKeys[i]}' gave '{value ?? "<absent>"}', expected '{_hitValues[i]}'.");
            }
        }

        foreach (string key in _missKeys)
        {
            if (get(key) is { } value)
            {
                throw new InvalidOperationException($"{peer}: absent key '{key}' gave '{value}'.");
            }
        }

        Console.WriteLine($"// {peer}: {N} entries; {_hitKeys.Length} hit lookups and {_missKeys.Length} miss lookups checked");
    }

    /// <summary>Answers of a batch call over the hit stream (each its expected value) or the miss stream (each null).</summary>
    private void CheckBatch(string peer, Func<int, string?> answer, bool hits)
    {
        string[] keys = hits ? _hitKeys : _missKeys;
        for (int i = 0; i < keys.Length; i++)
        {
            string? value = answer(i);
            string? expected = hits ? _hitValues[i] : null;
            if (!string.Equals(value, expected, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{peer}: key '{keys[i]}' gave '{value ?? "<absent>"}', expected '{expected ?? "<absent>"}'.");
            }
        }
    }

    /// <summary>The same check through the pre-encoded UTF-8 lookup arrays the benchmarks use.</summary>
    private void CheckUtf8(string peer, Func<byte[], string?> get)
    {
        for (int i = 0; i < _hitUtf8.Length; i++)
        {
            string? value = get(_hitUtf8[i]);
            if (!string.Equals(value, _hitValues[i], StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{peer}: UTF-8 key '{_hitKeys[i]}' gave '{value ?? "<absent>"}', expected '{_hitValues[i]}'.");
            }
        }

        foreach (byte[] key in _missUtf8)
        {
            if (get(key) is { } value)
            {
                throw new InvalidOperationException($"{peer}: absent UTF-8 key '{Encoding.UTF8.GetString(key)}' gave '{value}'.");
            }
        }
    }
}
