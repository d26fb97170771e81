using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Shmap.Nats.Tests;

/// <summary>
/// A real <c>nats-server</c> with JetStream on a free loopback port, its store in a private
/// temporary directory; alone or as one node of a cluster. Killed (SIGKILL) and its store removed on
/// dispose.
/// </summary>
public sealed class NatsServer : IDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(20);
    private readonly List<string> _arguments;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private NatsServer(string name, string storeDirectory, int port, List<string> arguments)
    {
        Name = name;
        StoreDirectory = storeDirectory;
        Port = port;
        _arguments = arguments;
    }

    /// <summary>The nats-server on PATH (or in /usr/sbin, where Debian puts it), or null.</summary>
    public static string? Executable { get; } = Find();

    public string Name { get; }

    public string StoreDirectory { get; }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the server printed (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>One server with JetStream.</summary>
    public static NatsServer StartSingle(string root)
    {
        int port = FreePort();
        string store = Path.Combine(root, "n0");
        var server = new NatsServer("n0", store, port, ["-n", "n0", "-a", "127.0.0.1", "-p", Num(port), "-js", "-sd", store]);
        server.Start();
        return server;
    }

    /// <summary>A cluster of <paramref name="count"/> JetStream servers routed to each other.</summary>
    public static NatsServer[] StartCluster(string root, int count = 3)
    {
        int[] ports = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
        int[] clusterPorts = Enumerable.Range(0, count).Select(_ => FreePort()).ToArray();
        var servers = new NatsServer[count];
        for (int i = 0; i < count; i++)
        {
            string name = "n" + Num(i);
            string store = Path.Combine(root, name);
            string routes = string.Join(',', clusterPorts.Where((_, j) => j != i).Select(p => $"nats://127.0.0.1:{p}"));
            servers[i] = new NatsServer(name, store, ports[i], ["-n", name, "-a", "127.0.0.1", "-p", Num(ports[i]), "-js", "-sd", store, "--cluster_name", "shmaptest", "--cluster", $"nats://127.0.0.1:{clusterPorts[i]}", "--routes", routes]);
        }

        foreach (NatsServer server in servers)
        {
            server.Start();
        }

        return servers;
    }

    /// <summary>Starts (or restarts, same port and store) the server and waits until it accepts clients.</summary>
    public void Start()
    {
        string executable = Executable ?? throw new InvalidOperationException(NatsFactAttribute.MissingMessage);
        Directory.CreateDirectory(StoreDirectory);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in _arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_log)
            {
                _log.AppendLine(e.Data);
            }

            if (e.Data.Contains("Server is ready", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += onLine;
        process.OutputDataReceived += onLine;
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;
        if (!ready.Task.Wait(s_startTimeout))
        {
            Kill();
            throw new TimeoutException($"nats-server {Name} did not get ready in {s_startTimeout}:\n{Log}");
        }
    }

    /// <summary>SIGKILL, and wait for the process to be gone.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            try
            {
                process.Kill();
                process.WaitForExit(10_000);
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
            _process = null;
        }
    }

    public void Dispose() => Kill();

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find()
    {
        IEnumerable<string> directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/sbin").Append("/usr/bin");
        return directories.Select(d => Path.Combine(d, "nats-server")).FirstOrDefault(File.Exists);
    }
}
