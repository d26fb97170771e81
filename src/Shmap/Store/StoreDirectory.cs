using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;
using static Shmap.Platform.Interop;

namespace Shmap.Store;

/// <summary>
/// An open, checked store directory: every file of a name is opened, renamed and unlinked relative
/// to this descriptor (openat, renameat, unlinkat), so nothing can swap the directory between the
/// check and the use, whoever owns the directories above it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class StoreDirectory : IDisposable
{
    private StoreDirectory(string path, SafeFileHandle handle, SharedMapOptions options)
    {
        Path = path;
        Handle = handle;
        Options = options;
    }

    public string Path { get; }

    public SafeFileHandle Handle { get; }

    public SharedMapOptions Options { get; }

    /// <summary>
    /// Opens and checks <paramref name="path"/>; when it is missing and <paramref name="createMode"/>
    /// is given, creates it with that mode first (its parents with the default mode).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">It is missing and was not to be created.</exception>
    /// <exception cref="UntrustedFileException">It is not a directory Shmap may trust.</exception>
    public static StoreDirectory Open(string path, SharedMapOptions options, UnixFileMode? createMode = null)
    {
        SafeFileHandle handle = OpenDirectory(path);
        int errno = handle.IsInvalid ? Errors.Last : 0;
        if (errno == Errors.ENOENT && createMode is UnixFileMode mode)
        {
            handle.Dispose();
            Create(path, mode, options);
            handle = OpenDirectory(path);
            errno = handle.IsInvalid ? Errors.Last : 0;
        }

        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw errno switch
            {
                Errors.ENOENT => new DirectoryNotFoundException($"The shared map directory '{path}' does not exist (a publish creates it)."),
                Errors.ELOOP => new UntrustedFileException(path, "it is a symbolic link", "Use the directory it points to, if it is yours, or remove the link."),
                Errors.ENOTDIR => new UntrustedFileException(path, "it is not a directory", "Remove it, or choose another directory (SharedMapOptions.Directory or SHMAP_DIR)."),
                _ => Errors.ToException(errno, "open the directory", path),
            };
        }

        try
        {
            TrustedFiles.CheckDirectory(TrustedFiles.Stat(handle, path), path, options);
            return new StoreDirectory(path, handle, options);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Opens a file of the directory with the store's checks (see <see cref="TrustedFiles.OpenAt"/>).</summary>
    public SafeFileHandle OpenFile(string name, bool write = false, bool create = false, bool exclusive = false, UnixFileMode mode = 0) =>
        TrustedFiles.OpenAt(Handle, Path, name, write, create, exclusive, mode, Options);

    /// <summary>Whether a file of that name is there (of any type; not followed).</summary>
    public bool Contains(string name) => Files.StatxAt(Handle, name, Files.AtSymlinkNofollow, Files.StatxBasicStats, out _) == 0;

    /// <summary>Renames within the directory, replacing the target (atomic).</summary>
    public void Rename(string from, string to)
    {
        if (Files.RenameAt(Handle, from, Handle, to) != 0)
        {
            throw Errors.ToException(Errors.Last, "rename a file to", System.IO.Path.Combine(Path, to));
        }
    }

    /// <summary>Removes a file; false when it was not there.</summary>
    public bool Unlink(string name)
    {
        if (Files.UnlinkAt(Handle, name, 0) == 0)
        {
            return true;
        }

        int errno = Errors.Last;
        return errno == Errors.ENOENT ? false : throw Errors.ToException(errno, "remove", System.IO.Path.Combine(Path, name));
    }

    /// <summary>Names of the entries of the directory (a listing: every file found is still opened with the checks).</summary>
    public IEnumerable<string> FileNames(string pattern) =>
        System.IO.Directory.EnumerateFiles(Path, pattern).Select(System.IO.Path.GetFileName).OfType<string>();

    public void Dispose() => Handle.Dispose();

    private static SafeFileHandle OpenDirectory(string path) =>
        Files.Open(path, Files.ORdonly | Files.ODirectory | Files.ONofollow | Files.OCloexec, 0);

    private static void Create(string path, UnixFileMode mode, SharedMapOptions options)
    {
        string? parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (parent is not null && !System.IO.Directory.Exists(parent))
        {
            System.IO.Directory.CreateDirectory(parent);
        }

        if (Files.MkDir(path, (int)mode) != 0 && Errors.Last != Errors.EEXIST)
        {
            throw Errors.ToException(Errors.Last, "create the directory", path);
        }

        // The umask may have narrowed the mode: set it exactly, through a checked descriptor of
        // the directory made (or found: then the checks decide).
        using SafeFileHandle handle = OpenDirectory(path);
        if (handle.IsInvalid)
        {
            throw Errors.ToException(Errors.Last, "open the directory", path);
        }

        Files.Statx stat = TrustedFiles.Stat(handle, path);
        TrustedFiles.CheckDirectory(stat, path, options);
        if (stat.Uid == TrustedFiles.EffectiveUser && (stat.Mode & 0xFFF) != (int)mode)
        {
            TrustedFiles.SetMode(handle, mode, path);
        }
    }
}
