using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Shmap.Format;
using Shmap.Platform;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Reading;

/// <summary>
/// The one unsafe reader of snapshot bytes. It trusts nothing but the header checks of
/// <see cref="SnapshotHeader.Parse"/>: every slot, index entry and record length read on any path
/// is checked against the validated section limits before it is used, so corrupt bytes give a
/// <see cref="SnapshotFormatException"/>, never a read outside the snapshot. It hands out
/// <see cref="ReadOnlySpan{T}"/> only.
/// </summary>
internal sealed unsafe class SnapshotReader : IDisposable
{
    private readonly SnapshotMemory _memory;
    private readonly byte* _base;
    private readonly byte* _slots;
    private readonly byte* _index;
    private readonly ulong _dataOffset;
    private readonly ulong _fileLength;
    private readonly ulong _homeSlots;
    private readonly ulong _slotCount;
    private readonly ulong _probeLimit;
    private readonly KeyHasher _hasher;
    private readonly int _offsetBits;
    private readonly ulong _offsetMask;
    private readonly int _indexWidth;
    private int _references = 1;

    public SnapshotReader(SnapshotMemory memory)
    {
        _memory = memory;
        try
        {
            Header = SnapshotHeader.Parse(new ReadOnlySpan<byte>(memory.Pointer, (int)Math.Min(memory.Length, HeaderSize)), memory.Length);
        }
        catch
        {
            memory.Dispose();
            throw;
        }

        _base = memory.Pointer;
        _slots = _base + Header.SlotsOffset;
        _index = _base + Header.IndexOffset;
        _dataOffset = (ulong)Header.DataOffset;
        _fileLength = (ulong)Header.FileLength;
        _homeSlots = Header.HomeSlots;
        _slotCount = (ulong)Header.SlotCount;
        _probeLimit = (ulong)Header.MaxProbe + 1;
        _hasher = new KeyHasher(Header.Seed);
        _offsetBits = Header.OffsetBits;
        _offsetMask = (1UL << _offsetBits) - 1;
        _indexWidth = Header.IndexWidth;
        Count = Header.Count;
    }

    public SnapshotHeader Header { get; }

    public int Count { get; }

    /// <summary>Start of the snapshot, for callers that prefetch (GetMany).</summary>
    internal byte* Base => _base;

    /// <summary>Drops the creator's reference (<see cref="Release"/>).</summary>
    public void Dispose() => Release();

    /// <summary>
    /// Takes one more reference unless the memory is already released. Each reference is dropped
    /// with <see cref="Release"/>; the last one unmaps. Followers and snapshots share one reader so.
    /// </summary>
    public bool TryAddReference()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Drops one reference; the last one unmaps the snapshot.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _memory.Dispose();
        }
    }

    /// <summary>Copies the whole snapshot to <paramref name="destination"/>.</summary>
    public void CopyTo(Stream destination)
    {
        for (long done = 0; done < Header.FileLength;)
        {
            int chunk = (int)Math.Min(1 << 20, Header.FileLength - done);
            destination.Write(new ReadOnlySpan<byte>(_base + done, chunk));
            done += chunk;
        }
    }

    /// <summary>Copies the whole snapshot to <paramref name="destination"/> ({FileLength} bytes) and stamps a publication into its header.</summary>
    public void CopyTo(byte* destination, long version, long publishedAtUnixMs)
    {
        Buffer.MemoryCopy(_base, destination, Header.FileLength, Header.FileLength);
        SnapshotHeader.Stamp(new Span<byte>(destination, HeaderSize), version, publishedAtUnixMs);
    }

    /// <summary>What <see cref="TryFind"/> returns when a record it read does not fit the snapshot.</summary>
    public const ulong Unreadable = ulong.MaxValue;

    /// <summary>Finds <paramref name="key"/> through the hash slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => FindRecord(key, _hasher.Hash(key), out value) != 0;

    /// <summary>
    /// <see cref="TryGetValue"/> that never throws: the offset of <paramref name="key"/>'s record, 0
    /// when absent, <see cref="Unreadable"/> when a record on the way does not fit (then
    /// <see cref="TryGetValue"/> throws the exception that says why). For callers that may be
    /// reading bytes replaced under them (a follower's late calls), which must not raise an
    /// exception for bytes they then discard, nor pay for a try block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong TryFind(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => Find(key, _hasher.Hash(key), out value, lenient: true);

    /// <summary>
    /// Offset of the record holding <paramref name="key"/>, or 0 when it is absent; the record's
    /// value comes out of the same read (reading the record a second time, even from cache, costs a
    /// hit about a quarter of its time at 1M entries: the second read waits on the first's result).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong FindRecord(ReadOnlySpan<byte> key, ulong hash, out ReadOnlySpan<byte> value) => Find(key, hash, out value, lenient: false);

    /// <summary>The hash of <paramref name="key"/> in this snapshot (its seed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong HashOf(ReadOnlySpan<byte> key) => _hasher.Hash(key);

    /// <summary>
    /// The lookup. <paramref name="lenient"/> is a constant at each call: when set, a record that
    /// does not fit gives <see cref="Unreadable"/> instead of an exception.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Find(ReadOnlySpan<byte> key, ulong hash, out ReadOnlySpan<byte> value, bool lenient)
    {
        ulong i = Math.BigMul(hash, _homeSlots, out _);
        ulong tag = hash >> _offsetBits;
        if (Vector256.IsHardwareAccelerated && BitConverter.IsLittleEndian && i + ProbeWindow <= _slotCount)
        {
            // The first 8 slots from home, compared at once: a hit's branches then go the same way
            // every time, so the CPU can run ahead into the next lookup instead of mispredicting.
            ulong* window = (ulong*)(_slots + (i * SlotSize));
            uint matches = WindowMatches(window, tag);
            while (matches != 0)
            {
                ulong offset = window[BitOperations.TrailingZeroCount(matches)] & _offsetMask;
                if (offset != 0)
                {
                    if (ReadRecord(offset, out ReadOnlySpan<byte> candidate, out value, lenient) == 0)
                    {
                        return Unreadable;
                    }

                    if (KeyBytes.Equal(candidate, key))
                    {
                        return offset;
                    }
                }

                matches &= matches - 1;
            }

            // The run goes on past the window only when its last slot is used by a smaller or equal tag.
            ulong last = window[ProbeWindow - 1];
            if (last == 0 || last >> _offsetBits > tag || _probeLimit <= ProbeWindow)
            {
                value = default;
                return 0;
            }

            i += ProbeWindow;
        }

        ulong end = Math.Min(Math.BigMul(hash, _homeSlots, out _) + _probeLimit, _slotCount);
        for (; i < end; i++)
        {
            ulong slot = ReadSlot(i);
            if (slot == 0)
            {
                break;
            }

            ulong slotTag = slot >> _offsetBits;
            if (slotTag < tag)
            {
                continue;
            }

            if (slotTag > tag)
            {
                break;
            }

            ulong offset = slot & _offsetMask;
            if (ReadRecord(offset, out ReadOnlySpan<byte> candidate, out value, lenient) == 0)
            {
                return Unreadable;
            }

            if (KeyBytes.Equal(candidate, key))
            {
                return offset;
            }
        }

        value = default;
        return 0;
    }

    /// <summary>Slots compared at once from a home slot (two 256-bit vectors).</summary>
    private const int ProbeWindow = 8;

    /// <summary>Bit j set when slot j of the <see cref="ProbeWindow"/> slots at <paramref name="window"/> carries <paramref name="tag"/> (the caller checked the window lies in the table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint WindowMatches(ulong* window, ulong tag)
    {
        Vector256<ulong> tags = Vector256.Create(tag);
        return Vector256.Equals(Vector256.ShiftRightLogical(Vector256.Load(window), _offsetBits), tags).ExtractMostSignificantBits()
            | (Vector256.Equals(Vector256.ShiftRightLogical(Vector256.Load(window + 4), _offsetBits), tags).ExtractMostSignificantBits() << 4);
    }

    /// <summary>
    /// Looks a batch of keys up, overlapping their memory misses. Each segment takes three tight
    /// passes: the hashes; each key's first candidate, with the home slot window of the key
    /// <see cref="Constants.BatchPrefetchDistance"/> ahead prefetched; the comparisons, with that
    /// key's candidate record prefetched. Each prefetch covers both lines the read may touch (the
    /// 8-slot window; the record up to the end of the key): the second line of either, left to a
    /// demand miss, cost a fifth of a hit. Short loop bodies let the CPU keep many misses in flight
    /// (one pass per phase measured ~25% faster than phases over chunks of 32 keys).
    /// <paramref name="values"/>[i] receives the value of keys[i], or default.
    /// </summary>
    public void FindMany(ReadOnlySpan<ReadOnlyMemory<byte>> keys, Span<ValueRef> values)
    {
        if (values.Length < keys.Length)
        {
            throw new ArgumentException("One value per key is needed.", nameof(values));
        }

        const int Ahead = Constants.BatchPrefetchDistance;
        Span<ulong> hashes = stackalloc ulong[Constants.BatchChunk];
        Span<ulong> candidates = stackalloc ulong[Constants.BatchChunk];
        for (int start = 0; start < keys.Length; start += Constants.BatchChunk)
        {
            int n = Math.Min(Constants.BatchChunk, keys.Length - start);
            ReadOnlySpan<ReadOnlyMemory<byte>> segment = keys.Slice(start, n);
            Span<ValueRef> found = values.Slice(start, n);
            for (int i = 0; i < n; i++)
            {
                hashes[i] = _hasher.Hash(segment[i].Span);
            }

            for (int i = 0; i < Math.Min(Ahead, n); i++)
            {
                PrefetchHome(hashes[i]);
            }

            for (int i = 0; i < n; i++)
            {
                if (i + Ahead < n)
                {
                    PrefetchHome(hashes[i + Ahead]);
                }

                candidates[i] = FirstCandidate(hashes[i]);
            }

            for (int i = 0; i < Math.Min(Ahead, n); i++)
            {
                PrefetchCandidate(candidates[i], segment[i].Length);
            }

            for (int i = 0; i < n; i++)
            {
                if (i + Ahead < n)
                {
                    PrefetchCandidate(candidates[i + Ahead], segment[i + Ahead].Length);
                }

                ulong candidate = candidates[i];
                found[i] = candidate == 0 ? default : Resolve(candidate, segment[i].Span, hashes[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchHome(ulong hash)
    {
        // Both lines the 8-slot window may span (it does unless the home is the first slot of a line).
        byte* home = _slots + (Math.BigMul(hash, _homeSlots, out _) * SlotSize);
        MemoryHint.Prefetch(home);
        MemoryHint.Prefetch(home + ((ProbeWindow - 1) * SlotSize));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrefetchCandidate(ulong candidate, int keyLength)
    {
        // Only inside the data section (0 and UnknownCandidate are not): a slot's offset is untrusted.
        if (candidate - _dataOffset < _fileLength - _dataOffset)
        {
            // The record's first line and the one its key ends in (the lengths take 2 bytes when
            // short), neither past the end of the data.
            MemoryHint.Prefetch(_base + candidate);
            MemoryHint.Prefetch(_base + Math.Min(candidate + 1 + (uint)keyLength, _fileLength - 1));
        }
    }

    /// <summary>A <see cref="FirstCandidate"/> that the window cannot settle: take the full path.</summary>
    private const ulong UnknownCandidate = ulong.MaxValue;

    /// <summary>
    /// From the probe window at the hash's home slot, without a data-dependent loop: the record
    /// offset of the first slot carrying the hash's tag; 0 when the key is surely absent;
    /// <see cref="UnknownCandidate"/> when only the full path (<see cref="FindRecord"/>) can tell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong FirstCandidate(ulong hash)
    {
        ulong i = Math.BigMul(hash, _homeSlots, out _);
        if (!Vector256.IsHardwareAccelerated || !BitConverter.IsLittleEndian || i + ProbeWindow > _slotCount)
        {
            return UnknownCandidate;
        }

        ulong tag = hash >> _offsetBits;
        ulong* window = (ulong*)(_slots + (i * SlotSize));
        uint matches = WindowMatches(window, tag);
        if (matches != 0)
        {
            ulong offset = window[BitOperations.TrailingZeroCount(matches)] & _offsetMask;
            return offset != 0 ? offset : UnknownCandidate;
        }

        ulong last = window[ProbeWindow - 1];
        return last == 0 || last >> _offsetBits > tag || _probeLimit <= ProbeWindow ? 0 : UnknownCandidate;
    }

    /// <summary>The value of <paramref name="key"/> when the record at <paramref name="candidate"/> holds it; else the full path decides.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ValueRef Resolve(ulong candidate, ReadOnlySpan<byte> key, ulong hash)
    {
        if (candidate != UnknownCandidate)
        {
            ulong end = ReadRecord(candidate, out ReadOnlySpan<byte> candidateKey, out ReadOnlySpan<byte> value);
            if (KeyBytes.Equal(candidateKey, key))
            {
                return new ValueRef((long)end - value.Length, value.Length);
            }
        }

        // Another key with the same tag first in the window (1 in 2^32 per neighbour), or a run
        // longer than the window: the full path.
        ulong offset = FindRecord(key, hash, out _);
        return offset == 0 ? default : ValueRefOf(offset);
    }

    /// <summary>Prefetches the last byte of a found value (a hint: nothing is read, an out-of-range reference is ignored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchValueEnd(ValueRef value)
    {
        ulong end = (ulong)value.Offset + (ulong)value.Length;
        if (value.Length > 0 && end - _dataOffset <= _fileLength - _dataOffset)
        {
            MemoryHint.Prefetch(_base + end - 1);
        }
    }

    /// <summary>The value a <see cref="ValueRef"/> locates, checked against this snapshot's bounds.</summary>
    public ReadOnlySpan<byte> ValueAt(ValueRef value)
    {
        ulong offset = (ulong)value.Offset;
        if (offset < _dataOffset || offset > _fileLength || (ulong)value.Length > _fileLength - offset || value.Length < 0)
        {
            throw new ArgumentException($"The value reference ({value.Offset}, {value.Length}) does not lie in this snapshot's data; use references only with the map that returned them.", nameof(value));
        }

        return new ReadOnlySpan<byte>(_base + offset, value.Length);
    }

    /// <summary>Locates the value of the record at <paramref name="offset"/>.</summary>
    public ValueRef ValueRefOf(ulong offset)
    {
        // The value is the record's tail. (Not `fixed` on the span: that gives null for an empty value.)
        ulong end = ReadRecord(offset, out _, out ReadOnlySpan<byte> value);
        return new ValueRef((long)end - value.Length, value.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadSlot(ulong i)
    {
        ulong slot = Unsafe.ReadUnaligned<ulong>(_slots + (i * SlotSize));
        return BitConverter.IsLittleEndian ? slot : BinaryPrimitivesReverse(slot);
    }

    private static ulong BinaryPrimitivesReverse(ulong value) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value);

    /// <summary>Reads the record at <paramref name="offset"/>, checking it lies inside the data section.</summary>
    /// <returns>The offset just past the record.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadRecord(ulong offset, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => ReadRecord(offset, out key, out value, lenient: false);

    /// <summary>
    /// <see cref="ReadRecord(ulong, out ReadOnlySpan{byte}, out ReadOnlySpan{byte})"/>; when
    /// <paramref name="lenient"/> (a constant at each call), a record that does not fit gives 0
    /// and empty spans instead of an exception. Each byte that bounds a span is read once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadRecord(ulong offset, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, bool lenient)
    {
        if (offset - _dataOffset >= _fileLength - _dataOffset)
        {
            if (lenient)
            {
                key = value = default;
                return 0;
            }

            ThrowRecord(offset, "a record offset inside the data section");
        }

        byte* p = _base + offset;
        ulong left = _fileLength - offset;
        uint keyLength = p[0];
        uint valueLength;
        ulong header;
        if (keyLength < 0x80 && left >= 2 && (valueLength = p[1]) < 0x80)
        {
            header = 2;
        }
        else
        {
            header = ReadLengthsSlow(p, left, offset, out keyLength, out valueLength, lenient);
            if (header == 0)
            {
                key = value = default;
                return 0;
            }
        }

        if (left - header < (ulong)keyLength + valueLength)
        {
            if (lenient)
            {
                key = value = default;
                return 0;
            }

            ThrowRecordTooLong(offset, header + keyLength + valueLength, left);
        }

        key = new ReadOnlySpan<byte>(p + header, (int)keyLength);
        value = new ReadOnlySpan<byte>(p + header + keyLength, (int)valueLength);
        return offset + header + keyLength + valueLength;
    }

    /// <summary>Both lengths as LEB128; 0 when they do not fit and <paramref name="lenient"/>, else an exception.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ReadLengthsSlow(byte* p, ulong left, ulong offset, out uint keyLength, out uint valueLength, bool lenient)
    {
        valueLength = 0;
        ulong used = ReadVarint(p, left, offset, out keyLength, lenient);
        if (used == 0)
        {
            return 0;
        }

        ulong more = ReadVarint(p + used, left - used, offset, out valueLength, lenient);
        return more == 0 ? 0 : used + more;
    }

    private static ulong ReadVarint(byte* p, ulong left, ulong offset, out uint value, bool lenient)
    {
        value = 0;
        ulong result = 0;
        for (int i = 0; i < MaxVarintLength; i++)
        {
            if ((ulong)i >= left)
            {
                break;
            }

            byte b = p[i];
            result |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                if (result > int.MaxValue || (i > 0 && b == 0))
                {
                    if (lenient)
                    {
                        return 0;
                    }

                    ThrowRecord(offset, "a minimal LEB128 length of at most 2^31-1");
                }

                value = (uint)result;
                return (ulong)i + 1;
            }
        }

        if (!lenient)
        {
            ThrowRecord(offset, "a LEB128 length of at most 5 bytes inside the data section");
        }

        return 0;
    }

    /// <summary>Offset of the record of rank <paramref name="index"/> (0 ≤ index &lt; Count, checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong RecordOffsetAt(int index)
    {
        if (_indexWidth == 4)
        {
            uint narrow = Unsafe.ReadUnaligned<uint>(_index + ((long)index * 4));
            return BitConverter.IsLittleEndian ? narrow : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(narrow);
        }

        ulong wide = Unsafe.ReadUnaligned<ulong>(_index + ((long)index * 8));
        return BitConverter.IsLittleEndian ? wide : BinaryPrimitivesReverse(wide);
    }

    /// <summary>Key and value of rank <paramref name="index"/>.</summary>
    public void ReadAt(int index, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => _ = ReadRecord(RecordOffsetAt(index), out key, out value);

    /// <summary>Key of rank <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> KeyAt(int index)
    {
        ReadRecord(RecordOffsetAt(index), out ReadOnlySpan<byte> key, out _);
        return key;
    }

    /// <summary>First rank whose key is ≥ <paramref name="key"/> in ordinal UTF-8 order (Count when none).</summary>
    public int LowerBound(ReadOnlySpan<byte> key)
    {
        int lo = 0;
        int hi = Count;
        while (lo < hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            if (KeyAt(mid).SequenceCompareTo(key) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Rank of the record at <paramref name="offset"/> (found through the index, whose offsets rise with rank).</summary>
    public int RankOfOffset(ulong offset)
    {
        int lo = 0;
        int hi = Count - 1;
        while (lo <= hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            ulong at = RecordOffsetAt(mid);
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

        ThrowRecord(offset, "an index entry for every record the slots point to");
        return -1;
    }

    /// <summary>Full check: body checksum, then every record, the order of keys, and every slot.</summary>
    public void Verify()
    {
        ulong body = Checksum.Body(_base + HeaderSize, Header.FileLength - HeaderSize);
        if (body != Header.BodyChecksum)
        {
            SnapshotHeader.Fail("body_checksum", BodyChecksumOffset, $"0x{body:x16} (XXH3-64 of the body)", $"0x{Header.BodyChecksum:x16}");
        }

        // Records tile the data section in rank order with strictly rising keys.
        ulong expected = _dataOffset;
        ReadOnlySpan<byte> previous = default;
        for (int i = 0; i < Count; i++)
        {
            ulong offset = RecordOffsetAt(i);
            if (offset != expected)
            {
                SnapshotHeader.Fail("index", Header.IndexOffset + ((long)i * _indexWidth), $"record offset {expected}", offset.ToString(CultureInfo.InvariantCulture));
            }

            ulong next = ReadRecord(offset, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
            if (i > 0 && previous.SequenceCompareTo(key) >= 0)
            {
                SnapshotHeader.Fail("data", (long)offset, "keys in strictly rising ordinal UTF-8 order", $"key {i} not above key {i - 1}");
            }

            if (!System.Text.Unicode.Utf8.IsValid(key) || !System.Text.Unicode.Utf8.IsValid(value))
            {
                SnapshotHeader.Fail("data", (long)offset, "UTF-8 key and value", "invalid UTF-8");
            }

            previous = key;
            expected = next;
        }

        if (expected != _fileLength)
        {
            SnapshotHeader.Fail("data_length", DataLengthOffset, $"records ending at {_fileLength}", $"records ending at {expected}");
        }

        // Slots: each record once, tagged with its hash, at or after its home within max_probe,
        // in rising hash order with no empty slot between a home and the entry placed for it.
        var seen = new bool[Count];
        int used = 0;
        ulong previousHash = 0;
        for (ulong i = 0; i < _slotCount; i++)
        {
            ulong slot = ReadSlot(i);
            if (slot == 0)
            {
                continue;
            }

            long at = Header.SlotsOffset + (long)(i * SlotSize);
            ulong offset = slot & _offsetMask;
            int rank = RankOfOffset(offset);
            if (seen[rank])
            {
                SnapshotHeader.Fail("slots", at, "each record in one slot", $"record {rank} twice");
            }

            seen[rank] = true;
            used++;
            ulong hash = StableHash.Hash(KeyAt(rank), Header.Seed); // the reference hash, not the inlined one
            ulong home = Math.BigMul(hash, _homeSlots, out _);
            if (slot >> _offsetBits != hash >> _offsetBits || home > i || i - home >= _probeLimit || hash < previousHash)
            {
                SnapshotHeader.Fail("slots", at, "the key's hash tag, placed in hash order within max_probe of its home", $"slot 0x{slot:x16} for home {home}");
            }

            if (i > home && ReadSlot(i - 1) == 0)
            {
                SnapshotHeader.Fail("slots", at, "no empty slot between an entry and its home", "an empty slot before it");
            }

            previousHash = hash;
        }

        if (used != Count)
        {
            SnapshotHeader.Fail("slots", Header.SlotsOffset, $"{Count} used slots", used.ToString(CultureInfo.InvariantCulture));
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRecord(ulong offset, string expected) => throw new SnapshotFormatException("record", (long)offset, expected, "bytes that do not fit");

    /// <summary>Formats its message here, not at the call site: ReadRecord is inlined into every lookup loop.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRecordTooLong(ulong offset, ulong length, ulong left) => ThrowRecord(offset, $"a record of {length} bytes within the {left} bytes left");
}
