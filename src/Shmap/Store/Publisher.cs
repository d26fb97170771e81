using System.IO.MemoryMappedFiles;
using Shmap.Format;
using Shmap.Platform;

namespace Shmap.Store;

/// <summary>
/// Publishes a snapshot under a name (docs/FORMAT.md, "Publication"): under the name's flock it
/// writes the whole snapshot to a fresh temporary file in the same directory, then renames it over
/// <c>N.shmap</c> and bumps the control file. A process killed at any point leaves either the old
/// snapshot or the new one in place, never a partial one.
/// </summary>
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
    /// <param name="options">Directory and permissions.</param>
    /// <param name="mode">Whether an existing name is an error.</param>
    /// <param name="length">The snapshot's length in bytes.</param>
    /// <param name="write">Fills a destination of <paramref name="length"/> bytes, stamping the version and time it is given.</param>
    public static long Publish(SharedName name, SharedMapOptions options, Mode mode, long length, WriteSnapshot write)
    {
        UnixFileMode fileMode = CheckMode(options.FileMode);
        EnsureDirectory(name.Directory, fileMode);
        using ControlFile control = ControlFile.Lock(name, fileMode);
        RemoveStaleTempFiles(name);

        string path = name.SnapshotPath;
        long current = CurrentVersion(path);
        if (mode == Mode.CreateNew && current >= 0)
        {
            throw new SharedMapExistsException(name.Name, path);
        }

        // The control file is a hint: a value no publisher could have written is ignored.
        long hinted = control.Version is > 0 and < long.MaxValue ? control.Version : 0;
        long latest = Math.Max(current, hinted);
        if (latest == long.MaxValue)
        {
            throw new ShmapException($"Shared map '{name.Name}' is at version {latest}, the last one possible; delete it and its control file ({name.ControlPath}) to start again.");
        }

        long version = Math.Max(latest, 0) + 1;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string temp = name.NewTempPath();
        try
        {
            WriteFile(temp, fileMode, length, version, now, write);
            control.BeginChange();
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
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
        if (!Directory.Exists(name.Directory) || !File.Exists(name.ControlPath) && !File.Exists(name.SnapshotPath))
        {
            return false;
        }

        using ControlFile control = ControlFile.Lock(name, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        bool existed = File.Exists(name.SnapshotPath);
        if (existed)
        {
            control.BeginChange();
            File.Delete(name.SnapshotPath);
            control.RecordDelete();
            control.Touch();
        }

        return existed;
    }

    public delegate void WriteSnapshot(byte* destination, long version, long publishedAtUnixMs);

    private static void WriteFile(string temp, UnixFileMode fileMode, long length, long version, long now, WriteSnapshot write)
    {
        var streamOptions = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            UnixCreateMode = fileMode,

            // Reserve the blocks (fallocate) before writing through a mapping: on a full tmpfs a
            // store into an unbacked page of a sparse file is SIGBUS, which kills the process;
            // reserving first turns that into an IOException here.
            PreallocationSize = length,
        };
        using (var file = new FileStream(temp, streamOptions))
        {
            file.SetLength(length);
            using var map = MemoryMappedFile.CreateFromFile(file, mapName: null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            using MemoryMappedViewAccessor view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
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

        // The umask may have narrowed the mode the file was created with: set it exactly.
        File.SetUnixFileMode(temp, fileMode);
    }

    /// <summary>Version of the snapshot at <paramref name="path"/>: -1 when there is none, 0 when it is unreadable.</summary>
    private static long CurrentVersion(string path)
    {
        Span<byte> header = stackalloc byte[SnapshotLayout.HeaderSize];
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            int read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            return SnapshotHeader.Parse(header[..read], file.Length).PublishVersion;
        }
        catch (FileNotFoundException)
        {
            return -1;
        }
        catch (ShmapException)
        {
            // A damaged file is replaced like any other; numbering continues from the control file.
            return 0;
        }
    }

    private static void EnsureDirectory(string directory, UnixFileMode fileMode)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        // Search (x) bits follow the read bits asked for the files.
        UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        if ((fileMode & UnixFileMode.GroupRead) != 0)
        {
            mode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        }

        if ((fileMode & UnixFileMode.OtherRead) != 0)
        {
            mode |= UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        }

        Directory.CreateDirectory(directory, mode);
    }

    private static UnixFileMode CheckMode(UnixFileMode mode)
    {
        const UnixFileMode ReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((mode & ~ReadWrite) != 0 || (mode & UnixFileMode.UserRead) == 0 || (mode & UnixFileMode.UserWrite) == 0)
        {
            throw new ArgumentException($"File mode {mode} is not allowed: it must include user read and write and have only read/write bits.", nameof(mode));
        }

        return mode;
    }

    /// <summary>
    /// Temporary files of this name left by a killed publisher. Publishers hold the name's lock
    /// while their temporary file exists, so under the lock every one found is stale.
    /// </summary>
    private static void RemoveStaleTempFiles(SharedName name)
    {
        string prefix = "." + name.Name + ".";
        foreach (string path in Directory.EnumerateFiles(name.Directory, "." + "*" + SharedName.TempSuffix))
        {
            string file = Path.GetFileName(path);
            if (file.StartsWith(prefix, StringComparison.Ordinal) && IsTempTail(file.AsSpan(prefix.Length, file.Length - prefix.Length - SharedName.TempSuffix.Length)))
            {
                File.Delete(path);
            }
        }
    }

    private static readonly System.Buffers.SearchValues<char> s_hex = System.Buffers.SearchValues.Create("0123456789abcdef");

    // "{pid}.{32 hex}": exactly what NewTempPath appends, so name "a" never claims name "a.1"'s files.
    private static bool IsTempTail(ReadOnlySpan<char> tail)
    {
        int dot = tail.IndexOf('.');
        return dot > 0 && !tail[..dot].ContainsAnyExceptInRange('0', '9') && tail.Length - dot - 1 == 32 && !tail[(dot + 1)..].ContainsAnyExcept(s_hex);
    }
}
