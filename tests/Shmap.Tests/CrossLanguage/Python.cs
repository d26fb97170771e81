using System.Diagnostics;
using System.Text;

namespace Shmap.Tests.CrossLanguage;

/// <summary>
/// Runs python3 (or <c>$SHMAP_PYTHON</c>) on the repository's Python package, found from the test
/// binary's location (the directory holding Shmap.slnx above it). A missing interpreter is a test
/// failure, not a skip: CI installs python3, and these tests are what check the Python side.
/// </summary>
internal static class Python
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    private static readonly Lazy<string> s_root = new(FindRepositoryRoot);

    public static string RepositoryRoot => s_root.Value;

    public static string PackageDirectory => Path.Combine(RepositoryRoot, "python");

    public static string Driver => Path.Combine(PackageDirectory, "tests", "xlang_driver.py");

    public static string Interpreter => Environment.GetEnvironmentVariable("SHMAP_PYTHON") is { Length: > 0 } python ? python : "python3";

    /// <summary>Starts python with <paramref name="arguments"/>; the caller disposes (kills) it.</summary>
    public static Process Start(IEnumerable<string> arguments, string? shmapDirectory = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryRoot,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PYTHONPATH"] = PackageDirectory;
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        if (shmapDirectory is not null)
        {
            start.Environment["SHMAP_DIR"] = shmapDirectory;
        }

        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"could not start {Interpreter}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"'{Interpreter}' could not be started ({e.Message}). The cross-language tests need Python 3.9+ on PATH " +
                "(apt-get install python3), or SHMAP_PYTHON naming an interpreter.", e);
        }
    }

    /// <summary>Runs python to completion with <paramref name="stdin"/>; returns its exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(IEnumerable<string> arguments, string? stdin = null, string? shmapDirectory = null, TimeSpan? timeout = null)
    {
        using Process process = Start(arguments, shmapDirectory);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? DefaultTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python {string.Join(' ', arguments)} did not finish within {timeout ?? DefaultTimeout}; stderr: {stderr.Result}");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a driver command that must succeed; returns its last stdout line.</summary>
    public static string Drive(string shmapDirectory, string? stdin, params string[] arguments)
    {
        (int code, string stdout, string stderr) = Run([Driver, .. arguments], stdin, shmapDirectory);
        Assert.True(code == 0, $"python driver {string.Join(' ', arguments)} exited with {code}.\nstdout: {stdout}\nstderr: {stderr}");
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 0, $"python driver {string.Join(' ', arguments)} printed nothing; stderr: {stderr}");
        return lines[^1];
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shmap.slnx")) && Directory.Exists(Path.Combine(dir.FullName, "python", "shmap")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Shmap.slnx with python/shmap above {AppContext.BaseDirectory}: run the tests from a checkout.");
    }
}

/// <summary>A private directory (mode 0700) under /dev/shm for one test's names, removed afterwards.</summary>
internal sealed class PrivateDirectory : IDisposable
{
    public PrivateDirectory()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, "shmap-xlang-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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
