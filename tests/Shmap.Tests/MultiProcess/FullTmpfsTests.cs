using System.Diagnostics;
using System.Globalization;

namespace Shmap.Tests.MultiProcess;

/// <summary>
/// Publishing into a tmpfs without room for the snapshot must fail with an exception, not kill the
/// publishing process (a store into an unbacked page of a mapped sparse file is SIGBUS). The publish
/// runs in a child process so that a regression shows as a dead child, not a dead test run. Needs
/// a private 1 MiB tmpfs: mounting takes root and mount rights (as on CI); where they are missing
/// the test is reported skipped with the reason, and under CI it runs (and fails) anyway.
/// </summary>
public class FullTmpfsTests
{
    [TmpfsFact]
    public void Share_SnapshotLargerThanFreeTmpfs_ThrowsAndPublisherSurvives()
    {
        string mountPoint = Path.Combine(Path.GetTempPath(), "shmap-small-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mountPoint);
        try
        {
            Assert.True(TmpfsFactAttribute.Unavailable is null, $"Cannot run here: {TmpfsFactAttribute.Unavailable}.");
            Assert.True(
                Run("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "shmap-test", mountPoint),
                $"Could not mount a 1 MiB tmpfs at {mountPoint} although this process is root with CAP_SYS_ADMIN (a container or security module refuses mounts?).");

            try
            {
                string dir = Path.Combine(mountPoint, "maps");
                using var child = ChildReader.Start(dir);
                Assert.Equal(["1"], child.Ok("share fits 100 1000")); // 100 KB fits

                string reply = child.Send("share fits 3000 1000"); // 3 MB does not
                Assert.StartsWith("error IOException", reply, StringComparison.Ordinal);

                // The child lives on, the published map is untouched, no temporary file is left.
                Assert.Equal("notfound", child.Send("fresh nothing"));
                using SharedMap map = SharedMap.Open("fits", new SharedMapOptions { Directory = dir });
                Assert.Equal(1, map.Version);
                Assert.Equal(100, map.Count);
                map.Verify();
                Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
            }
            finally
            {
                Assert.True(Run("umount", mountPoint) || Run("umount", "-l", mountPoint), "could not unmount the test tmpfs");
            }
        }
        finally
        {
            Directory.Delete(mountPoint, recursive: true);
        }
    }

    private static bool Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process process = Process.Start(start)!;
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no such program
        }
    }
}

/// <summary>
/// A fact that mounts a tmpfs: it needs root with CAP_SYS_ADMIN and mount/umount. Elsewhere it is
/// reported skipped with the reason; under CI (<see cref="TestEnvironment.InCi"/>) it is never
/// skipped, so a runner that cannot run it fails instead of passing silently (the RootFact pattern).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TmpfsFactAttribute : FactAttribute
{
    private const int CapSysAdmin = 21;

    public TmpfsFactAttribute()
    {
        if (Unavailable is string reason && !TestEnvironment.InCi)
        {
            Skip = reason;
        }
    }

    /// <summary>Why a tmpfs cannot be mounted by this process, or null when it can.</summary>
    public static string? Unavailable { get; } = FindUnavailable();

    private static string? FindUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "it needs Linux";
        }

        string uid = TestEnvironment.EffectiveUid;
        if (uid != "0")
        {
            return $"it mounts a 1 MiB tmpfs, which needs root; this process runs as uid {uid}";
        }

        string effective = File.ReadLines("/proc/self/status").First(static l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
        if ((ulong.Parse(effective, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << CapSysAdmin)) == 0)
        {
            return "it mounts a 1 MiB tmpfs, which needs CAP_SYS_ADMIN; this root process lacks it (a container?)";
        }

        foreach (string tool in new[] { "mount", "umount" })
        {
            if (!File.Exists("/usr/bin/" + tool) && !File.Exists("/bin/" + tool))
            {
                return $"{tool} is missing";
            }
        }

        return null;
    }
}
