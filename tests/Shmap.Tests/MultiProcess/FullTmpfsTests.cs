using System.Diagnostics;
using Xunit.Abstractions;

namespace Shmap.Tests.MultiProcess;

/// <summary>
/// Publishing into a tmpfs without room for the snapshot must fail with an exception, not kill the
/// publishing process (a store into an unbacked page of a mapped sparse file is SIGBUS). The publish
/// runs in a child process so that a regression shows as a dead child, not a dead test run. Needs
/// a private 1 MiB tmpfs: mounting takes root and mount rights (as on CI); where they are missing
/// the test says so in its output and checks nothing.
/// </summary>
public class FullTmpfsTests(ITestOutputHelper output)
{
    [Fact]
    public void Share_SnapshotLargerThanFreeTmpfs_ThrowsAndPublisherSurvives()
    {
        string mountPoint = Path.Combine(Path.GetTempPath(), "shmap-small-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(mountPoint);
        try
        {
            if (!Run("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "shmap-test", mountPoint))
            {
                output.WriteLine("Not run: cannot mount a small tmpfs here (needs root and mount rights).");
                return;
            }

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
