using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Shmap.Cli.Tests;

/// <summary>The demo end to end, with its real child processes.</summary>
public partial class DemoTests
{
    [Fact]
    public async Task Demo_SmallMap_RunsReadersFollowsNewVersionAndCleansUp()
    {
        using var dir = new TestDirectory();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        CliResult demo = await CliRunner.RunAsync(["demo", "--entries", "5000", "--readers", "2", "--seconds", "0.3", "--dir", dir.Path], null, cancellation: cancel.Token);

        Assert.True(demo.ExitCode == 0, demo.ToString());
        Assert.Equal(2, Count(demo.Out, "reads 红 → 32是"));
        Assert.Equal(2, Count(demo.Out, "demo:version → 2"));
        Assert.Contains("every one found", demo.Out, StringComparison.Ordinal);
        Assert.Contains("lookups/s, 2 readers", demo.Out, StringComparison.Ordinal);
        Assert.Contains("Dictionary<string,string> per process", demo.Out, StringComparison.Ordinal);
        Assert.Contains("removed 'shmap-demo'", demo.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", demo.Out, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.shmap"));
        foreach (int pid in ReaderPids(demo.Out))
        {
            Assert.False(IsRunning(pid), $"reader {pid} still runs");
        }
    }

    [Fact]
    public async Task Demo_Cancelled_KillsReadersAndRemovesTheName()
    {
        using var dir = new TestDirectory();
        var output = new SyncStream();
        using var cancel = new CancellationTokenSource();
        Task<CliResult> demo = CliRunner.RunAsync(["demo", "--entries", "2000", "--seconds", "60", "--name", "cancelled", "--dir", dir.Path], null, output, cancellation: cancel.Token);
        await output.WaitForAsync("readers look up", TimeSpan.FromSeconds(60));
        Assert.True(SharedMap.Exists("cancelled", dir.Options));
        int[] pids = ReaderPids(output.Text);
        Assert.Equal(2, pids.Length);

        await cancel.CancelAsync();
        CliResult result = await demo.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.False(SharedMap.Exists("cancelled", dir.Options));
        foreach (int pid in pids)
        {
            Assert.False(IsRunning(pid), $"reader {pid} still runs");
        }
    }

    [Fact]
    public async Task Demo_ExistingName_Exit4WithoutForce()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv\n", "share", "shmap-demo", "-")).ExitCode);
        CliResult demo = await dir.RunAsync("demo", "--entries", "10");
        Assert.Equal(4, demo.ExitCode);
        Assert.Equal("v\n", (await dir.RunAsync("get", "shmap-demo", "k")).Out);
    }

    private static int Count(string text, string part) => Regex.Count(text, Regex.Escape(part));

    private static int[] ReaderPids(string output) => PidPattern().Matches(output).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && process.WaitForExit(5000) is false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"reader \d+ \(pid (\d+)\) opened")]
    private static partial Regex PidPattern();
}
