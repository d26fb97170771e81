using System.Text;

namespace Shmap.Benchmarks;

/// <summary>
/// Deterministic benchmark data: <see cref="Count"/> distinct random ASCII keys of 16–24 chars with
/// values of 24–40 chars, plus helpers for lookup streams of hits and of same-shape misses.
/// </summary>
internal sealed class Dataset
{
    public const int Seed = 20_240_601;
    public const int MinKeyLength = 16;
    public const int MaxKeyLength = 24;
    public const int MinValueLength = 24;
    public const int MaxValueLength = 40;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/";

    private readonly HashSet<string> _keySet;

    private Dataset(string[] keys, string[] values, HashSet<string> keySet)
    {
        Keys = keys;
        Values = values;
        _keySet = keySet;
    }

    /// <summary>Keys in generation order (random order).</summary>
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

    public static Dataset Create(int count, int seed = Seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var random = new Random(seed);
        var keys = new string[count];
        var values = new string[count];
        var keySet = new HashSet<string>(count, StringComparer.Ordinal);
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

        return new Dataset(keys, values, keySet);
    }

    public bool Contains(string key) => _keySet.Contains(key);

    /// <summary><paramref name="count"/> distinct keys of the same shape that are not in the set.</summary>
    public string[] CreateMisses(int count, int seed = Seed + 1)
    {
        var random = new Random(seed);
        var misses = new string[count];
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
}
