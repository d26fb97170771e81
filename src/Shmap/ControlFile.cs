using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Shmap;

/// <summary>
/// The per-name control file <c>N.lock</c> (docs/FORMAT.md, "Control file"): publishers hold its
/// flock while they publish and bump its words; followers map it read-only and poll one word,
/// <see cref="Sequence"/>. Its contents are a hint, never trusted: a follower re-validates the
/// snapshot it opens whatever the words say.
/// </summary>
internal sealed unsafe class ControlFile : IDisposable
{
    public const int Size = 64;
    public const int MagicOffset = 0;      // "SHMAPCTL"
    public const int FormatOffset = 8;     // u32, 1
    public const int StateOffset = 12;     // u32: 0 never published, 1 published, 2 deleted
    public const int SequenceOffset = 16;  // u64, +1 on every publish and delete
    public const int VersionOffset = 24;   // u64, last version published
    public const int PublishedAtOffset = 32; // i64 Unix ms of that publish

    public const uint StatePublished = 1;
    public const uint StateDeleted = 2;

    private static ReadOnlySpan<byte> Magic => "SHMAPCTL"u8;

    private readonly SafeFileHandle? _lockHandle;
    private readonly string? _path;
    private MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    private ControlFile(SafeFileHandle? lockHandle, string? path, MemoryMappedViewAccessor view)
    {
        _lockHandle = lockHandle;
        _path = path;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + view.PointerOffset;
    }

    /// <summary>Opens or creates the control file and blocks until this process holds its lock.</summary>
    public static ControlFile Lock(SharedName name, UnixFileMode mode)
    {
        SafeFileHandle handle = UnixFile.Open(name.ControlPath, write: true, create: true, mode);
        try
        {
            UnixFile.LockExclusive(handle);
            Span<byte> magic = stackalloc byte[Magic.Length];
            bool intact = RandomAccess.GetLength(handle) == Size && RandomAccess.Read(handle, magic, 0) == magic.Length && magic.SequenceEqual(Magic);
            if (!intact)
            {
                // New (or damaged): lay it out afresh. Under the lock nobody else writes it.
                RandomAccess.SetLength(handle, Size);
                Span<byte> fresh = stackalloc byte[Size];
                fresh.Clear();
                Magic.CopyTo(fresh);
                BinaryPrimitives.WriteUInt32LittleEndian(fresh[FormatOffset..], 1);
                RandomAccess.Write(handle, fresh, 0);
            }

            var map = MemoryMappedFile.CreateFromFile(handle, mapName: null, Size, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            using (map)
            {
                return new ControlFile(handle, name.ControlPath, map.CreateViewAccessor(0, Size, MemoryMappedFileAccess.ReadWrite));
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Maps an existing control file read-only for polling; null when there is none yet.</summary>
    public static ControlFile? TryOpenForReading(SharedName name)
    {
        SafeFileHandle handle;
        try
        {
            handle = UnixFile.Open(name.ControlPath, write: false, create: false, 0);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        using (handle)
        {
            if (RandomAccess.GetLength(handle) < Size)
            {
                return null;
            }

            using var map = MemoryMappedFile.CreateFromFile(handle, mapName: null, Size, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            return new ControlFile(null, null, map.CreateViewAccessor(0, Size, MemoryMappedFileAccess.Read));
        }
    }

    /// <summary>The word followers poll: changes on every publish and delete.</summary>
    public ulong Sequence => Volatile.Read(ref *(ulong*)(_pointer + SequenceOffset));

    public uint State => Volatile.Read(ref *(uint*)(_pointer + StateOffset));

    public long Version => (long)Volatile.Read(ref *(ulong*)(_pointer + VersionOffset));

    /// <summary>Records a publish. The sequence is written last so that a follower seeing it sees the rest.</summary>
    public void RecordPublish(long version, long publishedAtUnixMs)
    {
        Volatile.Write(ref *(long*)(_pointer + PublishedAtOffset), publishedAtUnixMs);
        Volatile.Write(ref *(ulong*)(_pointer + VersionOffset), (ulong)version);
        Volatile.Write(ref *(uint*)(_pointer + StateOffset), StatePublished);
        Volatile.Write(ref *(ulong*)(_pointer + SequenceOffset), Sequence + 1);
    }

    /// <summary>Records a delete; the version word stays, so a later publish continues the numbering.</summary>
    public void RecordDelete()
    {
        Volatile.Write(ref *(uint*)(_pointer + StateOffset), StateDeleted);
        Volatile.Write(ref *(ulong*)(_pointer + SequenceOffset), Sequence + 1);
    }

    /// <summary>
    /// Updates the file's times after its words changed: writes through a mapping raise no
    /// file-system notification, this does (IN_ATTRIB), so waiting followers wake.
    /// </summary>
    public void Touch()
    {
        if (_path is not null)
        {
            File.SetLastWriteTimeUtc(_path, DateTime.UtcNow);
        }
    }

    public void Dispose()
    {
        MemoryMappedViewAccessor? view = Interlocked.Exchange(ref _view, null);
        if (view is not null)
        {
            _pointer = null;
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
        }

        // Closing the descriptor releases the flock.
        _lockHandle?.Dispose();
    }
}
