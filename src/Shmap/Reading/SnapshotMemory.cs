using System.IO.MemoryMappedFiles;

namespace Shmap.Reading;

/// <summary>
/// Owns the bytes of one snapshot: a read-only file mapping or a private native copy. The pointer is
/// acquired once and released exactly once, on <see cref="Dispose"/>.
/// </summary>
internal abstract unsafe class SnapshotMemory : IDisposable
{
    public byte* Pointer { get; protected set; }

    public long Length { get; protected set; }

    public abstract void Dispose();

    /// <summary>Maps a whole file read-only (MAP_SHARED: every process mapping it shares the same pages).</summary>
    public static SnapshotMemory MapFile(FileStream file) => new MappedFile(file);

    /// <summary>Copies bytes into native memory the snapshot then owns.</summary>
    public static SnapshotMemory Copy(ReadOnlySpan<byte> bytes) => new NativeCopy(bytes);

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

        public override void Dispose()
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

        public override void Dispose()
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
