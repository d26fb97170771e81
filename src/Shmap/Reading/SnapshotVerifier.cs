using Shmap.Format;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Reading;

/// <summary>The full check of a snapshot (<c>Verify</c>): body checksum, then every record, the order of keys, and every slot.</summary>
internal static class SnapshotVerifier
{
    /// <summary>Maps and verifies a snapshot file (a copy being published by Import), then lets it go.</summary>
    public static void VerifyFile(FileStream file)
    {
        using var reader = new SnapshotReader(SnapshotMemory.MapFile(file));
        Verify(reader);
    }

    public static void Verify(SnapshotReader reader)
    {
        SnapshotHeader header = reader.Header;
        ulong body = Checksum.Body(header.FileLength - HeaderSize, (offset, length) => reader.Bytes(HeaderSize + offset, length));
        if (body != header.BodyChecksum)
        {
            ThrowHelper.Format("body_checksum", BodyChecksumOffset, $"0x{body:x16} (XXH3-64 of the body)", $"0x{header.BodyChecksum:x16}");
        }

        // Records tile the data section in rank order with strictly rising keys.
        int count = reader.Count;
        ulong fileLength = (ulong)header.FileLength;
        ulong expected = (ulong)header.DataOffset;
        ReadOnlySpan<byte> previous = default;
        for (int i = 0; i < count; i++)
        {
            ulong offset = reader.RecordOffsetAt(i);
            if (offset != expected)
            {
                ThrowHelper.Format("index", header.IndexOffset + ((long)i * header.IndexWidth), $"record offset {expected}", offset.ToString(CultureInfo.InvariantCulture));
            }

            ulong next = reader.ReadRecord(offset, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
            if (i > 0 && previous.SequenceCompareTo(key) >= 0)
            {
                ThrowHelper.Format("data", (long)offset, "keys in strictly rising ordinal UTF-8 order", $"key {i} not above key {i - 1}");
            }

            if (!System.Text.Unicode.Utf8.IsValid(key) || !System.Text.Unicode.Utf8.IsValid(value))
            {
                ThrowHelper.Format("data", (long)offset, "UTF-8 key and value", "invalid UTF-8");
            }

            previous = key;
            expected = next;
        }

        if (expected != fileLength)
        {
            ThrowHelper.Format("data_length", DataLengthOffset, $"records ending at {fileLength}", $"records ending at {expected}");
        }

        // Slots: each record once, tagged with its hash, at or after its home within max_probe,
        // in rising hash order with no empty slot between a home and the entry placed for it.
        int offsetBits = header.OffsetBits;
        ulong offsetMask = (1UL << offsetBits) - 1;
        ulong probeLimit = (ulong)header.MaxProbe + 1;
        var seen = new bool[count];
        int used = 0;
        ulong previousHash = 0;
        for (ulong i = 0; i < (ulong)header.SlotCount; i++)
        {
            ulong slot = reader.ReadSlot(i);
            if (slot == 0)
            {
                continue;
            }

            long at = header.SlotsOffset + (long)(i * SlotSize);
            ulong offset = slot & offsetMask;
            int rank = RankQueries.RankOfOffset(reader, offset);
            if (seen[rank])
            {
                ThrowHelper.Format("slots", at, "each record in one slot", $"record {rank} twice");
            }

            seen[rank] = true;
            used++;
            ulong hash = StableHash.Hash(RankQueries.KeyAt(reader, rank), header.Seed); // the reference hash, not the inlined one
            ulong home = StableHash.Home(hash, header.HomeSlots);
            if (slot >> offsetBits != hash >> offsetBits || home > i || i - home >= probeLimit || hash < previousHash)
            {
                ThrowHelper.Format("slots", at, "the key's hash tag, placed in hash order within max_probe of its home", $"slot 0x{slot:x16} for home {home}");
            }

            if (i > home && reader.ReadSlot(i - 1) == 0)
            {
                ThrowHelper.Format("slots", at, "no empty slot between an entry and its home", "an empty slot before it");
            }

            previousHash = hash;
        }

        if (used != count)
        {
            ThrowHelper.Format("slots", header.SlotsOffset, $"{count} used slots", used.ToString(CultureInfo.InvariantCulture));
        }

        GC.KeepAlive(reader);
    }
}
