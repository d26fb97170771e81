using Shmap.Platform;

namespace Shmap.Reading;

/// <summary>
/// The address ranges a follower (<see cref="Follower"/>) maps its versions into. Reads on a follower
/// take no mark (a mark per call cost a third of a lookup), so the follower cannot know when a call
/// that started on a version it has let go has finished; such a call must still read mapped memory.
/// Hence a range, once reserved, stays mapped until the garbage collector has proved that nothing
/// refers to it (<see cref="Range"/>'s finalizer unmaps it): a version that is let go is replaced by
/// zeros in one step (its file pages leave this process at once), and the range is reused for a
/// later version. A late call on it reads zeros or the later version's bytes, inside the range,
/// and its follower retries it on the version served then.
/// </summary>
/// <remarks>
/// In a steady stream of versions of similar size a follower cycles through three ranges: the
/// version served, the one before it (spans handed out stay valid until the follower has moved on
/// twice) and a zeroed one for the next. A range too small for a new version is dropped (to the
/// garbage collector) and a larger one reserved, with headroom.
/// </remarks>
/// <remarks>
/// Unsafe because ranges are addresses (mmap results) that snapshots are mapped into. Trusts:
/// Platform's mmap wrappers (a range is the length reserved; MAP_FIXED replaces in one step).
/// Checks: a version is mapped only into a free range at least its length; a range is unmapped
/// only by its finalizer, when nothing can refer to it.
/// </remarks>
internal sealed unsafe class VersionRanges
{
    /// <summary>Zeroed ranges kept for reuse; more are dropped.</summary>
    private const int MaxFree = 2;

    private const long Alignment = 2 << 20;

    private readonly Lock _lock = new();
    private readonly List<Range> _free = [];
    private bool _closed;

    /// <summary>Bytes of address space reserved by ranges this follower uses or keeps for reuse (tests).</summary>
    internal long ReservedBytes { get; private set; }

    /// <summary>Maps <paramref name="file"/> into a free range (reserving one when none fits) and takes ownership of the stream.</summary>
    public SnapshotMemory Map(FileStream file)
    {
        long length;
        try
        {
            length = file.Length;
        }
        catch
        {
            file.Dispose();
            throw;
        }

        if (length == 0)
        {
            // Nothing to map; header validation reports the empty file.
            return SnapshotMemory.MapFile(file);
        }

        using (file)
        {
            Range range = Rent(length);
            try
            {
                UnixFile.MapFileAt(range.Start, length, file.SafeFileHandle);
            }
            catch
            {
                Return(range);
                throw;
            }

            return new RangeMemory(this, range, length);
        }
    }

    /// <summary>No more reuse: ranges returned from now on (and those kept) are dropped to the garbage collector.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            foreach (Range range in _free)
            {
                Drop(range);
            }

            _free.Clear();
        }
    }

    private Range Rent(long length)
    {
        lock (_lock)
        {
            // The range zeroed longest ago first: late calls on it have had the most time to end.
            int fit = _free.FindIndex(r => r.Length >= length);
            if (fit >= 0)
            {
                Range reused = _free[fit];
                _free.RemoveAt(fit);
                return reused;
            }
        }

        long capacity = (length + (length / 4) + Alignment - 1) / Alignment * Alignment;
        var range = new Range(UnixFile.ReserveZeros(capacity), capacity);
        lock (_lock)
        {
            ReservedBytes += capacity;
        }

        return range;
    }

    /// <summary>Zeroes <paramref name="range"/> (its file pages leave this process now) and keeps it for reuse.</summary>
    private void Return(Range range)
    {
        try
        {
            UnixFile.ZeroAt(range.Start, range.Length);
        }
        catch (IOException)
        {
            // Still mapped (to the old pages): safe to read, but not to reuse. Dropped: unmapped when collected.
            lock (_lock)
            {
                Drop(range);
            }

            return;
        }

        lock (_lock)
        {
            if (_closed || _free.Count >= MaxFree)
            {
                Drop(range);
            }
            else
            {
                _free.Add(range);
            }
        }
    }

    /// <summary>Stops accounting for <paramref name="range"/>; its finalizer unmaps it once nothing refers to it. Under the lock.</summary>
    private void Drop(Range range)
    {
        ReservedBytes -= range.Length;
        range.Dropped();
    }

    /// <summary>
    /// A reserved range of address space. Every call reading a version mapped in it holds (through
    /// the version's reader) a reference to it, so the finalizer runs only when none can.
    /// </summary>
    private sealed class Range(byte* start, long length)
    {
        private bool _pressure;

        public byte* Start { get; } = start;

        public long Length { get; } = length;

        /// <summary>
        /// Dropped ranges hold address space (no memory) until collected: told to the garbage
        /// collector as memory pressure, so that a process dropping many collects them soon.
        /// </summary>
        public void Dropped()
        {
            if (!_pressure)
            {
                _pressure = true;
                GC.AddMemoryPressure(Length);
            }
        }

        ~Range()
        {
            UnixFile.Unmap(Start, Length);
            if (_pressure)
            {
                GC.RemoveMemoryPressure(Length);
            }
        }
    }

    /// <summary>One version's bytes in a range; freeing it (its reader's last reference) zeroes the range for reuse.</summary>
    private sealed class RangeMemory : SnapshotMemory
    {
        private readonly VersionRanges _owner;

        // Never cleared: a late call holds the range through this reference after Free too.
        private readonly Range _range;
        private int _returned;

        public RangeMemory(VersionRanges owner, Range range, long length)
        {
            _owner = owner;
            _range = range;
            Pointer = range.Start;
            Length = length;
        }

        protected override void Free()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                _owner.Return(_range);
            }
        }
    }
}
