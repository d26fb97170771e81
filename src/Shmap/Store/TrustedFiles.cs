using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;
using Shmap.Platform;
using static Shmap.Platform.Interop;

namespace Shmap.Store;

/// <summary>
/// The store's checks of what it finds on disk (docs/FORMAT.md, "Trust"). A path in a directory
/// other users may touch is opened, never resolved then opened: O_NOFOLLOW (a symbolic link is
/// refused), O_NONBLOCK (a FIFO cannot block the open), O_CLOEXEC, then the descriptor is
/// inspected with statx and kept only if it is what it must be (a directory or a regular file),
/// with a trusted owner and no group/other write permission.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class TrustedFiles
{
    private const int GroupOrOtherWrite = 0x12; // 0022
    private const int Sticky = 0x200;           // 01000
    private const int PermissionBits = 0xFFF;

    /// <summary>This process's effective user id.</summary>
    public static uint EffectiveUser { get; } = Files.GetEffectiveUserId();

    /// <summary>Whether <paramref name="uid"/> is this user, root, or one the options name.</summary>
    public static bool IsTrustedOwner(uint uid, SharedMapOptions options)
    {
        if (uid == EffectiveUser || uid == 0)
        {
            return true;
        }

        foreach (int trusted in options.TrustedOwners)
        {
            if ((uint)trusted == uid)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>statx of an open descriptor.</summary>
    public static Files.Statx Stat(SafeFileHandle handle, string path)
    {
        if (Files.FStatx(handle, string.Empty, Files.AtEmptyPath, Files.StatxBasicStats, out Files.Statx stat) != 0)
        {
            throw Errors.ToException(Errors.Last, "inspect", path);
        }

        return stat;
    }

    /// <summary>
    /// Checks an open directory: a directory, trusted owner, not writable by group/other unless sticky.
    /// </summary>
    public static void CheckDirectory(in Files.Statx stat, string path, SharedMapOptions options)
    {
        if ((stat.Mode & Files.SIfmt) != Files.SIfdir)
        {
            throw new UntrustedFileException(path, $"it is {Describe(stat.Mode)}, not a directory", "Remove it, or choose another directory (SharedMapOptions.Directory or SHMAP_DIR).");
        }

        CheckOwner(stat, path, options, "directory");
        if ((stat.Mode & GroupOrOtherWrite) != 0 && (stat.Mode & Sticky) == 0)
        {
            throw new UntrustedFileException(path, $"the directory is writable by group or other users (mode {Octal(stat.Mode)}) without the sticky bit, so they could replace its files",
                $"Run 'chmod go-w {path}' (or 'chmod +t' for a shared directory), or choose another directory.");
        }
    }

    /// <summary>Checks an open store file: a regular file, trusted owner, no group/other write.</summary>
    public static void CheckFile(in Files.Statx stat, string path, SharedMapOptions options)
    {
        if ((stat.Mode & Files.SIfmt) != Files.SIfreg)
        {
            throw new UntrustedFileException(path, $"it is {Describe(stat.Mode)}, not a regular file", "Remove it; only a publisher creates the files of a name.");
        }

        CheckOwner(stat, path, options, "file");
        if ((stat.Mode & GroupOrOtherWrite) != 0)
        {
            throw new UntrustedFileException(path, $"the file is writable by group or other users (mode {Octal(stat.Mode)}), who could change or truncate it under its readers",
                "Delete the name and publish it again (Shmap never creates such files).");
        }
    }

    /// <summary>
    /// Opens <paramref name="name"/> in an open, checked directory without following a symbolic
    /// link or blocking on a FIFO, then checks what was opened. Errno and exceptions: ENOENT gives
    /// <see cref="FileNotFoundException"/> (when <paramref name="create"/> is false).
    /// </summary>
    public static SafeFileHandle OpenAt(SafeFileHandle directory, string directoryPath, string name, bool write, bool create, bool exclusive, UnixFileMode mode, SharedMapOptions options)
    {
        string path = Path.Combine(directoryPath, name);
        int flags = (write ? Files.ORdwr : Files.ORdonly) | Files.ONofollow | Files.ONonblock | Files.OCloexec
            | (create ? Files.OCreat : 0) | (exclusive ? Files.OExcl : 0);
        SafeFileHandle handle = Files.OpenAt(directory, name, flags, (int)mode);
        if (handle.IsInvalid)
        {
            int errno = Errors.Last;
            handle.Dispose();
            throw errno switch
            {
                Errors.ELOOP => new UntrustedFileException(path, "it is a symbolic link", "Remove it; the files of a name are never links."),
                Errors.ENXIO => new UntrustedFileException(path, "it is a FIFO or socket", "Remove it; only a publisher creates the files of a name."),
                _ => Errors.ToException(errno, "open", path),
            };
        }

        try
        {
            Files.Statx stat = Stat(handle, path);
            CheckFile(stat, path, options);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Sets a descriptor's mode exactly (the umask may have narrowed the mode it was created with).</summary>
    public static void SetMode(SafeFileHandle handle, UnixFileMode mode, string path)
    {
        if (Files.FChmod(handle, (int)mode) != 0)
        {
            throw Errors.ToException(Errors.Last, "set the mode of", path);
        }
    }

    private static void CheckOwner(in Files.Statx stat, string path, SharedMapOptions options, string what)
    {
        if (!IsTrustedOwner(stat.Uid, options))
        {
            throw new UntrustedFileException(path, $"the {what} belongs to user {stat.Uid}, not to this user ({EffectiveUser}) or root",
                $"If user {stat.Uid} is meant to publish for you, add {stat.Uid} to SharedMapOptions.TrustedOwners (CLI: --trust-owner {stat.Uid}); otherwise remove it or choose another directory.");
        }
    }

    private static string Octal(ushort mode) => Convert.ToString(mode & PermissionBits, 8).PadLeft(4, '0');

    private static string Describe(ushort mode) => (mode & Files.SIfmt) switch
    {
        Files.SIfreg => "a regular file",
        Files.SIfdir => "a directory",
        Files.SIflnk => "a symbolic link",
        Files.SIfifo => "a FIFO",
        Files.SIfchr => "a character device",
        Files.SIfblk => "a block device",
        Files.SIfsock => "a socket",
        _ => "of an unknown type",
    };
}
