using System.Globalization;

namespace Shmap.Stress;

/// <summary>Order statistics of a sample, and the machine a measurement ran on.</summary>
internal static class Stats
{
    /// <summary>The q-quantile (nearest rank) of an ascending list.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static double Median(IEnumerable<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return Quantile(sorted, 0.5);
    }

    /// <summary>CPU model, cores, RAM, OS, kernel, .NET and load average, as one markdown list.</summary>
    public static string Machine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        string mhz = File.ReadLines("/proc/cpuinfo").FirstOrDefault(static l => l.StartsWith("cpu MHz", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        string memKb = File.ReadLines("/proc/meminfo").First(static l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(':', 2)[1].Trim();
        string os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(static l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "?"
            : "?";
        string kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        string load = File.ReadAllText("/proc/loadavg").Trim();
        string pressure = File.Exists("/proc/pressure/cpu") ? File.ReadLines("/proc/pressure/cpu").First() : "n/a";
        double gib = long.Parse(memKb.Split(' ')[0], CultureInfo.InvariantCulture) / 1048576.0;
        return FormattableString.Invariant($"""
            - CPU: {cpu} ({mhz} MHz), {Environment.ProcessorCount} cores
            - RAM: {gib:F1} GiB
            - OS: {os}, Linux {kernel}
            - .NET: {Environment.Version} ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})
            - Load average at the end (1, 5, 15 min, runnable/total): {load}
            - CPU pressure at the end (/proc/pressure/cpu, % of time some task waited for a CPU): {pressure}
            """);
    }

    /// <summary>Appends <paramref name="text"/> to <paramref name="path"/> when given.</summary>
    public static void Append(string? path, string text)
    {
        if (path is not null)
        {
            File.AppendAllText(path, text);
        }
    }
}
