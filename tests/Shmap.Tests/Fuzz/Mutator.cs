using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Shmap.Tests.Corruption;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// Deterministic mutants of valid snapshots for the seeded campaign: mutant <c>i</c> of seed <c>s</c>
/// is the same bytes on every run and machine (System.Random with a seed is stable), so a failure
/// names (seed, index) and anyone can rebuild the input. Raw damage (bit flips, byte sets,
/// truncations, extensions, splices) mostly stops at the header checksum, so most mutants are
/// resealed afterwards (<see cref="ApiSweep.Reseal"/>) and many edit the structure the header
/// describes (fields, slots, index entries, record lengths) to get past the open checks.
/// </summary>
internal static class Mutator
{
    // Header fields (offset, size) as docs/FORMAT.md lays them out.
    private static readonly (int Offset, int Size, string Name)[] s_fields =
    [
        (0, 8, "magic"), (8, 2, "format_version"), (10, 2, "header_size"), (12, 4, "flags"),
        (16, 8, "file_length"), (24, 8, "count"), (32, 8, "hash_seed"), (40, 1, "offset_bits"),
        (41, 1, "index_width"), (42, 2, "reserved"), (44, 4, "max_probe"), (48, 8, "home_slots"),
        (56, 8, "slot_count"), (64, 8, "slots_offset"), (72, 8, "index_offset"), (80, 8, "data_offset"),
        (88, 8, "data_length"), (96, 8, "publish_version"), (104, 8, "published_at"),
        (112, 8, "body_checksum"), (120, 8, "header_checksum"),
    ];

    private const int HeaderSize = 128;

    /// <summary>A mutant and what was done to it (for the failure message).</summary>
    public readonly record struct Mutant(int Base, byte[] Bytes, string Description);

    /// <summary>Mutant <paramref name="index"/> of campaign <paramref name="seed"/>, from one of <paramref name="bases"/>.</summary>
    public static Mutant Make(int seed, long index, IReadOnlyList<byte[]> bases)
    {
        var random = new Random(unchecked((seed * 1_000_003) ^ (int)index ^ (int)(index >> 32)));
        // Small bases most of the time: they are cheap to sweep and their every byte is structure.
        int baseIndex = random.Next(4) == 0 ? random.Next(bases.Count) : random.Next(Math.Min(bases.Count, 7));
        var bytes = new List<byte>(bases[baseIndex]);
        var log = new StringBuilder().Append(CultureInfo.InvariantCulture, $"base {baseIndex}");
        int operations = 1 + (random.Next(3) == 0 ? random.Next(1, 4) : 0);
        for (int o = 0; o < operations; o++)
        {
            log.Append("; ").Append(Apply(random, bytes));
        }

        byte[] result = [.. bytes];
        int reseal = random.Next(10);
        if (reseal < 7)
        {
            ApiSweep.Reseal(result, body: true);
            log.Append("; resealed");
        }
        else if (reseal < 9)
        {
            ApiSweep.Reseal(result, body: false);
            log.Append("; header resealed");
        }

        return new Mutant(baseIndex, result, log.ToString());
    }

    private static string Apply(Random random, List<byte> b)
    {
        switch (random.Next(16))
        {
            case 0:
            case 1:
                {
                    int flips = random.Next(1, 9);
                    for (int i = 0; i < flips && b.Count > 0; i++)
                    {
                        b[random.Next(b.Count)] ^= (byte)(1 << random.Next(8));
                    }

                    return $"{flips} bit flips";
                }

            case 2:
                {
                    int sets = random.Next(1, 9);
                    for (int i = 0; i < sets && b.Count > 0; i++)
                    {
                        b[random.Next(b.Count)] = InterestingByte(random);
                    }

                    return $"{sets} byte sets";
                }

            case 3:
                {
                    int length = random.Next(b.Count + 1);
                    b.RemoveRange(length, b.Count - length);
                    return $"truncated to {length}";
                }

            case 4:
                {
                    int extra = random.Next(1, 65);
                    for (int i = 0; i < extra; i++)
                    {
                        b.Add(random.Next(2) == 0 ? (byte)0 : InterestingByte(random));
                    }

                    return $"extended by {extra}";
                }

            case 5:
            case 6:
            case 7:
                return EditField(random, b);
            case 8:
                return EditTableEntry(random, b, slots: true);
            case 9:
                return EditTableEntry(random, b, slots: false);
            case 10:
                return EditRecordLength(random, b);
            case 11:
                return ResizeConsistently(random, b);
            case 12:
                return PadToPage(b);
            case 13:
                {
                    if (b.Count < 2)
                    {
                        return "splice (too short)";
                    }

                    int from = random.Next(b.Count);
                    int to = random.Next(b.Count);
                    int length = random.Next(1, Math.Min(64, b.Count - Math.Max(from, to)) + 1);
                    byte[] chunk = [.. b.GetRange(from, length)];
                    for (int i = 0; i < length; i++)
                    {
                        b[to + i] = chunk[i];
                    }

                    return $"copied {length} bytes {from} -> {to}";
                }

            case 14:
                {
                    int at = random.Next(b.Count + 1);
                    int length = random.Next(1, 17);
                    if (random.Next(2) == 0)
                    {
                        length = Math.Min(length, b.Count - at);
                        b.RemoveRange(at, length);
                        return $"deleted {length} at {at}";
                    }

                    b.InsertRange(at, Enumerable.Range(0, length).Select(_ => InterestingByte(random)));
                    return $"inserted {length} at {at}";
                }

            default:
                {
                    // Shift a section boundary and keep the header's equations true.
                    if (b.Count < HeaderSize)
                    {
                        return "shift (too short)";
                    }

                    int delta = random.Next(1, 3) * 8 * (random.Next(2) == 0 ? 1 : -1);
                    (int field, string name) = random.Next(3) switch
                    {
                        0 => (24, "count"),
                        1 => (56, "slot_count"),
                        _ => (80, "data_offset"),
                    };
                    ulong step = field == 80 ? (ulong)delta : (ulong)(delta / 8);
                    U64(b, field, U64(b, field) + step);
                    if (field == 56)
                    {
                        U64(b, 72, U64(b, 72) + (ulong)delta);
                    }

                    if (field != 80)
                    {
                        U64(b, 80, U64(b, 80) + (ulong)delta);
                    }

                    U64(b, 88, U64(b, 88) - (ulong)delta);
                    return $"{name} shifted by {delta} bytes, header kept consistent";
                }
        }
    }

    private static string EditField(Random random, List<byte> b)
    {
        if (b.Count < HeaderSize)
        {
            return "field edit (too short)";
        }

        (int offset, int size, string name) = s_fields[random.Next(s_fields.Length)];
        ulong old = Read(b, offset, size);
        ulong length = (ulong)b.Count;
        ulong value = random.Next(24) switch
        {
            0 => 0,
            1 => 1,
            2 => old + 1,
            3 => old - 1,
            4 => old + 8,
            5 => old - 8,
            6 => old * 2,
            7 => old / 2,
            8 => length,
            9 => length - 1,
            10 => length + 1,
            11 => length / 8,
            12 => (length / 8) + 1,
            13 => int.MaxValue,
            14 => 1UL << 31,
            15 => uint.MaxValue,
            16 => 1UL << 32,
            17 => long.MaxValue,
            18 => 1UL << 63,
            19 => ulong.MaxValue,
            20 => (ulong)random.Next(256),
            21 => Read(b, s_fields[random.Next(s_fields.Length)].Offset, size), // another field's value
            22 => old ^ (1UL << random.Next(size * 8)),
            _ => (ulong)random.NextInt64(),
        };
        Write(b, offset, size, value);
        return $"{name} {old} -> {Read(b, offset, size)}";
    }

    /// <summary>Rewrites a slot (8 bytes) or a rank-index entry (index_width bytes) read from the header's offsets.</summary>
    private static string EditTableEntry(Random random, List<byte> b, bool slots)
    {
        if (b.Count < HeaderSize)
        {
            return "table edit (too short)";
        }

        int width = slots ? 8 : (b[41] == 8 ? 8 : 4);
        ulong start = slots ? U64(b, 64) : U64(b, 72);
        ulong entries = slots ? U64(b, 56) : U64(b, 24);
        if (entries == 0 || start >= (ulong)b.Count)
        {
            return slots ? "slot edit (no slots)" : "index edit (no entries)";
        }

        int at = (int)Math.Min(start + ((ulong)random.NextInt64((long)Math.Min(entries, int.MaxValue)) * (ulong)width), (ulong)(b.Count - width));
        ulong old = Read(b, at, width);
        int bits = b[40] is > 0 and < 64 ? b[40] : 32;
        ulong mask = (1UL << bits) - 1;
        ulong otherAt = Math.Min(start + ((ulong)random.NextInt64((long)Math.Min(entries, int.MaxValue)) * (ulong)width), (ulong)(b.Count - width));
        ulong other = Read(b, (int)otherAt, width);
        ulong value = random.Next(10) switch
        {
            0 => 0,
            1 => old + 1,
            2 => old - 1,
            3 => other,                                                   // another entry's
            4 => (old & ~mask) | (other & mask),                           // own tag, another record
            5 => (old & ~mask) | ((ulong)b.Count - (ulong)random.Next(1, 4)), // a record at the very end
            6 => (old & ~mask) | U64(b, 72),                               // into the index
            7 => old ^ (1UL << random.Next(width * 8)),
            8 => ulong.MaxValue,
            _ => (ulong)random.NextInt64(),
        };
        Write(b, at, width, value);
        return $"{(slots ? "slot" : "index entry")} at {at}: {old:x} -> {Read(b, at, width):x}";
    }

    /// <summary>Overwrites the key or value length of a record (found through the rank index) with an odd LEB128.</summary>
    private static string EditRecordLength(Random random, List<byte> b)
    {
        if (b.Count < HeaderSize || U64(b, 24) == 0)
        {
            return "length edit (no records)";
        }

        int width = b[41] == 8 ? 8 : 4;
        ulong indexAt = U64(b, 72) + ((ulong)random.NextInt64((long)Math.Min(U64(b, 24), int.MaxValue)) * (ulong)width);
        if (indexAt + (ulong)width > (ulong)b.Count)
        {
            return "length edit (index outside)";
        }

        ulong record = Read(b, (int)indexAt, width);
        if (record >= (ulong)b.Count)
        {
            return "length edit (record outside)";
        }

        int at = (int)record + (random.Next(2) == 0 ? 0 : 1); // key length, or (for short keys) the value length
        byte[] leb = random.Next(8) switch
        {
            0 => [0x80, 0x00],                         // not minimal
            1 => [0xFF, 0xFF, 0xFF, 0xFF, 0x07],       // 2^31 - 1
            2 => [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],       // over int
            3 => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], // six bytes
            4 => [0x81, 0x80, 0x80, 0x80, 0x00],       // five bytes, not minimal
            5 => [(byte)random.Next(128)],
            6 => [(byte)(0x80 | random.Next(128)), (byte)random.Next(1, 128)],
            _ => [0x80],                               // a continuation with nothing after it
        };
        for (int i = 0; i < leb.Length && at + i < b.Count; i++)
        {
            b[at + i] = leb[i];
        }

        return $"record at {record}: length bytes at {at} = {Convert.ToHexString(leb)}";
    }

    /// <summary>Cuts or extends the data section and sets file_length and data_length to match: the header stays valid, the records do not.</summary>
    private static string ResizeConsistently(Random random, List<byte> b)
    {
        if (b.Count <= HeaderSize)
        {
            return "resize (too short)";
        }

        int delta = random.Next(3) == 0 ? random.Next(1, 40) : -random.Next(1, Math.Min(40, b.Count - HeaderSize) + 1);
        if (delta > 0)
        {
            b.AddRange(Enumerable.Repeat((byte)(random.Next(2) == 0 ? 0 : 0x80), delta));
        }
        else
        {
            b.RemoveRange(b.Count + delta, -delta);
        }

        U64(b, 16, (ulong)b.Count);
        U64(b, 88, U64(b, 88) + (ulong)delta);
        return $"resized by {delta}, file_length and data_length fixed";
    }

    /// <summary>Pads with zeros to a whole number of pages (fixing the lengths), so a mapped read past the end hits the guard page, not the page's zero tail.</summary>
    private static string PadToPage(List<byte> b)
    {
        int target = (int)GuardPages.RoundUp(b.Count + 1);
        int delta = target - b.Count;
        b.AddRange(new byte[delta]);
        if (b.Count >= HeaderSize)
        {
            U64(b, 16, (ulong)b.Count);
            U64(b, 88, U64(b, 88) + (ulong)delta);
        }

        return $"padded by {delta} to {target} (one page multiple), lengths fixed";
    }

    private static byte InterestingByte(Random random) => random.Next(6) switch
    {
        0 => 0,
        1 => 0xFF,
        2 => 0x7F,
        3 => 0x80,
        4 => (byte)random.Next(1, 8),
        _ => (byte)random.Next(256),
    };

    private static ulong U64(List<byte> b, int offset) => Read(b, offset, 8);

    private static void U64(List<byte> b, int offset, ulong value) => Write(b, offset, 8, value);

    private static ulong Read(List<byte> b, int offset, int size)
    {
        Span<byte> buffer = stackalloc byte[8];
        buffer.Clear();
        for (int i = 0; i < size && offset + i < b.Count; i++)
        {
            buffer[i] = b[offset + i];
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(buffer);
    }

    private static void Write(List<byte> b, int offset, int size, ulong value)
    {
        for (int i = 0; i < size && offset + i < b.Count; i++)
        {
            b[offset + i] = (byte)(value >> (8 * i));
        }
    }
}
