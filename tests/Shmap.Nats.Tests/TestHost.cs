using System.Diagnostics;
using System.Text.Json;

namespace Shmap.Nats.Tests;

/// <summary>
/// One "host": its own Shmap directory, a sync agent in its own process (the real CLI,
/// <c>shmap sync --json</c>), and optionally a follower in this process reading continuously.
/// </summary>
public sealed class TestHost : IDisposable
{
    private readonly string _natsUrls;
    private readonly string[] _agentArguments;
    private readonly List<JsonElement> _events = [];
    private readonly StringBuilder _agentLog = new();
    private Process? _agent;
    private Thread? _follower;
    private volatile bool _stopFollower;

    public TestHost(string root, string name, string natsUrls, params string[] agentArguments)
    {
        Name = name;
        Directory = Path.Combine(root, name);
        System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _natsUrls = natsUrls;
        _agentArguments = agentArguments;
    }

    public string Name { get; }

    public string Directory { get; }

    public SharedMapOptions Options => new() { Directory = Directory };

    public string WorkDirectory => Path.Combine(Directory, ShmapSyncAgent.WorkDirectoryName);

    /// <summary>The agent's process id, or 0.</summary>
    public int AgentPid => _agent?.Id ?? 0;

    /// <summary>What the follower saw: reads, distinct versions in order, and any problem.</summary>
    public long FollowerReads { get; private set; }

    public List<int> FollowerVersions { get; } = [];

    public string? FollowerProblem { get; private set; }

    public string AgentLog
    {
        get
        {
            lock (_agentLog)
            {
                return _agentLog.ToString();
            }
        }
    }

    public JsonElement[] Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public void StartAgent()
    {
        string? self = Environment.ProcessPath;
        var start = new ProcessStartInfo
        {
            FileName = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Shmap.Cli.dll"));
        foreach (string argument in (string[])["sync", "--nats", _natsUrls, "--dir", Directory, "--json", "--stall-timeout", "5", .. _agentArguments])
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (_events)
                {
                    _events.Add(JsonDocument.Parse(line).RootElement.Clone());
                }

                lock (_agentLog)
                {
                    _agentLog.AppendLine("out: " + line);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_agentLog)
                {
                    _agentLog.AppendLine("err: " + e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _agent = process;
    }

    /// <summary>SIGKILL: no cleanup, as a crash or the OOM killer would.</summary>
    public void KillAgent()
    {
        if (_agent is { } agent)
        {
            try
            {
                agent.Kill();
                agent.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }

            agent.Dispose();
            _agent = null;
        }
    }

    /// <summary>Waits for an event line of the agent matching <paramref name="match"/>.</summary>
    public async Task<JsonElement> WaitForEventAsync(Func<JsonElement, bool> match, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? Fleet.Timeout);
        while (true)
        {
            foreach (JsonElement e in Events)
            {
                if (match(e))
                {
                    return e;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"host {Name}: no event for {what}; agent log:\n{AgentLog}");
            }

            if (_agent is { HasExited: true })
            {
                throw new InvalidOperationException($"host {Name}: the agent exited with {_agent.ExitCode}:\n{AgentLog}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The local map's "version" key, or -1.</summary>
    public int LocalContentVersion(string name)
    {
        try
        {
            using SharedMap map = SharedMap.Open(name, Options);
            return int.TryParse(map.Get("version"), CultureInfo.InvariantCulture, out int v) ? v : -1;
        }
        catch (SharedMapNotFoundException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Follows <paramref name="name"/> on a thread, reading continuously: every snapshot it takes must
    /// be a whole version (<see cref="Fleet.CheckConsistent"/>) and versions never go backwards.
    /// </summary>
    public void StartFollower(string name, int entries)
    {
        _follower = new Thread(() =>
        {
            try
            {
                while (!_stopFollower && !SharedMap.Exists(name, Options))
                {
                    Thread.Sleep(5);
                }

                using LiveSharedMap live = SharedMap.Follow(name, Options);
                int last = -1;
                while (!_stopFollower)
                {
                    using SharedMap snapshot = live.Snapshot();
                    if (Fleet.CheckConsistent(snapshot, entries, out int version) is { } problem)
                    {
                        FollowerProblem ??= problem;
                    }
                    else if (version < last)
                    {
                        FollowerProblem ??= $"went back from version {last} to {version}";
                    }
                    else if (version > last)
                    {
                        lock (FollowerVersions)
                        {
                            FollowerVersions.Add(version);
                        }

                        last = version;
                    }

                    FollowerReads++;
                }
            }
            catch (Exception e) when (!_stopFollower)
            {
                FollowerProblem ??= e.ToString();
            }
        })
        { IsBackground = true, Name = "follower " + Name };
        _follower.Start();
    }

    public void StopFollower()
    {
        _stopFollower = true;
        _follower?.Join(10_000);
    }

    public void Dispose()
    {
        StopFollower();
        KillAgent();
    }
}
