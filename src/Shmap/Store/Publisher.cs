using System.IO.MemoryMappedFiles;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;
using Shmap.Format;
using Shmap.Platform;

namespace Shmap.Store;

/// <summary>
/// Publishes a snapshot under a name (docs/FORMAT.md, "Publication"): under the name's flock it
/// writes the whole snapshot to a fresh temporary file in the same directory, then renames it over
/// <c>N.shmap</c> and bumps the control file. A process killed at any point leaves either the old
/// snapshot or the new one in place, never a partial one.
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class Publisher
{
    public enum Mode
    {
        /// <summary>Fail if the name exists (Share with force: false).</summary>
        CreateNew,

        /// <summary>Replace whatever is there with the next version.</summary>
        NextVersion,
    }

    /// <summary>Writes the snapshot <paramref name="write"/> produces and publishes it; returns its version.</summary>
    /// <param name="name">The name.</param>
    /// <param name="options">Directory, permissions, trust and lock timeout.</param>
    /// <param name="mode">Whether an existing name is an error.</param>
    /// <param name="length">The snapshot's length in bytes.</param>
    /// <param name="write">Fills a destination of <paramref name="length"/> bytes, stamping the version and time it is given.</param>
    /// <param name="check">
    /// When given, called with the finished temporary file (read-only, private to this publisher:
    /// created exclusively, owner-only until renamed) before it is renamed into place; it throws
    /// to refuse the bytes, and then nothing is published.
    /// </param>
    public static long Publish(SharedName name, SharedMapOptions options, Mode mode, long length, WriteSnapshot write, Action<FileStream>? check = null)
    {
        UnixFileMode fileMode = CheckMode(options.FileMode);
        using StoreDirectory directory = StoreDirectory.Open(name.Directory, options, DirectoryModeFor(fileMode));
        using ControlFile control = ControlFile.Lock(directory, name, fileMode);
        RemoveStaleTempFiles(directory, name);

        long current = CurrentVersion(directory, name);
        if (mode == Mode.CreateNew && current >= 0)
        {
            throw new SharedMapExistsException(name.Name, name.SnapshotPath);
        }

        if (control.Version is < 0 or > ControlFile.MaxPlausibleVersion)
        {
            throw new ShmapException($"The control file {name.ControlPath} claims version {control.Version}, which no publisher could have reached (the limit is 2^48); " +
                $"it was not written by Shmap. Refusing to continue from it: delete the name's files ({name.ControlPath}, {name.SnapshotPath}) to start again at version 1.");
        }

        if (current > ControlFile.MaxPlausibleVersion)
        {
            throw new ShmapException($"The snapshot {name.SnapshotPath} claims version {current}, which no publisher could have reached (the limit is 2^48); " +
                $"refusing to continue from it: delete the name ('shmap rm {name.Name}') to start again at version 1.");
        }

        long version = Math.Max(Math.Max(current, control.Version), 0) + 1;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string temp = name.NewTempFileName();
        try
        {
            WriteFile(directory, temp, fileMode, length, version, now, write, check);
            control.BeginChange();
            directory.Rename(temp, name.SnapshotFileName);
        }
        catch
        {
            directory.Unlink(temp);
            control.EndChange(); // no-op unless the rename itself failed: followers look once more
            throw;
        }

        control.RecordPublish(version, now);
        control.Touch();
        return version;
    }

    /// <summary>Removes the name's snapshot; returns whether there was one. Readers that have it open keep it.</summary>
    public static bool Delete(SharedName name)
    {
        StoreDirectory directory;
        try
        {
            directory = StoreDirectory.Open(name.Directory, name.Options);
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }

        using (directory)
        {
            if (!directory.Contains(name.ControlFileName) && !directory.Contains(name.SnapshotFileName))
            {
                return false;
            }

            using ControlFile control = ControlFile.Lock(directory, name, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            bool existed = directory.Contains(name.SnapshotFileName);
            if (existed)
            {
                control.BeginChange();
                directory.Unlink(name.SnapshotFileName);
                control.RecordDelete();
                control.Touch();
            }

            return existed;
        }
    }

    public delegate void WriteSnapshot(byte* destination, long version, long publishedAtUnixMs);

    /// <summary>Mode of a directory a publish creates: owner rwx, plus group/other r-x when the files are readable by them.</summary>
    public static UnixFileMode DirectoryModeFor(UnixFileMode fileMode)
    {
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if ((fileMode & UnixFileMode.GroupRead) != 0)
        {
            mode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        }

        if ((fileMode & UnixFileMode.OtherRead) != 0)
        {
            mode |= UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        }

        return mode;
    }

    private static void WriteFile(StoreDirectory directory, string temp, UnixFileMode fileMode, long length, long version, long now, WriteSnapshot write, Action<FileStream>? check)
    {
        // Created exclusively, owner-only while it is written and checked (no one else can open
        // it, let alone change it), given its final mode just before the rename.
        using SafeFileHandle handle = directory.OpenFile(temp, write: true, create: true, exclusive: true, mode: UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // Reserve the blocks (fallocate) before writing through a mapping: on a full tmpfs a
        // store into an unbacked page of a sparse file is SIGBUS, which kills the process;
        // reserving first turns that into an IOException here.
        Reserve(handle, length, Path.Combine(directory.Path, temp));
        using (var map = MemoryMappedFile.CreateFromFile(handle, mapName: null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true))
        using (MemoryMappedViewAccessor view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite))
        {
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            try
            {
                // The mapping starts on a page (offset 0); the fresh file's pages are all written.
                UnixFile.TryPopulateForWriting(pointer, length + view.PointerOffset);
                write(pointer + view.PointerOffset, version, now);
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }

        if (check is not null)
        {
            // A second, read-only descriptor of the same private file: the check may keep or close it.
            check(new FileStream(directory.OpenFile(temp), FileAccess.Read, bufferSize: 0));
        }

        TrustedFiles.SetMode(handle, fileMode, Path.Combine(directory.Path, temp));
    }

    private static void Reserve(SafeFileHandle handle, long length, string path)
    {
        if (Interop.Files.FAllocate(handle, 0, 0, length) != 0)
        {
            int errno = Interop.Errors.Last;
            throw errno == Interop.Errors.ENOSPC
                ? new IOException($"No space left to write the {length}-byte snapshot '{path}' (tmpfs full?); nothing was published.", errno)
                : Interop.Errors.ToException(errno, "reserve space for", path);
        }
    }

    /// <summary>Version of the name's snapshot: -1 when there is none, 0 when it is unreadable.</summary>
    private static long CurrentVersion(StoreDirectory directory, SharedName name)
    {
        Span<byte> header = stackalloc byte[SnapshotLayout.HeaderSize];
        SafeFileHandle handle;
        try
        {
            handle = directory.OpenFile(name.SnapshotFileName);
        }
        catch (FileNotFoundException)
        {
            return -1;
        }

        using (handle)
        {
            try
            {
                int read = RandomAccess.Read(handle, header, 0);
                return SnapshotHeader.Parse(header[..read], RandomAccess.GetLength(handle)).PublishVersion;
            }
            catch (ShmapException)
            {
                // A damaged file is replaced like any other; numbering continues from the control file.
                return 0;
            }
        }
    }

    private static UnixFileMode CheckMode(UnixFileMode mode)
    {
        const UnixFileMode ReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        if ((mode & ~ReadWrite) != 0 || (mode & UnixFileMode.UserRead) == 0 || (mode & UnixFileMode.UserWrite) == 0)
        {
            throw new ArgumentException($"File mode {mode} is not allowed: it must include user read and write and may add only group/other read (readers refuse files others may write).", nameof(mode));
        }

        return mode;
    }

    /// <summary>
    /// Temporary files of this name left by a killed publisher. Publishers hold the name's lock
    /// while their temporary file exists, so under the lock every one found is stale.
    /// </summary>
    private static void RemoveStaleTempFiles(StoreDirectory directory, SharedName name)
    {
        string prefix = "." + name.Name + ".";
        foreach (string file in directory.FileNames("." + "*" + SharedName.TempSuffix))
        {
            if (file.StartsWith(prefix, StringComparison.Ordinal) && IsTempTail(file.AsSpan(prefix.Length, file.Length - prefix.Length - SharedName.TempSuffix.Length)))
            {
                directory.Unlink(file);
            }
        }
    }

    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    // "{pid}.{32 hex}": exactly what NewTempFileName appends, so name "a" never claims name "a.1"'s files.
    private static bool IsTempTail(ReadOnlySpan<char> tail)
    {
        int dot = tail.IndexOf('.');
        return dot > 0 && !tail[..dot].ContainsAnyExceptInRange('0', '9') && tail.Length - dot - 1 == 32 && !tail[(dot + 1)..].ContainsAnyExcept(s_hex);
    }
}
