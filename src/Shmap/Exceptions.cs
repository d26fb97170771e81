namespace Shmap;

/// <summary>Base type of every error Shmap raises about snapshots and shared names.</summary>
public class ShmapException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public ShmapException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public ShmapException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The bytes are not a valid Shmap snapshot: truncated, corrupt or hostile. Names the field,
/// its byte offset in the snapshot, what was expected and what was found.
/// </summary>
public sealed class SnapshotFormatException : ShmapException
{
    /// <summary>Creates the exception for one failed check.</summary>
    public SnapshotFormatException(string field, long offset, string expected, string found)
        : base($"Invalid Shmap snapshot: field '{field}' at byte offset {offset}: expected {expected}, found {found}. " +
               "The snapshot is truncated or corrupt; rebuild it or publish it again.")
    {
        Field = field;
        Offset = offset;
        Expected = expected;
        Found = found;
    }

    /// <summary>The field of the format (as named in docs/FORMAT.md) that failed its check.</summary>
    public string Field { get; }

    /// <summary>Byte offset in the snapshot of the field or record that failed.</summary>
    public long Offset { get; }

    /// <summary>What a valid snapshot has there.</summary>
    public string Expected { get; }

    /// <summary>What was found.</summary>
    public string Found { get; }
}

/// <summary>The snapshot has a format version this library does not read.</summary>
public sealed class SnapshotVersionException : ShmapException
{
    /// <summary>Creates the exception.</summary>
    public SnapshotVersionException(int expected, int actual)
        : base($"Unsupported Shmap snapshot format version {actual}; this library reads version {expected}. " +
               $"Rebuild the snapshot with format {expected}, or upgrade Shmap to read format {actual}.")
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The format version this library reads.</summary>
    public int Expected { get; }

    /// <summary>The format version found in the snapshot.</summary>
    public int Actual { get; }
}

/// <summary>A name is already published and the call did not ask to replace it.</summary>
public sealed class SharedMapExistsException : ShmapException
{
    /// <summary>Creates the exception.</summary>
    public SharedMapExistsException(string name, string path)
        : base($"A shared map named '{name}' already exists ({path}). Pass force: true to replace it, or use Publish to add a new version.")
    {
        Name = name;
        Path = path;
    }

    /// <summary>The shared map's name.</summary>
    public string Name { get; }

    /// <summary>The file that holds it.</summary>
    public string Path { get; }
}

/// <summary>No shared map is published under the name.</summary>
public sealed class SharedMapNotFoundException : ShmapException
{
    /// <summary>Creates the exception.</summary>
    public SharedMapNotFoundException(string name, string path, Exception? innerException = null)
        : base($"No shared map named '{name}' is published ({path} does not exist). Share or publish it first, or check SHMAP_DIR / the directory option.", innerException)
    {
        Name = name;
        Path = path;
    }

    /// <summary>The name that was looked up.</summary>
    public string Name { get; }

    /// <summary>The file that would hold it.</summary>
    public string Path { get; }
}

/// <summary>
/// A directory or file of the store is not one Shmap may trust (docs/FORMAT.md, "Trust"): a
/// symbolic link, not a regular file or directory, owned by an untrusted user, or writable by
/// group/other. Nothing was read from it or written to it.
/// </summary>
public sealed class UntrustedFileException : ShmapException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The directory or file refused.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="fix">How to fix it.</param>
    public UntrustedFileException(string path, string problem, string fix)
        : base($"Refusing '{path}': {problem}. {fix}")
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The directory or file refused.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}

/// <summary>
/// A publish or delete waited <see cref="SharedMapOptions.LockTimeout"/> for the name's
/// publishers' lock and another process still held it. Nothing was changed.
/// </summary>
public sealed class SharedMapLockTimeoutException : ShmapException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="name">The shared name.</param>
    /// <param name="lockPath">The lock file.</param>
    /// <param name="timeout">How long the call waited.</param>
    /// <param name="holderPid">The pid holding the lock, when /proc/locks tells; else null.</param>
    public SharedMapLockTimeoutException(string name, string lockPath, TimeSpan timeout, int? holderPid)
        : base($"Timed out after {timeout.TotalSeconds:0.###} s waiting for the publishers' lock of shared map '{name}' ({lockPath}): " +
               (holderPid is int pid ? $"process {pid} holds it" : "another process holds it") +
               ". Wait for that publisher to finish, stop it, or raise SharedMapOptions.LockTimeout.")
    {
        Name = name;
        LockPath = lockPath;
        HolderPid = holderPid;
    }

    /// <summary>The shared name.</summary>
    public string Name { get; }

    /// <summary>The lock file.</summary>
    public string LockPath { get; }

    /// <summary>The pid that held the lock when the wait ended, when known.</summary>
    public int? HolderPid { get; }
}
