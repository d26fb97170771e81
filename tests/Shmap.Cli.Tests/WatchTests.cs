using System.Text.Json;

namespace Shmap.Cli.Tests;

public class WatchTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Watch_NewVersions_PrintsALineEach()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv1\n", "share", "m", "-")).ExitCode);

        var output = new SyncStream();
        var error = new SyncStream();
        using var cancel = new CancellationTokenSource(s_timeout);
        Task<CliResult> watch = CliRunner.RunAsync(["watch", "m", "--count", "2", "--json", "--dir", dir.Path], null, output, error, cancellation: cancel.Token);
        await error.WaitForAsync("watching 'm'", s_timeout);

        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv2\n", "share", "m", "-", "--force")).ExitCode);
        await output.WaitForAsync("\"version\":2", s_timeout);
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv3\nk2\tx\n", "share", "m", "-", "--force")).ExitCode);

        CliResult result = await watch.WaitAsync(s_timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement[] events = result.Out.TrimEnd('\n').Split('\n').Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal([2L, 3L], events.Select(e => e.GetProperty("version").GetInt64()).ToArray());
        Assert.Equal(2, events[1].GetProperty("entries").GetInt32());
    }

    [Fact]
    public async Task Watch_Cancelled_EndsCleanlyWithExit0()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv1\n", "share", "m", "-")).ExitCode);

        var error = new SyncStream();
        using var cancel = new CancellationTokenSource();
        Task<CliResult> watch = CliRunner.RunAsync(["watch", "m", "--dir", dir.Path], null, error: error, cancellation: cancel.Token);
        await error.WaitForAsync("watching 'm'", s_timeout);
        await cancel.CancelAsync();

        CliResult result = await watch.WaitAsync(s_timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(string.Empty, result.Out);
    }

    [Fact]
    public async Task Watch_DeletedThenRepublished_ReportsBoth()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv1\n", "share", "m", "-")).ExitCode);

        var output = new SyncStream();
        var error = new SyncStream();
        using var cancel = new CancellationTokenSource(s_timeout);
        Task<CliResult> watch = CliRunner.RunAsync(["watch", "m", "--count", "1", "--dir", dir.Path], null, output, error, cancellation: cancel.Token);
        await error.WaitForAsync("watching 'm'", s_timeout);

        Assert.Equal(0, (await dir.RunAsync("rm", "m")).ExitCode);
        await output.WaitForAsync("'m' deleted", s_timeout);
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv2\n", "share", "m", "-")).ExitCode);

        CliResult result = await watch.WaitAsync(s_timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("'m' version 2: 1 entry", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_MissingName_Exits1()
    {
        using var dir = new TestDirectory();
        CliResult result = await dir.RunAsync("watch", "nothing");
        Assert.Equal(1, result.ExitCode);
    }
}
