namespace Shmap.Tests;

/// <summary>
/// A private directory on tmpfs for one test's shared names, removed afterwards. It is not created
/// up front (the library creates it when it first publishes, so tests see what it makes); a
/// <see cref="Files"/> directory for input and output files is made inside it on first use. Shared
/// by the library and CLI tests (Shmap.Cli.Tests links this file and adds its CLI runner in a partial).
/// </summary>
public sealed partial class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, "shmap-test-" + Guid.NewGuid().ToString("N"));
        Options = new SharedMapOptions { Directory = Path };
    }

    /// <summary>The directory of shared names.</summary>
    public string Path { get; }

    public SharedMapOptions Options { get; }

    /// <summary>A directory for input and output files (not names), inside <see cref="Path"/>; made on first use.</summary>
    public string Files
    {
        get
        {
            string files = System.IO.Path.Combine(Path, "files");
            Directory.CreateDirectory(files);
            return files;
        }
    }

    /// <summary>Writes a UTF-8 file (no BOM) in <see cref="Files"/> and returns its path.</summary>
    public string File(string name, string content)
    {
        string path = System.IO.Path.Combine(Files, name);
        System.IO.File.WriteAllText(path, content, new System.Text.UTF8Encoding(false));
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
