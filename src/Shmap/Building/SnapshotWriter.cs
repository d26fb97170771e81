using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Shmap.Format;
using Shmap.Platform;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Building;

/// <summary>
/// Lays out a snapshot from entries in ordinal UTF-8 key order (docs/FORMAT.md). <see cref="Plan"/>
/// hashes the keys and places them in the slot table; <see cref="Write"/> then fills a destination
/// of exactly <see cref="FileLength"/> bytes. The output depends only on the entries.
/// </summary>
/// <remarks>
/// Unsafe because the destination is a pointer: the publisher's mapped temporary file (snapshots
/// may exceed 2 GiB, more than a span holds), a pinned array (<see cref="ToArray"/>) or a native
/// buffer (<see cref="WriteTo"/>). Trusts: the destination holds <see cref="FileLength"/> writable
/// bytes. Checks: every write lands inside the section <see cref="Plan"/> computed for it (slots
/// by slot index below SlotCount, index entries by rank below Count, records as spans of their
/// exact length inside the data), and those sections tile [0, FileLength).
/// </remarks>
internal sealed unsafe class SnapshotWriter
{
    private readonly byte[][] _keys;
    private readonly byte[][] _values;
    private readonly ulong[] _hashes;
    private readonly int[] _slotOfEntry;
    private readonly SnapshotHeader _header;

    private SnapshotWriter(byte[][] keys, byte[][] values, ulong[] hashes, int[] slotOfEntry, SnapshotHeader header)
    {
        _keys = keys;
        _values = values;
        _hashes = hashes;
        _slotOfEntry = slotOfEntry;
        _header = header;
    }

    /// <summary>Length of the snapshot in bytes.</summary>
    public long FileLength => _header.FileLength;

    /// <summary>Plans the layout of <paramref name="keys"/> (strictly increasing) and their values; <paramref name="dataLength"/> is the sum of their record lengths.</summary>
    public static SnapshotWriter Plan(byte[][] keys, byte[][] values, long dataLength)
    {
        int n = keys.Length;
        ulong seed = StableHash.DefaultSeed;
        var hasher = new KeyHasher(seed);
        var hashes = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            // The keys are scattered over the heap: fetch a few ahead so their misses overlap.
            Prefetch(keys, i + PrefetchDistance);
            hashes[i] = hasher.Hash(keys[i]);
        }

        ulong homeSlots = n == 0 ? 0 : (ulong)Math.Ceiling(n / Constants.LoadFactor);
        int[] order = OrderByHash(hashes, homeSlots);

        // Place in hash order: each entry goes to its home slot or right after the previous one,
        // so slots stay sorted by hash and a lookup can stop at the first larger tag.
        var slotOfEntry = new int[n];
        long next = 0;
        uint maxProbe = 0;
        foreach (int i in order)
        {
            long home = (long)StableHash.Home(hashes[i], homeSlots);
            long pos = Math.Max(home, next);
            slotOfEntry[i] = (int)pos;
            maxProbe = Math.Max(maxProbe, (uint)(pos - home));
            next = pos + 1;
        }

        long slotCount = Math.Max((long)homeSlots, next);
        long lengthNarrow = HeaderSize + (slotCount * SlotSize) + (n * 4L) + dataLength;
        int indexWidth = lengthNarrow <= (1L << 32) ? 4 : 8;
        long fileLength = HeaderSize + (slotCount * SlotSize) + (n * (long)indexWidth) + dataLength;
        int offsetBits = SnapshotHeader.OffsetBitsFor(fileLength);

        var header = new SnapshotHeader
        {
            FileLength = fileLength,
            Count = n,
            Seed = seed,
            OffsetBits = offsetBits,
            IndexWidth = indexWidth,
            MaxProbe = maxProbe,
            HomeSlots = homeSlots,
            SlotCount = slotCount,
            SlotsOffset = HeaderSize,
            IndexOffset = HeaderSize + (slotCount * SlotSize),
            DataOffset = HeaderSize + (slotCount * SlotSize) + (n * (long)indexWidth),
            DataLength = dataLength,
        };
        return new SnapshotWriter(keys, values, hashes, slotOfEntry, header);
    }

    /// <summary>Writes the whole snapshot to <paramref name="destination"/>, which holds <see cref="FileLength"/> bytes.</summary>
    public void Write(byte* destination, long publishVersion = 0, long publishedAtUnixMs = 0)
    {
        SnapshotHeader h = _header;
        int bits = h.OffsetBits;
        var slots = (ulong*)(destination + h.SlotsOffset);
        NativeMemory.Clear(slots, (nuint)(h.SlotCount * SlotSize));

        byte* index = destination + h.IndexOffset;
        byte* data = destination + h.DataOffset;
        long offset = h.DataOffset;
        for (int i = 0; i < _keys.Length; i++)
        {
            Prefetch(_keys, i + PrefetchDistance);
            Prefetch(_values, i + PrefetchDistance);
            byte[] key = _keys[i];
            byte[] value = _values[i];
            ulong tag = _hashes[i] >> bits << bits;
            WriteSlot(slots + _slotOfEntry[i], tag | (ulong)offset);
            if (h.IndexWidth == 4)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(index + (i * 4L), 4), (uint)offset);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(index + (i * 8L), 8), (ulong)offset);
            }

            long length = RecordCodec.Write(new Span<byte>(data, (int)RecordCodec.RecordLength(key.Length, value.Length)), key, value);
            data += length;
            offset += length;
        }

        var header = h with
        {
            BodyChecksum = Checksum.Body(h.FileLength - HeaderSize, (offset, length) => new ReadOnlySpan<byte>(destination + HeaderSize + offset, length)),
            PublishVersion = publishVersion,
            PublishedAtUnixMs = publishedAtUnixMs,
        };
        header.Write(new Span<byte>(destination, HeaderSize));
    }

    /// <summary>The snapshot as a new array (<c>Dump</c>).</summary>
    /// <exception cref="InvalidOperationException">The snapshot is too large for one array.</exception>
    public byte[] ToArray()
    {
        if (FileLength > Array.MaxLength)
        {
            throw new InvalidOperationException($"The snapshot is {FileLength} bytes, more than one array holds; use WriteTo(Stream) instead.");
        }

        byte[] bytes = GC.AllocateUninitializedArray<byte>((int)FileLength);
        fixed (byte* destination = bytes)
        {
            Write(destination);
        }

        return bytes;
    }

    /// <summary>Writes the snapshot to <paramref name="destination"/> through a native buffer (any size).</summary>
    public void WriteTo(Stream destination)
    {
        byte* buffer = (byte*)NativeMemory.Alloc((nuint)FileLength);
        try
        {
            Write(buffer);
            for (long done = 0; done < FileLength;)
            {
                int chunk = (int)Math.Min(1 << 20, FileLength - done);
                destination.Write(new ReadOnlySpan<byte>(buffer + done, chunk));
                done += chunk;
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Entries ahead of the current one whose bytes are prefetched.</summary>
    private const int PrefetchDistance = 8;

    /// <summary>Asks for the contents of <paramref name="arrays"/>[i] ahead of use (nothing past the end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte[][] arrays, int i)
    {
        if ((uint)i < (uint)arrays.Length)
        {
            MemoryHint.Prefetch(arrays[i], 0);
        }
    }

    private static void WriteSlot(ulong* slot, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(slot, 8), value);

    /// <summary>Entry indexes sorted by (hash, key order): a counting sort on the home slot, then insertion sort inside each home.</summary>
    private static int[] OrderByHash(ulong[] hashes, ulong homeSlots)
    {
        int n = hashes.Length;
        var order = new int[n];
        if (n == 0)
        {
            return order;
        }

        var starts = new int[(long)homeSlots + 1];
        for (int i = 0; i < n; i++)
        {
            starts[(long)StableHash.Home(hashes[i], homeSlots) + 1]++;
        }

        for (long s = 1; s < starts.Length; s++)
        {
            starts[s] += starts[s - 1];
        }

        var fill = (int[])starts.Clone();
        for (int i = 0; i < n; i++)
        {
            order[fill[(long)StableHash.Home(hashes[i], homeSlots)]++] = i;
        }

        // Entries sharing a home are few (the load factor keeps them so); i rises within a home
        // already, so a stable insertion sort on the hash gives (hash, key order).
        for (long s = 0; s < (long)homeSlots; s++)
        {
            int lo = starts[s];
            int hi = starts[s + 1];
            for (int a = lo + 1; a < hi; a++)
            {
                int item = order[a];
                ulong hash = hashes[item];
                int b = a - 1;
                while (b >= lo && hashes[order[b]] > hash)
                {
                    order[b + 1] = order[b];
                    b--;
                }

                order[b + 1] = item;
            }
        }

        return order;
    }
}
