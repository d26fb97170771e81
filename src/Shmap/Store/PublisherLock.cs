using System.Diagnostics;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;
using Shmap.Platform;

namespace Shmap.Store;

/// <summary>
/// The publishers' lock of a name, <c>N.wlock</c> (docs/FORMAT.md, "Publishing protocol"): an
/// empty file, always mode 0600, that only publishers and deleters open; they hold an exclusive
/// flock on it while they change the name. Readers never need it (a follower may probe it when
/// it can open it), so a user who may only read a map cannot freeze its publishers; and the wait
/// is bounded, so even a same-user process holding it makes a publish fail, not hang.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PublisherLock : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly SafeFileHandle _handle;

    private PublisherLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Opens or creates the lock file and takes it, waiting at most the options' timeout.</summary>
    /// <exception cref="SharedMapLockTimeoutException">Another process held it for the whole timeout.</exception>
    public static PublisherLock Take(StoreDirectory directory, SharedName name)
    {
        SafeFileHandle handle = directory.OpenFile(name.WriterLockFileName, write: true, create: true, mode: OwnerOnly);
        try
        {
            TimeSpan timeout = directory.Options.LockTimeout;
            long start = Stopwatch.GetTimestamp();
            int pause = 1;
            while (!UnixFile.TryLockExclusive(handle))
            {
                if (Stopwatch.GetElapsedTime(start) >= timeout)
                {
                    throw new SharedMapLockTimeoutException(name.Name, name.WriterLockPath, timeout, HolderOf(TrustedFiles.Stat(handle, name.WriterLockPath)));
                }

                Thread.Sleep(pause);
                pause = Math.Min(pause * 2, 50);
            }

            return new PublisherLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// For a follower that saw an odd control word: true when no process holds the publishers'
    /// lock, so the change under way was abandoned by a publisher that died; false when one holds
    /// it, or when this process cannot open the lock (another user's: it cannot tell, so it
    /// assumes the change goes on and looks again at its next call).
    /// </summary>
    public static bool IsFree(SharedName name)
    {
        try
        {
            using StoreDirectory directory = StoreDirectory.Open(name.Directory, name.Options);
            using SafeFileHandle handle = directory.OpenFile(name.WriterLockFileName);
            return UnixFile.TryLockSharedAndRelease(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ShmapException)
        {
            return false;
        }
    }

    /// <summary>The pid holding a flock on the file, from /proc/locks; null when it does not tell.</summary>
    internal static int? HolderOf(in Interop.Files.Statx lockFile)
    {
        // Lines look like "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"; the device is
        // major:minor in hex, the inode in decimal.
        string id = string.Create(CultureInfo.InvariantCulture, $"{lockFile.DevMajor:x2}:{lockFile.DevMinor:x2}:{lockFile.Inode}");
        try
        {
            foreach (string line in File.ReadLines("/proc/locks"))
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                int at = Array.IndexOf(fields, "FLOCK");
                if (at >= 0 && !line.Contains("->", StringComparison.Ordinal) && fields.Length > at + 4 && fields[at + 4] == id && int.TryParse(fields[at + 3], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                {
                    return pid;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    public void Dispose() => _handle.Dispose(); // closing the descriptor releases the flock
}
