namespace Shmap.Reading;

/// <summary>Queries over the rank index (entry i is the offset of the i-th key in ordinal UTF-8 order).</summary>
internal static class RankQueries
{
    /// <summary>Key and value of rank <paramref name="index"/> (0 ≤ index &lt; Count, checked by the caller).</summary>
    public static void ReadAt(SnapshotReader reader, int index, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) =>
        _ = reader.ReadRecord(reader.RecordOffsetAt(index), out key, out value);

    /// <summary>Key of rank <paramref name="index"/>.</summary>
    public static ReadOnlySpan<byte> KeyAt(SnapshotReader reader, int index)
    {
        reader.ReadRecord(reader.RecordOffsetAt(index), out ReadOnlySpan<byte> key, out _);
        return key;
    }

    /// <summary>Value of rank <paramref name="index"/>.</summary>
    public static ReadOnlySpan<byte> ValueAt(SnapshotReader reader, int index)
    {
        reader.ReadRecord(reader.RecordOffsetAt(index), out _, out ReadOnlySpan<byte> value);
        return value;
    }

    /// <summary>First rank whose key is ≥ <paramref name="key"/> in ordinal UTF-8 order (Count when none).</summary>
    public static int LowerBound(SnapshotReader reader, ReadOnlySpan<byte> key)
    {
        int lo = 0;
        int hi = reader.Count;
        while (lo < hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            if (KeyAt(reader, mid).SequenceCompareTo(key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        GC.KeepAlive(reader);
        return lo;
    }

    /// <summary>Rank of the record at <paramref name="offset"/> (found through the index, whose offsets rise with rank).</summary>
    public static int RankOfOffset(SnapshotReader reader, ulong offset)
    {
        int lo = 0;
        int hi = reader.Count - 1;
        while (lo <= hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            ulong at = reader.RecordOffsetAt(mid);
            if (at == offset)
            {
                return mid;
            }

            if (at < offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        ThrowHelper.Record(offset, "an index entry for every record the slots point to");
        return -1;
    }
}
