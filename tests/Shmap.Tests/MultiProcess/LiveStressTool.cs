using System.Globalization;
using System.Reflection;
using Shmap.Stress;

namespace Shmap.Tests.MultiProcess;

/// <summary>Runs tests/Shmap.Stress verbs as child processes (<c>dotnet Shmap.Stress.dll verb …</c>).</summary>
internal static class LiveStressTool
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The stress tool's dll, as built next to this test project (see Shmap.Tests.csproj).</summary>
    public static string DllPath { get; } = typeof(LiveStressTool).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "ShmapStressPath").Value
        ?? throw new InvalidOperationException("The test assembly does not say where Shmap.Stress.dll is.");

    private static string Host => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static ChildProcess Start(string verb, params string[] arguments)
    {
        Assert.True(File.Exists(DllPath), $"Stress tool not built at {DllPath}.");
        return ChildProcess.Start(Host, [DllPath, verb, .. arguments], $"{verb} {string.Join(' ', arguments)}");
    }

    /// <summary>Runs a verb to completion and asserts it exits 0.</summary>
    public static ChildProcess Run(string verb, TimeSpan timeout, params string[] arguments)
    {
        ChildProcess child = Start(verb, arguments);
        int exit = child.WaitForExit(timeout);
        Assert.True(exit == 0, $"'{child.Description}' exited {exit}.\n{child.Transcript()}");
        return child;
    }

    /// <summary>Waits for the child's "ready" line.</summary>
    public static void WaitReady(ChildProcess child) => child.WaitForLine(static l => l.StartsWith("ready", StringComparison.Ordinal), StartTimeout);

    /// <summary>Closes stdin (stop), waits, asserts exit 0, returns the summary line's fields.</summary>
    public static Dictionary<string, string> Stop(ChildProcess child, string verb)
    {
        child.CloseInput();
        int exit = child.WaitForExit(ExitTimeout);
        Assert.True(exit == 0, $"'{child.Description}' exited {exit}.\n{child.Transcript()}");
        return Summary(child, verb);
    }

    /// <summary>Fields of the child's "verb: a=1 b=2" summary line.</summary>
    public static Dictionary<string, string> Summary(ChildProcess child, string verb)
    {
        string line = child.Output.LastOrDefault(l => l.StartsWith(verb + ": ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"No summary line from '{child.Description}'.\n{child.Transcript()}");
        return line[(verb.Length + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(static field => field.Split('=', 2))
            .ToDictionary(static kv => kv[0], static kv => kv[1], StringComparer.Ordinal);
    }

    public static long Long(this Dictionary<string, string> summary, string field) => long.Parse(summary[field], CultureInfo.InvariantCulture);

    /// <summary>(version, tag) of each "published {version} {tag} {timestamp}" line.</summary>
    public static List<(long Version, string Tag)> Published(ChildProcess child) =>
        [.. child.Output.Where(static l => l.StartsWith("published ", StringComparison.Ordinal))
            .Select(static l => l.Split(' '))
            .Select(static f => (long.Parse(f[1], CultureInfo.InvariantCulture), f[2]))];

    /// <summary>Files of the directory, sorted.</summary>
    public static string[] Files(string directory) =>
        [.. Directory.GetFiles(directory).Select(static p => Path.GetFileName(p)!).Order(StringComparer.Ordinal)];
}

/// <summary>The multi-process live tests run alone: each keeps both cores busy.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveMultiProcessCollection
{
    public const string Name = "Live multi-process";
}
