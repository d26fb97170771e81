namespace Shmap.Benchmarks;

/// <summary>
/// A private directory for one benchmark process: shared names, snapshots and LMDB environments go
/// here (on tmpfs when /dev/shm exists), never into the default shared directory. Deleted on Dispose.
/// </summary>
internal sealed class Scratch : IDisposable
{
    private const string Root = "/dev/shm";

    public Scratch(string purpose)
    {
        string root = Directory.Exists(Root) ? Root : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, $"shmap-bench-{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Path);
        }
        else
        {
            // Owner-only: other users on the machine have no business in it.
            Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Options = new SharedMapOptions { Directory = System.IO.Path.Combine(Path, "maps") };
    }

    public string Path { get; }

    /// <summary>Options that put shared names under this directory.</summary>
    public SharedMapOptions Options { get; }

    /// <summary>A subdirectory, created.</summary>
    public string Subdirectory(string name)
    {
        string path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
