namespace Shmap.Cli.Tests;

/// <summary>
/// A private directory on tmpfs for one test's names (passed to every command as --dir) and its
/// input files, removed afterwards.
/// </summary>
public sealed class ShmDirectory : IDisposable
{
    public ShmDirectory()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, "shmap-cli-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        Files = System.IO.Path.Combine(Path, "files");
        Directory.CreateDirectory(Files);
    }

    /// <summary>The directory of shared names.</summary>
    public string Path { get; }

    /// <summary>A directory for input and output files (not names).</summary>
    public string Files { get; }

    public SharedMapOptions Options => new() { Directory = Path };

    /// <summary>Runs the CLI with <c>--dir</c> set to this directory.</summary>
    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync([.. args, "--dir", Path]);

    /// <summary>Same, with stdin.</summary>
    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => CliRunner.RunAsync([.. args, "--dir", Path], stdin);

    /// <summary>Writes a file in <see cref="Files"/> and returns its path.</summary>
    public string File(string name, string content)
    {
        string path = System.IO.Path.Combine(Files, name);
        System.IO.File.WriteAllText(path, content, new UTF8Encoding(false));
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
