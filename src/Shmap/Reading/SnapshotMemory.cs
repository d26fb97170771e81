using System.IO.MemoryMappedFiles;

namespace Shmap.Reading;

/// <summary>
/// Owns the bytes of one snapshot: a read-only file mapping or a private native copy (each held by
/// a <see cref="SafeHandle"/>), or a follower's range; and counts the references to them (a map, a
/// follower's served version, the snapshots taken from it). The last <see cref="Release"/> frees
/// the bytes; a map dropped without Dispose has them freed by its handle's finalizer once nothing
/// refers to it.
/// </summary>
/// <remarks>
/// Trusts: the runtime's mapping (the view covers <see cref="Length"/> bytes from
/// <see cref="Pointer"/>) and allocator. Checks: nothing about the bytes; the reader checks those.
/// Readers keep this object reachable (<see cref="GC.KeepAlive"/>) until they are done with the
/// bytes, so a finalizer never frees them under a read.
/// </remarks>
internal abstract unsafe class SnapshotMemory
{
    /// <summary>Copies of this size and more get a mapping of their own (a mapping costs a few system calls; glibc's own mmap threshold starts at 128 KiB).</summary>
    public const int OwnMappingBytes = 1 << 20;

    private int _references = 1;

    public byte* Pointer { get; protected set; }

    public long Length { get; protected set; }

    /// <summary>Maps a whole file read-only (MAP_SHARED: every process mapping it shares the same pages) and takes ownership of the stream.</summary>
    public static SnapshotMemory MapFile(FileStream file)
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
            // mmap refuses empty files; an empty snapshot is reported by header validation.
            file.Dispose();
            return new Empty();
        }

        MemoryMappedViewAccessor view;
        using (var map = MemoryMappedFile.CreateFromFile(file, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false))
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }

        return new Owned(new ViewHandle(view), length);
    }

    /// <summary>
    /// Copies bytes into memory the snapshot then owns: a native allocation, or for
    /// <see cref="OwnMappingBytes"/> and more, a mapping of its own (anonymous shared memory from
    /// the runtime), which returns to the system when freed. (malloc keeps large freed blocks in its
    /// heap once its dynamic mmap threshold has risen, so dropped copies would stay resident.)
    /// </summary>
    public static SnapshotMemory Copy(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= OwnMappingBytes)
        {
            MemoryMappedViewAccessor view;
            using (var map = MemoryMappedFile.CreateNew(mapName: null, bytes.Length, MemoryMappedFileAccess.ReadWrite))
            {
                view = map.CreateViewAccessor(0, bytes.Length, MemoryMappedFileAccess.ReadWrite);
            }

            var viewHandle = new ViewHandle(view);
            bytes.CopyTo(new Span<byte>((byte*)viewHandle.DangerousGetHandle(), bytes.Length));
            return new Owned(viewHandle, bytes.Length);
        }

        var handle = new NativeCopyHandle(bytes.Length);
        bytes.CopyTo(new Span<byte>((byte*)handle.DangerousGetHandle(), bytes.Length));
        return new Owned(handle, bytes.Length);
    }

    /// <summary>
    /// Takes one more reference unless the bytes are already freed. Each reference is dropped with
    /// <see cref="Release"/>; the last one frees them.
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

    /// <summary>Drops one reference; the last one frees the bytes.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Free();
        }
    }

    /// <summary>Frees the bytes (called once, by the last <see cref="Release"/>).</summary>
    protected abstract void Free();

    /// <summary>An empty file: nothing mapped (the header check rejects it).</summary>
    private sealed class Empty : SnapshotMemory
    {
        protected override void Free()
        {
        }
    }

    /// <summary>Memory a <see cref="SafeHandle"/> owns: freed by the last release, or by the handle's finalizer once nothing refers to it.</summary>
    private sealed class Owned : SnapshotMemory
    {
        private readonly SafeHandle _owner;

        public Owned(SafeHandle owner, long length)
        {
            _owner = owner;
            Pointer = (byte*)owner.DangerousGetHandle();
            Length = length;
        }

        protected override void Free()
        {
            Pointer = null;
            _owner.Dispose();
        }
    }

    /// <summary>
    /// Owns one read-only view of a file: its pointer is acquired once (AcquirePointer, which holds
    /// the view's handle open) and released by <see cref="ReleaseHandle"/>, on Dispose or, for a map
    /// never disposed, by this handle's finalizer, so the view is unmapped either way.
    /// </summary>
    private sealed class ViewHandle : SafeHandle
    {
        private readonly MemoryMappedViewAccessor _view;

        public ViewHandle(MemoryMappedViewAccessor view)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            _view = view;
            byte* pointer = null;
            try
            {
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                SetHandle((nint)(pointer + view.PointerOffset));
            }
            catch
            {
                if (pointer != null)
                {
                    view.SafeMemoryMappedViewHandle.ReleasePointer();
                }

                view.Dispose();
                throw;
            }
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            // The view's own handle may have been finalized first: the reference AcquirePointer took
            // kept it mapped, and this release is its last one.
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            return true;
        }
    }

    /// <summary>Owns a private native copy of snapshot bytes (64-byte aligned), told to the GC as memory pressure so that dropped copies are collected soon.</summary>
    private sealed class NativeCopyHandle : SafeHandle
    {
        private readonly long _pressure;

        public NativeCopyHandle(long length)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            _pressure = Math.Max(1, length);
            SetHandle((nint)NativeMemory.AlignedAlloc((nuint)_pressure, 64));
            GC.AddMemoryPressure(_pressure);
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMemory.AlignedFree((void*)handle);
            GC.RemoveMemoryPressure(_pressure);
            return true;
        }
    }
}
