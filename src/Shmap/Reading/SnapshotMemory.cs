using System.IO.MemoryMappedFiles;

namespace Shmap.Reading;

/// <summary>
/// Owns the bytes of one snapshot: a read-only file mapping or a private native copy, and counts
/// the references to them (a map, a follower's served version, the snapshots taken from it). The
/// last <see cref="Release"/> frees the bytes.
/// </summary>
internal abstract unsafe class SnapshotMemory
{
    private int _references = 1;

    public byte* Pointer { get; protected set; }

    public long Length { get; protected set; }

    /// <summary>Maps a whole file read-only (MAP_SHARED: every process mapping it shares the same pages).</summary>
    public static SnapshotMemory MapFile(FileStream file) => new MappedFile(file);

    /// <summary>Copies bytes into native memory the snapshot then owns.</summary>
    public static SnapshotMemory Copy(ReadOnlySpan<byte> bytes) => new NativeCopy(bytes);

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

    private sealed class MappedFile : SnapshotMemory
    {
        private MemoryMappedViewAccessor? _view;

        public MappedFile(FileStream file)
        {
            Length = file.Length;
            if (Length == 0)
            {
                // mmap refuses empty files; an empty snapshot is reported by header validation.
                Pointer = null;
                file.Dispose();
                return;
            }

            using var map = MemoryMappedFile.CreateFromFile(file, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            _view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            Pointer = pointer + _view.PointerOffset;
        }

        protected override void Free()
        {
            MemoryMappedViewAccessor? view = Interlocked.Exchange(ref _view, null);
            if (view is not null)
            {
                Pointer = null;
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            }
        }
    }

    private sealed class NativeCopy : SnapshotMemory
    {
        public NativeCopy(ReadOnlySpan<byte> bytes)
        {
            Length = bytes.Length;
            Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, bytes.Length), 64);
            bytes.CopyTo(new Span<byte>(Pointer, bytes.Length));
        }

        protected override void Free()
        {
            byte* pointer = Pointer;
            Pointer = null;
            if (pointer != null)
            {
                NativeMemory.AlignedFree(pointer);
            }
        }
    }
}
