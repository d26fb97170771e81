namespace Shmap.Tests;

/// <summary>Facts about where the tests run.</summary>
public static class TestEnvironment
{
    /// <summary>
    /// Under CI (<c>CI=true</c>, where the runner is root): tests that need root are never skipped
    /// there, so an environment that cannot run them fails the build instead of passing silently.
    /// </summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The process's effective user id, from /proc/self/status.</summary>
    public static string EffectiveUid => File.ReadLines("/proc/self/status").First(static l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];
}
