using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Shmap.Store;

/// <summary>Opening a name's snapshot for reading, with the store's checks (docs/FORMAT.md, "Trust").</summary>
[SupportedOSPlatform("linux")]
internal static class SnapshotFiles
{
    /// <summary>
    /// Opens <c>N.shmap</c> read-only: the directory and the file checked, no link followed, no
    /// FIFO waited on. The stream is unbuffered; map it, do not read it through the buffer.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing is published under the name.</exception>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="UntrustedFileException">The directory or file is not one to trust.</exception>
    public static FileStream OpenSnapshot(SharedName name)
    {
        using StoreDirectory directory = StoreDirectory.Open(name.Directory, name.Options);
        SafeFileHandle handle = directory.OpenFile(name.SnapshotFileName);
        try
        {
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether something is published under the name (a file is there; opening checks it).</summary>
    public static bool Exists(SharedName name)
    {
        try
        {
            using StoreDirectory directory = StoreDirectory.Open(name.Directory, name.Options);
            return directory.Contains(name.SnapshotFileName);
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }
}
