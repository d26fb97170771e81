using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;
using Shmap.Platform;

namespace Shmap.Store;

/// <summary>
/// The per-name control file <c>N.lock</c> (docs/FORMAT.md, "Control file"): publishers, holding
/// the name's <see cref="PublisherLock"/>, bump its words; followers map it read-only and poll one word,
/// <see cref="Sequence"/>. Its contents are a hint, never trusted: a follower re-validates the
/// snapshot it opens whatever the words say.
/// </summary>
/// <remarks>
/// The sequence is odd while a publisher or deleter is changing <c>N.shmap</c> (from just before
/// its rename or unlink until it has recorded the change) and even otherwise. A follower that saw
/// an odd sequence has not seen the change complete, so it looks again at its next call: that is
/// what makes a version any opener or follower has seen visible to every follower's next call.
/// </remarks>
internal sealed unsafe class ControlFile : IDisposable
{
    public const int Size = 64;
    public const int MagicOffset = 0;      // "SHMAPCTL"
    public const int FormatOffset = 8;     // u32, 2
    public const int StateOffset = 12;     // u32: 0 never published, 1 published, 2 deleted
    public const int SequenceOffset = 16;  // u64: odd while a change is under way, even when settled
    public const int VersionOffset = 24;   // u64, last version published
    public const int PublishedAtOffset = 32; // i64 Unix ms of that publish

    public const uint StatePublished = 1;
    public const uint StateDeleted = 2;

    /// <summary>The control file layout this library writes (2: publishers lock <c>N.wlock</c>, not this file).</summary>
    public const uint CurrentFormat = 2;

    /// <summary>
    /// The highest version a publisher continues from: one publish a microsecond for nine years.
    /// A control word or snapshot claiming more was not written by a publisher; it is refused
    /// instead of obeyed (it would make the next publish the last possible one).
    /// </summary>
    public const long MaxPlausibleVersion = 1L << 48;

    private static ReadOnlySpan<byte> Magic => "SHMAPCTL"u8;

    private readonly SafeFileHandle? _writeHandle;
    private readonly PublisherLock? _lock;
    private readonly SharedName _name;
    private MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    private ControlFile(SharedName name, SafeFileHandle? writeHandle, PublisherLock? publisherLock, MemoryMappedViewAccessor view)
    {
        _name = name;
        _writeHandle = writeHandle;
        _lock = publisherLock;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + view.PointerOffset;
    }

    /// <summary>
    /// Takes the name's publishers' lock (bounded wait) and opens or creates its control file for
    /// writing; disposing releases both.
    /// </summary>
    public static ControlFile Lock(SharedName name, UnixFileMode mode)
    {
        using StoreDirectory directory = StoreDirectory.Open(name.Directory, name.Options, Publisher.DirectoryModeFor(mode));
        return Lock(directory, name, mode);
    }

    /// <summary>As <see cref="Lock(SharedName, UnixFileMode)"/>, in an open directory.</summary>
    public static ControlFile Lock(StoreDirectory directory, SharedName name, UnixFileMode mode)
    {
        PublisherLock publisherLock = PublisherLock.Take(directory, name);
        SafeFileHandle? handle = null;
        try
        {
            handle = directory.OpenFile(name.ControlFileName, write: true, create: true, mode: mode);
            Span<byte> head = stackalloc byte[12];
            bool intact = RandomAccess.GetLength(handle) == Size && RandomAccess.Read(handle, head, 0) == head.Length && head[..8].SequenceEqual(Magic);
            if (!intact || BinaryPrimitives.ReadUInt32LittleEndian(head[FormatOffset..]) != CurrentFormat)
            {
                // New, damaged, or of the format before the publishers' lock: lay it out afresh,
                // keeping an intact version word so numbering continues. Under the lock nobody else writes it.
                Span<byte> old = stackalloc byte[Size];
                long keep = intact && RandomAccess.Read(handle, old, 0) == Size ? (long)BinaryPrimitives.ReadUInt64LittleEndian(old[VersionOffset..]) : 0;
                RandomAccess.SetLength(handle, Size);
                Span<byte> fresh = stackalloc byte[Size];
                fresh.Clear();
                Magic.CopyTo(fresh);
                BinaryPrimitives.WriteUInt32LittleEndian(fresh[FormatOffset..], CurrentFormat);
                BinaryPrimitives.WriteUInt64LittleEndian(fresh[VersionOffset..], (ulong)keep);
                RandomAccess.Write(handle, fresh, 0);
            }

            var map = MemoryMappedFile.CreateFromFile(handle, mapName: null, Size, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            ControlFile control;
            using (map)
            {
                control = new ControlFile(name, handle, publisherLock, map.CreateViewAccessor(0, Size, MemoryMappedFileAccess.ReadWrite));
            }

            if (IsChanging(control.Sequence))
            {
                // A publisher died mid-change: N.shmap may or may not have changed. Settle the word
                // (followers look once more) so they stop looking at every call.
                control.EndChange();
                control.Touch();
            }

            return control;
        }
        catch
        {
            handle?.Dispose();
            publisherLock.Dispose();
            throw;
        }
    }

    /// <summary>Maps an existing control file read-only for polling; null when there is none yet.</summary>
    /// <exception cref="UntrustedFileException">The directory or the file is not one to trust.</exception>
    public static ControlFile? TryOpenForReading(SharedName name)
    {
        SharedMapOptions options = name.Options;
        SafeFileHandle handle;
        try
        {
            using StoreDirectory directory = StoreDirectory.Open(name.Directory, options);
            handle = directory.OpenFile(name.ControlFileName);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
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
            return new ControlFile(name, null, null, map.CreateViewAccessor(0, Size, MemoryMappedFileAccess.Read));
        }
    }

    /// <summary>The word followers poll: odd while a publish or delete is under way, changed by every one.</summary>
    public ulong Sequence => Volatile.Read(ref *(ulong*)(_pointer + SequenceOffset));

    /// <summary>Whether <paramref name="sequence"/> says a change is under way.</summary>
    public static bool IsChanging(ulong sequence) => (sequence & 1) != 0;

    public uint State => Volatile.Read(ref *(uint*)(_pointer + StateOffset));

    public long Version => (long)Volatile.Read(ref *(ulong*)(_pointer + VersionOffset));

    /// <summary>Marks a change as under way (odd sequence); call it just before renaming or unlinking <c>N.shmap</c>.</summary>
    public void BeginChange()
    {
        if (!IsChanging(Sequence))
        {
            WriteSequence(Sequence + 1);
        }
    }

    /// <summary>Records a publish. The sequence is written last (now even) so that a follower seeing it sees the rest.</summary>
    public void RecordPublish(long version, long publishedAtUnixMs)
    {
        Volatile.Write(ref *(long*)(_pointer + PublishedAtOffset), publishedAtUnixMs);
        Volatile.Write(ref *(ulong*)(_pointer + VersionOffset), (ulong)version);
        Volatile.Write(ref *(uint*)(_pointer + StateOffset), StatePublished);
        BeginChange();
        EndChange();
    }

    /// <summary>Records a delete; the version word stays, so a later publish continues the numbering.</summary>
    public void RecordDelete()
    {
        Volatile.Write(ref *(uint*)(_pointer + StateOffset), StateDeleted);
        BeginChange();
        EndChange();
    }

    /// <summary>
    /// For a follower that saw an odd sequence: true when no process holds the name's lock, so the
    /// change under way was abandoned by a publisher that died (a live one holds the lock until it
    /// has recorded its change). Probes with a non-blocking shared flock, released at once.
    /// </summary>
    public bool IsChangeAbandoned() => PublisherLock.IsFree(_name);

    /// <summary>Ends a change begun by <see cref="BeginChange"/> (sequence even again); nothing when none is under way.</summary>
    public void EndChange()
    {
        if (IsChanging(Sequence))
        {
            WriteSequence(Sequence + 1);
        }
    }

    private void WriteSequence(ulong sequence) => Volatile.Write(ref *(ulong*)(_pointer + SequenceOffset), sequence);

    /// <summary>
    /// Updates the file's times after its words changed: writes through a mapping raise no
    /// file-system notification, this does (IN_ATTRIB), so waiting followers wake.
    /// </summary>
    public void Touch()
    {
        if (_writeHandle is not null)
        {
            _ = Interop.Files.FUtimensNow(_writeHandle, 0);
        }
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        ReleaseMapping();

        _writeHandle?.Dispose();
        _lock?.Dispose(); // closing its descriptor releases the flock
    }

    /// <summary>
    /// For a follower whose calls read <see cref="Sequence"/> without a lock: closes the descriptor
    /// now and leaves the mapping to the finalizer, which runs only once no call can still hold this
    /// object (calls keep it reachable until they have read the word).
    /// </summary>
    public void CloseKeepingMapping()
    {
        _writeHandle?.Dispose();
        _lock?.Dispose();
    }

    ~ControlFile() => ReleaseMapping();

    private void ReleaseMapping()
    {
        MemoryMappedViewAccessor? view = Interlocked.Exchange(ref _view, null);
        if (view is not null)
        {
            _pointer = null;
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
        }
    }
}
