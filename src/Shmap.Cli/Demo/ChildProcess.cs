using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Shmap.Cli.Demo;

/// <summary>
/// A reader process of the demo: this same program re-run with the hidden <c>__demo-reader</c>
/// verb. It talks JSON lines on stdout ({"event": …}) and takes commands on stdin.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _events = new(StringComparer.Ordinal);
    private readonly StringBuilder _stderr = new();
    private readonly Task _reader;
    private volatile bool _exited;

    private ChildProcess(Process process, int index)
    {
        _process = process;
        Index = index;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        _reader = Task.Run(ReadEventsAsync);
    }

    public int Index { get; }

    public int Pid => _process.Id;

    /// <summary>Starts this program again with <paramref name="arguments"/>.</summary>
    public static ChildProcess Start(int index, IEnumerable<string> arguments)
    {
        ProcessStartInfo start = StartInfo(arguments);
        Process process = Process.Start(start) ?? throw new CliException(ExitCodes.Internal, $"could not start {start.FileName}.");
        return new ChildProcess(process, index);
    }

    /// <summary>
    /// How to run this program again: the apphost itself when that is what runs (shmap,
    /// Shmap.Cli, a dotnet tool shim), else the dotnet host with this assembly (dotnet Shmap.Cli.dll,
    /// or a test host that loaded it).
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        string assembly = typeof(Program).Assembly.Location;
        string? process = Environment.ProcessPath;
        string processName = process is null ? string.Empty : Path.GetFileNameWithoutExtension(process);
        if (process is not null && (processName == "shmap" || processName == Path.GetFileNameWithoutExtension(assembly)))
        {
            start.FileName = process;
        }
        else
        {
            start.FileName = processName == "dotnet" ? process! : DotnetHost();
            start.ArgumentList.Add(assembly);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>The next (or the past) event of that name; faults if the process ends without sending it.</summary>
    public Task<JsonElement> Event(string name)
    {
        TaskCompletionSource<JsonElement> source = _events.GetOrAdd(name, _ => new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_exited)
        {
            source.TrySetException(Exited(name));
        }

        return source.Task;
    }

    /// <summary>Sends a command line to the process's stdin.</summary>
    public void Send(string command)
    {
        try
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // It has exited; Event() reports that.
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private async Task ReadEventsAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith('{'))
                {
                    continue;
                }

                using var document = JsonDocument.Parse(line);
                JsonElement root = document.RootElement.Clone();
                if (root.TryGetProperty("event", out JsonElement name) && name.GetString() is { } eventName)
                {
                    _events.GetOrAdd(eventName, _ => new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(root);
                }
            }
        }
        catch (Exception e) when (e is IOException or JsonException or ObjectDisposedException or InvalidOperationException)
        {
            // Treated as the end of the process below.
        }

        _exited = true;
        foreach (KeyValuePair<string, TaskCompletionSource<JsonElement>> pending in _events)
        {
            pending.Value.TrySetException(Exited(pending.Key));
        }
    }

    private CliException Exited(string waitingFor)
    {
        string code = _process.HasExited ? _process.ExitCode.ToString(CultureInfo.InvariantCulture) : "?";
        string stderr;
        lock (_stderr)
        {
            stderr = _stderr.ToString().Trim();
        }

        return new CliException(ExitCodes.Internal, $"reader {Index} (pid {_process.Id}) ended (exit code {code}) before '{waitingFor}'{(stderr.Length > 0 ? ": " + stderr : ".")}");
    }

    private static string DotnetHost()
    {
        string? hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath;
        }

        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }

        return "dotnet";
    }
}
