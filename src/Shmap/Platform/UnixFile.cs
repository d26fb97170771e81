using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;
using static Shmap.Platform.Interop;

namespace Shmap.Platform;

/// <summary>
/// What Shmap needs from the kernel beyond .NET's file API, over <see cref="Interop"/>: locks
/// (flock, blocking, non-blocking and bounded), and mmap at a chosen address (a follower's reused
/// ranges, see <see cref="Reading.VersionRanges"/>). FileStream takes a non-blocking LOCK_SH/LOCK_EX
/// on every open by path, which would make a reader's open fail or a publisher's lock spin; Shmap
/// opens its files through <see cref="Interop.Files"/> instead.
/// </summary>
/// <remarks>
/// Unsafe: the pointers taken and returned are addresses of mappings this process made; the
/// callers (VersionRanges, the publisher's write) own those mappings and their lengths.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static unsafe class UnixFile
{
    /// <summary>Blocks until this process holds the exclusive advisory lock of <paramref name="handle"/>'s file.</summary>
    public static void LockExclusive(SafeFileHandle handle) => _ = TryFlock(handle, Files.LockEx);

    /// <summary>Takes the exclusive lock if no one holds it; false when another process does.</summary>
    public static bool TryLockExclusive(SafeFileHandle handle) => TryFlock(handle, Files.LockEx | Files.LockNb);

    /// <summary>Releases the lock (closing the handle releases it too, even when the process dies).</summary>
    public static void Unlock(SafeFileHandle handle) => _ = TryFlock(handle, Files.LockUn);

    /// <summary>
    /// Takes a shared lock without blocking and releases it at once: true when it could be taken
    /// (no process holds the exclusive lock), false when one does.
    /// </summary>
    public static bool TryLockSharedAndRelease(SafeFileHandle handle)
    {
        if (!TryFlock(handle, Files.LockSh | Files.LockNb))
        {
            return false;
        }

        Unlock(handle);
        return true;
    }

    /// <summary>flock, retried on EINTR: false when a non-blocking request would block; other failures throw.</summary>
    private static bool TryFlock(SafeFileHandle handle, int operation)
    {
        while (Files.Flock(handle, operation) != 0)
        {
            int errno = Errors.Last;
            if (errno == Errors.EWOULDBLOCK && (operation & Files.LockNb) != 0)
            {
                return false;
            }

            if (errno != Errors.EINTR)
            {
                throw Errors.ToException(errno, "flock", null);
            }
        }

        return true;
    }

    /// <summary>
    /// Asks the kernel to fault in, writable, every page of a mapping in one call
    /// (MADV_POPULATE_WRITE, Linux 5.14+) instead of one page fault per page, which costs about as
    /// much as writing the page on a virtual machine. A hint: false where unsupported, and then the
    /// pages are faulted in as they are written.
    /// </summary>
    public static bool TryPopulateForWriting(byte* start, long length) =>
        length > 0 && Memory.Madvise((nint)start, (nuint)length, Memory.MadvPopulateWrite) == 0;

    /// <summary>
    /// Reserves <paramref name="length"/> bytes of address space, readable and reading zeros: an
    /// anonymous private mapping that uses no memory until written (it never is) and commits none.
    /// </summary>
    /// <exception cref="IOException">The kernel refused (address space or mapping count exhausted).</exception>
    public static byte* ReserveZeros(long length) =>
        Check(Memory.MmapAnonymous(0, (nuint)length, Memory.ProtRead, Memory.MapPrivate | Memory.MapAnonymous | Memory.MapNoReserve, -1, 0), length, "reserve");

    /// <summary>
    /// Maps the first <paramref name="length"/> bytes of <paramref name="file"/> read-only and shared
    /// at <paramref name="at"/>, replacing what the range held in one step (MAP_FIXED): a thread
    /// reading the range meanwhile sees the old pages or the new ones, never a hole (Linux 6.12 and
    /// later keep the old mapping when the call fails).
    /// </summary>
    public static void MapFileAt(byte* at, long length, SafeFileHandle file) =>
        _ = Check(Memory.Mmap((nint)at, (nuint)length, Memory.ProtRead, Memory.MapShared | Memory.MapFixed, file, 0), length, "map a snapshot");

    /// <summary>
    /// Replaces whatever <paramref name="at"/>..+<paramref name="length"/> maps with zeros in one
    /// step (MAP_FIXED), so that this process no longer holds the file pages that were there while
    /// the range stays readable.
    /// </summary>
    public static void ZeroAt(byte* at, long length) =>
        _ = Check(Memory.MmapAnonymous((nint)at, (nuint)length, Memory.ProtRead, Memory.MapPrivate | Memory.MapAnonymous | Memory.MapNoReserve | Memory.MapFixed, -1, 0), length, "clear a mapping");

    /// <summary>Returns a range to the system; nothing may read it afterwards.</summary>
    public static void Unmap(byte* at, long length) => _ = Memory.Munmap((nint)at, (nuint)length);

    private static byte* Check(nint result, long length, string what)
    {
        if (result == Memory.MapFailed)
        {
            int errno = Errors.Last;
            throw new IOException($"mmap failed to {what} of {length} bytes: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
        }

        return (byte*)result;
    }
}
