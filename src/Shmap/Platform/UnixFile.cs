using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shmap.Platform;

/// <summary>
/// The few POSIX calls .NET does not expose: open without .NET's implicit flock emulation, a
/// blocking flock, and mmap at a chosen address (a follower's reused ranges, see
/// <see cref="Reading.VersionRanges"/>). FileStream takes a non-blocking LOCK_SH/LOCK_EX on every
/// open, which would make a reader's open fail or a publisher's lock spin; the lock file is opened
/// through here instead.
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

    private const int ProtRead = 1;
    private const int MapShared = 0x01;
    private const int MapPrivate = 0x02;
    private const int MapFixed = 0x10;
    private const int MapAnonymous = 0x20;
    private const int MapNoReserve = 0x4000;

    /// <summary>
    /// Reserves <paramref name="length"/> bytes of address space, readable and reading zeros: an
    /// anonymous private mapping that uses no memory until written (it never is) and commits none.
    /// </summary>
    /// <exception cref="IOException">The kernel refused (address space or mapping count exhausted).</exception>
    public static unsafe byte* ReserveZeros(long length) => Map(null, length, MapPrivate | MapAnonymous | MapNoReserve, -1, "reserve");

    /// <summary>
    /// Maps the first <paramref name="length"/> bytes of <paramref name="file"/> read-only and shared
    /// at <paramref name="at"/>, replacing what the range held in one step (MAP_FIXED): a thread
    /// reading the range meanwhile sees the old pages or the new ones, never a hole (Linux 6.12 and
    /// later keep the old mapping when the call fails).
    /// </summary>
    public static unsafe void MapFileAt(byte* at, long length, SafeFileHandle file)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            _ = Map(at, length, MapShared | MapFixed, (int)file.DangerousGetHandle(), "map a snapshot");
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Replaces whatever <paramref name="at"/>..+<paramref name="length"/> maps with zeros in one
    /// step (MAP_FIXED), so that this process no longer holds the file pages that were there while
    /// the range stays readable.
    /// </summary>
    public static unsafe void ZeroAt(byte* at, long length) => _ = Map(at, length, MapPrivate | MapAnonymous | MapNoReserve | MapFixed, -1, "clear a mapping");

    /// <summary>Returns a range to the system; nothing may read it afterwards.</summary>
    public static unsafe void Unmap(byte* at, long length) => _ = NativeMunmap((nint)at, (nuint)length);

    private static unsafe byte* Map(byte* at, long length, int flags, int fd, string what)
    {
        nint result = NativeMmap((nint)at, (nuint)length, ProtRead, flags, fd, 0);
        if (result == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"mmap failed to {what} of {length} bytes: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
        }

        return (byte*)result;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint NativeMmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int NativeMunmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int NativeMadvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NativeOpen(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int NativeFlock(int fd, int operation);
}
