using System.Text;
using Shmap.Cli.Demo;

namespace Shmap.Benchmarks;

/// <summary>The data a benchmark looks up.</summary>
public enum Workload
{
    /// <summary>Distinct random ASCII keys of 16–24 chars, values of 24–40 chars.</summary>
    Ascii,

    /// <summary>
    /// The demo's user profiles (<see cref="Profiles"/>, compiled from the CLI's sources): keys
    /// <c>user:%08d</c>, JSON values of about 80 bytes, 56% of them with non-ASCII text.
    /// </summary>
    Profiles,
}

/// <summary>
/// Deterministic benchmark data of a <see cref="Benchmarks.Workload"/>: <see cref="Count"/> distinct
/// keys with their values, plus helpers for lookup streams of hits and of same-shape misses.
/// </summary>
internal sealed class Dataset
{
    public const int Seed = 20_240_601;
    public const int MinKeyLength = 16;
    public const int MaxKeyLength = 24;
    public const int MinValueLength = 24;
    public const int MaxValueLength = 40;

    /// <summary>Profile ids stay below this, so every profile key has the same 13 chars.</summary>
    private const int MaxProfiles = 100_000_000;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/";

    private readonly HashSet<string> _keySet;

    private Dataset(Workload workload, string[] keys, string[] values, HashSet<string> keySet)
    {
        Workload = workload;
        Keys = keys;
        Values = values;
        _keySet = keySet;
    }

    public Workload Workload { get; }

    /// <summary>Keys in generation order (random order for <see cref="Workload.Ascii"/>, id order for profiles).</summary>
    public string[] Keys { get; }

    /// <summary>Values, <c>Values[i]</c> belongs to <c>Keys[i]</c>.</summary>
    public string[] Values { get; }

    public int Count => Keys.Length;

    /// <summary>Sum of the UTF-8 lengths of every key and value (ASCII: one byte a char).</summary>
    public long RawUtf8Bytes
    {
        get
        {
            long total = 0;
            for (int i = 0; i < Keys.Length; i++)
            {
                total += Encoding.UTF8.GetByteCount(Keys[i]) + Encoding.UTF8.GetByteCount(Values[i]);
            }

            return total;
        }
    }

    public static Dataset Create(int count, Workload workload = Workload.Ascii, int seed = Seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = new Random(seed);
        var keys = new string[count];
        var values = new string[count];
        var keySet = new HashSet<string>(count, StringComparer.Ordinal);
        if (workload == Workload.Profiles)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxProfiles / 2);
            for (int i = 0; i < count; i++)
            {
                keys[i] = Profiles.Key(i);
                values[i] = Profiles.Value(random);
                keySet.Add(keys[i]);
            }

            return new Dataset(workload, keys, values, keySet);
        }

        for (int i = 0; i < count;)
        {
            string key = RandomText(random, MinKeyLength, MaxKeyLength);
            if (!keySet.Add(key))
            {
                continue;
            }

            keys[i] = key;
            values[i] = RandomText(random, MinValueLength, MaxValueLength);
            i++;
        }

        return new Dataset(workload, keys, values, keySet);
    }

    public bool Contains(string key) => _keySet.Contains(key);

    /// <summary><paramref name="count"/> distinct keys of the same shape that are not in the set.</summary>
    public string[] CreateMisses(int count, int seed = Seed + 1)
    {
        var random = new Random(seed);
        var misses = new string[count];
        if (Workload == Workload.Profiles)
        {
            // Users that are not there (yet): the ids after the last one.
            for (int i = 0; i < count; i++)
            {
                misses[i] = Profiles.Key(Count + i);
            }

            return misses;
        }

        var seen = new HashSet<string>(count, StringComparer.Ordinal);
        for (int i = 0; i < count;)
        {
            string key = RandomText(random, MinKeyLength, MaxKeyLength);
            if (_keySet.Contains(key) || !seen.Add(key))
            {
                continue;
            }

            misses[i++] = key;
        }

        return misses;
    }

    /// <summary>
    /// Indexes into an array of <paramref name="count"/> items, <paramref name="length"/> long: whole
    /// shuffled permutations one after another (the last one cut short), so every item is looked up
    /// equally often in random order.
    /// </summary>
    public static int[] ShuffledOrder(int count, int length, int seed = Seed + 2)
    {
        var random = new Random(seed);
        var order = new int[length];
        var permutation = new int[count];
        for (int i = 0; i < count; i++)
        {
            permutation[i] = i;
        }

        for (int done = 0; done < length; done += count)
        {
            random.Shuffle(permutation);
            permutation.AsSpan(0, Math.Min(count, length - done)).CopyTo(order.AsSpan(done));
        }

        return order;
    }

    /// <summary>
    /// Fresh string copies of <c>source[order[i]]</c>, allocated in lookup order so that walking the
    /// lookup array reads them sequentially: only the map's own memory is touched at random.
    /// </summary>
    public static string[] CopyInOrder(string[] source, int[] order)
    {
        var copies = new string[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            copies[i] = new string(source[order[i]].AsSpan());
        }

        return copies;
    }

    /// <summary>
    /// Copies of <c>source[order[i]]</c> as "cold" keys: each copy lives in a record of its own
    /// (the key and 64 bytes of other fields, as rows of a table being joined), and the records are
    /// allocated in an order unrelated to the lookup order, so walking the lookup array reads every
    /// key from a different place in the heap. <paramref name="records"/> keeps the records (and
    /// so the spread) alive.
    /// </summary>
    public static string[] CopyScattered(string[] source, int[] order, out object[] records, int seed = Seed + 4)
    {
        int[] allocation = ShuffledOrder(order.Length, order.Length, seed);
        var copies = new string[order.Length];
        records = new object[order.Length];
        foreach (int i in allocation)
        {
            copies[i] = new string(source[order[i]].AsSpan());
            records[i] = new ColdRecord(copies[i]);
        }

        return copies;
    }

    /// <summary>UTF-8 encodings of <paramref name="keys"/>, allocated in order.</summary>
    public static byte[][] EncodeInOrder(string[] keys)
    {
        var encoded = new byte[keys.Length][];
        for (int i = 0; i < keys.Length; i++)
        {
            encoded[i] = Encoding.UTF8.GetBytes(keys[i]);
        }

        return encoded;
    }

    /// <summary>
    /// UTF-8 encodings of <paramref name="keys"/> as "cold" keys (<see cref="CopyScattered"/>): each
    /// followed in the heap by 64 bytes of other fields, allocated in an order unrelated to the
    /// lookup order. <paramref name="records"/> keeps the fields (and so the spread) alive.
    /// </summary>
    public static byte[][] EncodeScattered(string[] keys, out object[] records, int seed = Seed + 5)
    {
        int[] allocation = ShuffledOrder(keys.Length, keys.Length, seed);
        var encoded = new byte[keys.Length][];
        records = new object[keys.Length];
        foreach (int i in allocation)
        {
            encoded[i] = Encoding.UTF8.GetBytes(keys[i]);
            records[i] = new byte[64];
        }

        return encoded;
    }

    private static string RandomText(Random random, int minLength, int maxLength)
    {
        int length = random.Next(minLength, maxLength + 1);
        return string.Create(length, random, static (chars, r) =>
        {
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[r.Next(Alphabet.Length)];
            }
        });
    }

    /// <summary>A row holding a key among other fields (the "cold" keys' neighbours in the heap).</summary>
    private sealed record ColdRecord(string Key)
    {
        public byte[] Fields { get; } = new byte[64];
    }
}
