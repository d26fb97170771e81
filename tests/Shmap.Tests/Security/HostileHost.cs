using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Shmap.Tests.Security;

/// <summary>
/// A fact that needs root (to create a throwaway user and a private mount namespace). Elsewhere it
/// is reported skipped with the reason; under CI (<c>CI=true</c>, where the runner is root) it is
/// never skipped, so an environment that cannot run it fails the build instead of passing silently.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (HostileHost.Unavailable is string reason && !HostileHost.InCi)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// A second, unprivileged user on this host, and a private /dev/shm to attack through: each
/// <see cref="Run"/> starts bash in a new mount namespace (<c>unshare --mount</c>) with its own
/// tmpfs on /dev/shm (mode 1777, like the host's), where the script runs the real CLI as root
/// (<c>$SHMAP ...</c>) and acts as the other user with <c>as_attacker CMD...</c> (runuser). The
/// host's /dev/shm is never touched. The user is created once (useradd) and removed at the end
/// (userdel).
/// </summary>
public sealed class HostileHost : IDisposable
{
    private static readonly string s_cliPath = typeof(HostileHost).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "ShmapCliPath").Value
        ?? throw new InvalidOperationException("The test assembly does not say where Shmap.Cli.dll is.");

    public HostileHost()
    {

        User = string.Empty;
        if (Unavailable is not null)
        {
            return; // every test here is skipped (RootFact), or fails in Run under CI
        }

        RemoveStaleUsers();
        User = "shmapx" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Exec("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", User);
        Uid = int.Parse(Exec("id", "-u", User).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Why these tests cannot run in this process, or null when they can.</summary>
    public static string? Unavailable { get; } = FindUnavailable();

    public static bool InCi => TestEnvironment.InCi;

    /// <summary>The throwaway user's name.</summary>
    public string User { get; }

    /// <summary>The throwaway user's uid.</summary>
    public int Uid { get; }

    /// <summary>
    /// Runs <paramref name="script"/> (bash) in a private mount namespace with a fresh /dev/shm.
    /// Defined for it: <c>SHMAP</c> (the CLI, run as root), <c>ATTACKER</c> and <c>ATTACKER_UID</c>,
    /// <c>as_attacker CMD...</c>, and <c>mark NAME VALUE</c>, which records a result line
    /// <c>NAME=VALUE</c> that <see cref="ScriptResult.Marks"/> returns.
    /// </summary>
    public ScriptResult Run(string script, int timeoutSeconds = 90)
    {
        Assert.True(Unavailable is null, $"The security tests cannot run here: {Unavailable}.");
        string host = MultiProcess.ChildReader.DotnetHost();
        string prelude =
            "set -u\n" +
            "mount -t tmpfs -o mode=1777,size=256m shmap-security /dev/shm\n" +
            "unset XDG_RUNTIME_DIR SHMAP_DIR\n" +
            $"SHMAP() {{ '{host}' '{s_cliPath}' \"$@\"; }}\n" +
            $"ATTACKER='{User}'; ATTACKER_UID={Uid}\n" +
            "as_attacker() { runuser -u \"$ATTACKER\" -- \"$@\"; }\n" +
            "trap 'pkill -KILL -u \"$ATTACKER\" 2>/dev/null; jobs -p | xargs -r kill -9 2>/dev/null' EXIT\n" +
            "mark() { echo \"@@$1=$2\"; }\n" +
            // The CLI, readable by the other user too (the repository may be in root's home).
            $"cli_as_attacker() {{ [ -d /dev/shm/.cli ] || {{ cp -r '{Path.GetDirectoryName(s_cliPath)}' /dev/shm/.cli && chmod -R a+rX /dev/shm/.cli; }}; " +
            $"runuser -u \"$ATTACKER\" -- env HOME=/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 '{host}' /dev/shm/.cli/{Path.GetFileName(s_cliPath)} \"$@\"; }}\n";
        var start = new ProcessStartInfo("unshare", ["--mount", "--propagation", "private", "--", "bash", "-c", prelude + script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("unshare did not start.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"The attack script did not finish in {timeoutSeconds} s (a freeze).\n--- stdout ---\n{output.Result}\n--- stderr ---\n{error.Result}");
        }

        return new ScriptResult(process.ExitCode, output.Result, error.Result);
    }

    public void Dispose()
    {
        if (User.Length > 0)
        {
            _ = Exec("userdel", User);
        }
    }

    /// <summary>Users an earlier run could not remove (its process was killed): shmapxPID with no such process.</summary>
    private static void RemoveStaleUsers()
    {
        foreach (string line in File.ReadLines("/etc/passwd"))
        {
            string user = line.Split(':')[0];
            if (user.StartsWith("shmapx", StringComparison.Ordinal) && int.TryParse(user.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try
                {
                    _ = Exec("pkill", "-KILL", "-u", user);
                }
                catch (InvalidOperationException)
                {
                }

                try
                {
                    _ = Exec("userdel", user);
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    }

    private static string? FindUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "they need Linux";
        }

        string uid = TestEnvironment.EffectiveUid;
        if (uid != "0")
        {
            return $"they need root (to create a user and a mount namespace); this process runs as uid {uid}";
        }

        foreach (string tool in new[] { "/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/runuser", "/usr/bin/unshare", "/usr/bin/flock", "/usr/bin/mkfifo" })
        {
            if (!File.Exists(tool))
            {
                return $"{tool} is missing";
            }
        }

        return null;
    }

    private static string Exec(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {error}");
        }

        return output;
    }
}

/// <summary>What an attack script printed; <see cref="Marks"/> are its <c>mark NAME VALUE</c> lines.</summary>
public sealed record ScriptResult(int ExitCode, string Out, string Err)
{
    public IReadOnlyDictionary<string, string> Marks { get; } = Out.Split('\n')
        .Where(static l => l.StartsWith("@@", StringComparison.Ordinal) && l.Contains('=', StringComparison.Ordinal))
        .Select(static l => l[2..].Split('=', 2))
        .GroupBy(static p => p[0])
        .ToDictionary(static g => g.Key, static g => g.Last()[1]);

    public string Mark(string name) => Marks.TryGetValue(name, out string? value) ? value : throw new Xunit.Sdk.XunitException($"The script did not record '{name}'.\n{this}");

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}");
        return text.ToString();
    }
}

[CollectionDefinition(nameof(HostileHostCollection))]
public sealed class HostileHostCollection : ICollectionFixture<HostileHost>
{
}
