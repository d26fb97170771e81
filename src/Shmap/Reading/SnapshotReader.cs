using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Shmap.Format;
using Shmap.Platform;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Reading;

/// <summary>
/// The validated view of one snapshot and its point lookup: the unsafe core every query goes
/// through (batches: <see cref="BatchLookup"/>; ranks: <see cref="RankQueries"/>; the full check:
/// <see cref="SnapshotVerifier"/>; strings: <see cref="StringLookup"/>).
/// </summary>
/// <remarks>
/// <para>Trusts: <see cref="SnapshotHeader.Parse"/>, which has checked that every section lies
/// inside the <see cref="SnapshotMemory.Length"/> bytes at <see cref="SnapshotMemory.Pointer"/>
/// (in 64-bit arithmetic), and that those bytes stay mapped while this reader is reachable (its
/// memory's references; the follower's ranges).</para>
/// <para>Checks: every slot, index entry and record length it reads on any path before it uses
/// it; a record must lie inside the data section, so corrupt bytes give a
/// <see cref="SnapshotFormatException"/> (or <see cref="Unreadable"/> from the lenient lookup),
/// never a read outside the snapshot. The 8-slot window is read only when it lies inside the slot
/// table; prefetches (which never fault) only inside the data. It hands out
/// <see cref="ReadOnlySpan{T}"/> only.</para>
/// <para>Lifetime: a map dropped without Dispose has its bytes freed by a finalizer once this reader
/// is unreachable; so every method that reads them ends with <see cref="GC.KeepAlive"/>, and
/// callers that go on reading a span it returned keep the reader reachable until they are done.</para>
/// </remarks>
internal sealed unsafe class SnapshotReader : IDisposable
{
    /// <summary>What <see cref="TryFind"/> returns when a record it read does not fit the snapshot.</summary>
    public const ulong Unreadable = ulong.MaxValue;

    /// <summary>A <see cref="FirstCandidate"/> that the window cannot settle: take the full path.</summary>
    public const ulong UnknownCandidate = ulong.MaxValue;

    /// <summary>Slots compared at once from a home slot (two 256-bit vectors).</summary>
    private const int ProbeWindow = 8;

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

    /// <summary>Validates the header of <paramref name="memory"/> and takes over its reference (released here when the header is bad).</summary>
    public SnapshotReader(SnapshotMemory memory)
    {
        _memory = memory;
        try
        {
            Header = SnapshotHeader.Parse(new ReadOnlySpan<byte>(memory.Pointer, (int)Math.Min(memory.Length, HeaderSize)), memory.Length);
        }
        catch
        {
            memory.Release();
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

    /// <summary>Start of the snapshot (tests compare where versions land).</summary>
    internal byte* Base => _base;

    /// <summary>Opens and maps the snapshot file at <paramref name="path"/> (a file given by path, not a shared name).</summary>
    public static SnapshotReader Open(string path) =>
        Open(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 1));

    /// <summary>Maps <paramref name="file"/> (taking ownership), into one of <paramref name="ranges"/> when given (a follower's).</summary>
    public static SnapshotReader Open(FileStream file, VersionRanges? ranges = null) =>
        new(ranges is null ? SnapshotMemory.MapFile(file) : ranges.Map(file));

    /// <summary>Reads a private copy of snapshot bytes.</summary>
    public static SnapshotReader Load(ReadOnlySpan<byte> snapshot) => new(SnapshotMemory.Copy(snapshot));

    /// <summary>Drops the creator's reference (<see cref="Release"/>).</summary>
    public void Dispose() => Release();

    /// <summary>
    /// Takes one more reference unless the memory is already released. Each reference is dropped
    /// with <see cref="Release"/>; the last one frees the bytes. Followers and snapshots share one reader so.
    /// </summary>
    public bool TryAddReference() => _memory.TryAddReference();

    /// <summary>Drops one reference; the last one frees the snapshot's bytes.</summary>
    public void Release() => _memory.Release();

    /// <summary>
    /// <paramref name="length"/> bytes of the snapshot from <paramref name="offset"/>, checked to lie
    /// inside it (copies, checksums: everything that is not a lookup reads through here).
    /// </summary>
    public ReadOnlySpan<byte> Bytes(long offset, int length)
    {
        if ((ulong)offset > _fileLength || (ulong)length > _fileLength - (ulong)offset)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset}+{length}) is not inside the snapshot's {_fileLength} bytes.");
        }

        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    /// <summary>Finds <paramref name="key"/> through the hash slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        bool found = Find(key, _hasher.Hash(key), out value, lenient: false) != 0;
        GC.KeepAlive(this);
        return found;
    }

    /// <summary>
    /// <see cref="TryGetValue"/> that never throws: the offset of <paramref name="key"/>'s record, 0
    /// when absent, <see cref="Unreadable"/> when a record on the way does not fit (then
    /// <see cref="TryGetValue"/> throws the exception that says why). For callers that may be
    /// reading bytes replaced under them (a follower's late calls), which must not raise an
    /// exception for bytes they then discard, nor pay for a try block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong TryFind(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        ulong offset = Find(key, _hasher.Hash(key), out value, lenient: true);
        GC.KeepAlive(this);
        return offset;
    }

    /// <summary>
    /// Offset of the record holding <paramref name="key"/>, or 0 when it is absent; the record's
    /// value comes out of the same read (reading the record a second time, even from cache, costs a
    /// hit about a quarter of its time at 1M entries: the second read waits on the first's result).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong FindRecord(ReadOnlySpan<byte> key, ulong hash, out ReadOnlySpan<byte> value)
    {
        ulong offset = Find(key, hash, out value, lenient: false);
        GC.KeepAlive(this);
        return offset;
    }

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

    /// <summary>Bit j set when slot j of the <see cref="ProbeWindow"/> slots at <paramref name="window"/> carries <paramref name="tag"/> (the caller checked the window lies in the table).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint WindowMatches(ulong* window, ulong tag)
    {
        Vector256<ulong> tags = Vector256.Create(tag);
        return Vector256.Equals(Vector256.ShiftRightLogical(Vector256.Load(window), _offsetBits), tags).ExtractMostSignificantBits()
            | (Vector256.Equals(Vector256.ShiftRightLogical(Vector256.Load(window + 4), _offsetBits), tags).ExtractMostSignificantBits() << 4);
    }

    /// <summary>
    /// From the probe window at the hash's home slot, without a data-dependent loop (batches): the
    /// record offset of the first slot carrying the hash's tag; 0 when the key is surely absent;
    /// <see cref="UnknownCandidate"/> when only the full path (<see cref="FindRecord"/>) can tell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong FirstCandidate(ulong hash)
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
            GC.KeepAlive(this);
            return offset != 0 ? offset : UnknownCandidate;
        }

        ulong last = window[ProbeWindow - 1];
        GC.KeepAlive(this);
        return last == 0 || last >> _offsetBits > tag || _probeLimit <= ProbeWindow ? 0 : UnknownCandidate;
    }

    /// <summary>Prefetches both lines the 8-slot window of <paramref name="hash"/> may span (it does unless the home is the first slot of a line).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchHome(ulong hash)
    {
        byte* home = _slots + (Math.BigMul(hash, _homeSlots, out _) * SlotSize);
        MemoryHint.Prefetch(home);
        MemoryHint.Prefetch(home + ((ProbeWindow - 1) * SlotSize));
    }

    /// <summary>Prefetches the record at <paramref name="candidate"/> up to the end of a key of <paramref name="keyLength"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PrefetchCandidate(ulong candidate, int keyLength)
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

    /// <summary>Slot <paramref name="i"/> (0 ≤ i &lt; SlotCount, checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadSlot(ulong i)
    {
        ulong slot = Unsafe.ReadUnaligned<ulong>(_slots + (i * SlotSize));
        GC.KeepAlive(this);
        return BitConverter.IsLittleEndian ? slot : BinaryPrimitives.ReverseEndianness(slot);
    }

    /// <summary>Offset of the record of rank <paramref name="index"/> (0 ≤ index &lt; Count, checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong RecordOffsetAt(int index)
    {
        if (_indexWidth == 4)
        {
            uint narrow = Unsafe.ReadUnaligned<uint>(_index + ((long)index * 4));
            GC.KeepAlive(this);
            return BitConverter.IsLittleEndian ? narrow : BinaryPrimitives.ReverseEndianness(narrow);
        }

        ulong wide = Unsafe.ReadUnaligned<ulong>(_index + ((long)index * 8));
        GC.KeepAlive(this);
        return BitConverter.IsLittleEndian ? wide : BinaryPrimitives.ReverseEndianness(wide);
    }

    /// <summary>Reads the record at <paramref name="offset"/>, checking it lies inside the data section.</summary>
    /// <returns>The offset just past the record.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadRecord(ulong offset, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        ulong end = ReadRecord(offset, out key, out value, lenient: false);
        GC.KeepAlive(this);
        return end;
    }

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

            ThrowHelper.Record(offset, "a record offset inside the data section");
        }

        byte* p = _base + offset;
        ulong left = _fileLength - offset;
        uint keyLength = p[0];
        uint valueLength = left >= 2 ? p[1] : RecordCodec.OneByteLimit;
        ulong header = 2;

        // Both lengths below 128 (one byte each, RecordCodec's common case) inline; the rest through RecordCodec.
        if ((keyLength | valueLength) >= RecordCodec.OneByteLimit)
        {
            ulong lengths = ReadLengthsSlow(p, left, offset, lenient);
            if (lengths == 0)
            {
                key = value = default;
                return 0;
            }

            keyLength = (uint)lengths & int.MaxValue;
            valueLength = (uint)(lengths >> 31) & int.MaxValue;
            header = (ulong)RecordCodec.LengthSize(keyLength) + (ulong)RecordCodec.LengthSize(valueLength);
        }

        if (left - header < (ulong)keyLength + valueLength)
        {
            if (lenient)
            {
                key = value = default;
                return 0;
            }

            ThrowHelper.RecordTooLong(offset, header + keyLength + valueLength, left);
        }

        key = new ReadOnlySpan<byte>(p + header, (int)keyLength);
        value = new ReadOnlySpan<byte>(p + header + keyLength, (int)valueLength);
        return offset + header + keyLength + valueLength;
    }

    /// <summary>
    /// Both lengths through <see cref="RecordCodec.ReadLengths"/>, packed (key length in bits 0–30,
    /// value length in bits 31–61; a pair of registers, not variables in memory, for the hot path);
    /// 0 when they do not fit and <paramref name="lenient"/>, else an exception.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ReadLengthsSlow(byte* p, ulong left, ulong offset, bool lenient)
    {
        var lengths = new ReadOnlySpan<byte>(p, (int)Math.Min(left, 2 * MaxVarintLength));
        int used = RecordCodec.ReadLengths(lengths, out uint keyLength, out uint valueLength, out RecordCodec.LengthError error);
        if (used == 0)
        {
            if (!lenient)
            {
                ThrowHelper.RecordLengths(offset, error);
            }

            return 0;
        }

        return keyLength | ((ulong)valueLength << 31) | (1UL << 62);
    }
}
