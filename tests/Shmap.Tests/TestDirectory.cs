namespace Shmap.Tests;

/// <summary>A private directory on tmpfs for one test's shared names, removed afterwards.</summary>
public sealed class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, "shmap-test-" + Guid.NewGuid().ToString("N"));
        Options = new SharedMapOptions { Directory = Path };
    }

    public string Path { get; }

    public SharedMapOptions Options { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
