using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// The valid snapshots the fuzzers start from, made by the builder (public API only): the files
/// <c>fuzz/corpus/seed-*.shmap</c> (written by <c>Shmap.Fuzz make-corpus</c>) and the bases the
/// mutation campaign damages. Deterministic: the same bytes on every run.
/// </summary>
internal static class SeedCorpus
{
    /// <summary>Name (file stem) and builder of each seed.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Build() =>
    [
        ("seed-empty", new SharedMapBuilder().Dump()),
        ("seed-one", new SharedMapBuilder { ["k"] = "v" }.Dump()),
        ("seed-empty-key-and-values", new SharedMapBuilder { [string.Empty] = string.Empty, ["a"] = string.Empty, ["b"] = "x" }.Dump()),
        ("seed-non-ascii", NonAscii().Dump()),
        ("seed-small", TestMaps.Build(Corruption.SnapshotCorruptionTests.Entries()).Dump()),
        ("seed-prefixes", Prefixes().Dump()),
        ("seed-collisions", Collisions().Dump()),
        ("seed-300", Numbered(300).Dump()),
        ("seed-long-lengths", LongLengths().Dump()),
    ];

    private static SharedMapBuilder NonAscii() => new()
    {
        ["é"] = "e\u0301",
        ["红"] = "32是",
        ["😀"] = "\uFFFD",
        ["\uE000"] = "private use",
        ["\uFFFF"] = "last BMP",
        ["\U0010FFFF"] = "last code point",
        ["a\u0000b"] = "NUL inside",
        ["Ω≈ç√"] = "ünïcödé",
    };

    private static SharedMapBuilder Prefixes()
    {
        var builder = new SharedMapBuilder();
        foreach (string key in new[] { "a", "ab", "abc", "abd", "abz", "b", "ba", "k", "k0", "k1", "ka", "t", "z", "zz", "红", "红红" })
        {
            builder[key] = key.ToUpperInvariant();
        }

        return builder;
    }

    /// <summary>More than 2^8 records: index and slot table past one byte's worth.</summary>
    private static SharedMapBuilder Numbered(int count)
    {
        var builder = new SharedMapBuilder();
        for (int i = 0; i < count; i++)
        {
            builder["key" + i.ToString("D4", CultureInfo.InvariantCulture)] = new string((char)('a' + (i % 26)), i % 40);
        }

        return builder;
    }

    /// <summary>Lengths of 1, 2 and 3 LEB128 bytes (127, 128, 16,384 and more).</summary>
    private static SharedMapBuilder LongLengths() => new()
    {
        [new string('k', 127)] = new string('v', 128),
        [new string('K', 128)] = new string('V', 16_384),
        ["short"] = new string('w', 16_383),
    };

    /// <summary>
    /// 24 keys that all share one home slot (so max_probe is 23 and every lookup walks a run), plus
    /// two keys whose hashes share the top 32 bits (the same tag: a lookup must compare the key).
    /// The format's hash is XXH3-64 with seed 0, so these are found by search, deterministically.
    /// </summary>
    private static SharedMapBuilder Collisions()
    {
        const int Shared = 24;
        var builder = new SharedMapBuilder();
        ulong homeSlots = HomeSlots(Shared + 2);
        int found = 0;
        for (int i = 0; found < Shared; i++)
        {
            string key = "h" + i.ToString(CultureInfo.InvariantCulture);
            if (Home(Hash(key), homeSlots) == 0)
            {
                builder[key] = "home 0 #" + found.ToString(CultureInfo.InvariantCulture);
                found++;
            }
        }

        var byTag = new Dictionary<uint, string>();
        for (int i = 0; ; i++)
        {
            string key = "t" + i.ToString(CultureInfo.InvariantCulture);
            uint tag = (uint)(Hash(key) >> 32);
            if (byTag.TryGetValue(tag, out string? other))
            {
                builder[other] = "same tag as " + key;
                builder[key] = "same tag as " + other;
                return builder;
            }

            byTag.Add(tag, key);
        }
    }

    private static ulong Hash(string key) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(key));

    private static ulong Home(ulong hash, ulong homeSlots) => (ulong)((UInt128)hash * homeSlots >> 64);

    /// <summary>home_slots (header offset 48) of a map of <paramref name="count"/> entries: it depends on the count only.</summary>
    private static ulong HomeSlots(int count) => BinaryPrimitives.ReadUInt64LittleEndian(Numbered(count).Dump().AsSpan(48));
}
