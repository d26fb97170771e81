using System.Diagnostics;
using System.Text;

namespace Shmap.Stress;

/// <summary>
/// A child process with its output collected line by line. Every wait is bounded; a child still
/// running when disposed is killed (SIGKILL), so a failed or timed-out run leaves no orphan.
/// Also compiled into the test project, which drives the stress tool through it.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<string> _errors = [];
    private readonly object _gate = new();
    private bool _outputClosed;

    private ChildProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    public string Description { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>, stdin/stdout/stderr redirected.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? label = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process, label ?? string.Join(' ', info.ArgumentList));
        process.OutputDataReceived += (_, e) => child.Add(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => child.Add(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Lines written to stdout so far.</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_gate)
            {
                return [.. _output];
            }
        }
    }

    /// <summary>Lines written to stderr so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_gate)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Waits for a stdout line matching <paramref name="match"/>; throws with the child's output if none comes in time or the child ends first.</summary>
    public string WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            int scanned = 0;
            while (true)
            {
                for (; scanned < _output.Count; scanned++)
                {
                    if (match(_output[scanned]))
                    {
                        return _output[scanned];
                    }
                }

                if (_outputClosed)
                {
                    throw new InvalidOperationException($"Child '{Description}' ended its output without the line expected.\n{Transcript()}");
                }

                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0)
                {
                    throw new TimeoutException($"Child '{Description}' did not print the line expected within {timeout}.\n{Transcript()}");
                }

                Monitor.Wait(_gate, TimeSpan.FromSeconds(Math.Min(1.0, (double)left / Stopwatch.Frequency)));
            }
        }
    }

    /// <summary>Writes a line to the child's stdin.</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Closes the child's stdin: children run with --stop-on-stdin take it as "stop".</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone.
        }
    }

    /// <summary>Waits for the child to exit and its output to drain; kills it and throws when it takes longer than <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"Child '{Description}' did not exit within {timeout}; killed.\n{Transcript()}");
        }

        // The parameterless wait also drains the redirected output; bound it anyway.
        Task drain = Task.Run(() => _process.WaitForExit());
        drain.Wait(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    /// <summary>
    /// SIGKILL, then waits (bounded) until the process is gone. Only the process itself: the verbs
    /// that start children of their own start them with --stop-on-stdin, so those see end of file
    /// and exit (and a process-tree kill scans all of /proc, slow on a busy machine).
    /// </summary>
    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        _process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    /// <summary>Everything the child printed, for failure messages.</summary>
    public string Transcript()
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            text.Append("--- stdout of ").Append(Description).Append(" ---\n");
            foreach (string line in _output.TakeLast(60))
            {
                text.Append(line).Append('\n');
            }

            text.Append("--- stderr ---\n");
            foreach (string line in _errors.TakeLast(60))
            {
                text.Append(line).Append('\n');
            }

            return text.ToString();
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    private void Add(string? line, bool error)
    {
        lock (_gate)
        {
            if (line is null)
            {
                if (!error)
                {
                    _outputClosed = true;
                }
            }
            else
            {
                (error ? _errors : _output).Add(line);
            }

            Monitor.PulseAll(_gate);
        }
    }
}
