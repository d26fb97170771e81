using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shmap;

/// <summary>
/// The few POSIX calls .NET does not expose: open without .NET's implicit flock emulation, and a
/// blocking flock. FileStream takes a non-blocking LOCK_SH/LOCK_EX on every open, which would make
/// a reader's open fail or a publisher's lock spin; the lock file is opened through here instead.
/// </summary>
internal static partial class UnixFile
{
    private const int ORdonly = 0;
    private const int ORdwr = 2;
    private const int OCreat = 0x40;
    private const int OCloexec = 0x80000;
    private const int LockSh = 1;
    private const int LockEx = 2;
    private const int LockNb = 4;
    private const int LockUn = 8;
    private const int EIntr = 4;
    private const int EWouldBlock = 11;

    /// <summary>Opens (creating when asked) a file with no lock taken.</summary>
    public static SafeFileHandle Open(string path, bool write, bool create, UnixFileMode mode)
    {
        int flags = (write ? ORdwr : ORdonly) | (create ? OCreat : 0) | OCloexec;
        int fd;
        do
        {
            fd = NativeOpen(path, flags, (int)mode);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EIntr);

        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string message = $"Cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).";
            throw errno switch
            {
                2 => new FileNotFoundException(message, path),
                13 or 1 => new UnauthorizedAccessException(message),
                _ => new IOException(message, errno),
            };
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Blocks until this process holds the exclusive advisory lock of <paramref name="handle"/>'s file.</summary>
    public static void LockExclusive(SafeFileHandle handle) => Flock(handle, LockEx);

    /// <summary>Releases the lock (closing the handle releases it too, even when the process dies).</summary>
    public static void Unlock(SafeFileHandle handle) => Flock(handle, LockUn);

    /// <summary>
    /// Takes a shared lock without blocking and releases it at once: true when it could be taken
    /// (no process holds the exclusive lock), false when one does.
    /// </summary>
    public static bool TryLockSharedAndRelease(SafeFileHandle handle)
    {
        if (!TryFlock(handle, LockSh | LockNb))
        {
            return false;
        }

        Flock(handle, LockUn);
        return true;
    }

    private static void Flock(SafeFileHandle handle, int operation) => _ = TryFlock(handle, operation);

    /// <summary>flock, retried on EINTR: false when a non-blocking request would block; other failures throw.</summary>
    private static bool TryFlock(SafeFileHandle handle, int operation)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            int fd = (int)handle.DangerousGetHandle();
            while (NativeFlock(fd, operation) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EWouldBlock && (operation & LockNb) != 0)
                {
                    return false;
                }

                if (errno != EIntr)
                {
                    throw new IOException($"flock failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
                }
            }

            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Asks the kernel to fault in, writable, every page of a mapping in one call
    /// (MADV_POPULATE_WRITE, Linux 5.14+) instead of one page fault per page, which costs about as
    /// much as writing the page on a virtual machine. A hint: false where unsupported, and then the
    /// pages are faulted in as they are written.
    /// </summary>
    public static unsafe bool TryPopulateForWriting(byte* start, long length) =>
        OperatingSystem.IsLinux() && length > 0 && NativeMadvise((nint)start, (nuint)length, MadvPopulateWrite) == 0;

    private const int MadvPopulateWrite = 23;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int NativeMadvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeOpen(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int NativeFlock(int fd, int operation);
}
