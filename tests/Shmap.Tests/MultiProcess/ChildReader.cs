using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Shmap.Tests.MultiProcess;

/// <summary>
/// One Shmap.TestReader child process, driven line by line. Every wait has a timeout; Dispose
/// (always reached through <c>using</c>, on failure too) kills the child if it has not exited, so a
/// failing or timed-out test leaves no orphan. A child also exits by itself when its stdin closes.
/// </summary>
internal sealed class ChildReader : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private ChildReader(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public static ChildReader Start(string directory)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        start.ArgumentList.Add(ReaderDll());
        start.ArgumentList.Add(directory);
        Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the test reader");
        var child = new ChildReader(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._stderr)
                {
                    child._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Sends a command and returns its reply line.</summary>
    public string Send(string command, TimeSpan? timeout = null)
    {
        Task<string> reply = SendAsync(command);
        if (!reply.Wait(timeout ?? DefaultTimeout))
        {
            Kill();
            throw new TimeoutException($"child {Pid} did not answer '{command}' within {timeout ?? DefaultTimeout}. stderr: {Stderr}");
        }

        return reply.Result;
    }

    /// <summary>Sends a command; the task completes with its reply line (callers must bound the wait).</summary>
    public Task<string> SendAsync(string command)
    {
        _process.StandardInput.WriteLine(command);
        _process.StandardInput.Flush();
        return ReadReply(command);
    }

    private async Task<string> ReadReply(string command)
    {
        string? line = await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false);
        return line ?? throw new InvalidOperationException($"child {Pid} exited before answering '{command}'. stderr: {Stderr}");
    }

    /// <summary>Sends a command and checks the reply starts with "ok"; returns the words after it.</summary>
    public string[] Ok(string command, TimeSpan? timeout = null)
    {
        string reply = Send(command, timeout);
        Assert.True(reply.StartsWith("ok", StringComparison.Ordinal), $"child {Pid}: '{command}' answered '{reply}'. stderr: {Stderr}");
        return reply.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    _process.StandardInput.WriteLine("quit");
                    _process.StandardInput.Flush();
                }
                catch (IOException)
                {
                    // Already gone.
                }

                if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    Kill();
                }
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    /// <summary>Shmap.TestReader.dll: built next to this assembly's project (same configuration and framework).</summary>
    private static string ReaderDll()
    {
        string? configured = Environment.GetEnvironmentVariable("SHMAP_TEST_READER");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        // .../Shmap.Tests/bin/Debug/net10.0/ (or artifacts/bin/Shmap.Tests/debug/): swap the project's folder.
        string[] parts = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar).Split(Path.DirectorySeparatorChar);
        int at = Array.LastIndexOf(parts, "Shmap.Tests");
        if (at >= 0)
        {
            parts[at] = "Shmap.TestReader";
            string candidate = Path.Combine("/", Path.Combine(parts), "Shmap.TestReader.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Shmap.TestReader.dll not found next to {AppContext.BaseDirectory}; build the solution or set SHMAP_TEST_READER to its path.");
    }

    /// <summary>The dotnet host that runs this test process.</summary>
    internal static string DotnetHost()
    {
        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            return Environment.ProcessPath!;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        string beside = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(beside) ? beside : "dotnet";
    }
}
