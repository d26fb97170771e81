namespace Shmap.Cli.Tests;

/// <summary>The same commands as if stdout and stderr were a terminal: progress bar, borders, colours.</summary>
public class TerminalTests
{
    private static string BigTsv(int lines, string? badLine = null)
    {
        var text = new StringBuilder(lines * 40);
        for (int i = 0; i < lines; i++)
        {
            text.Append("key:").Append(i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)).Append("\tvalue number ").Append(i).Append('\n');
        }

        if (badLine is not null)
        {
            text.Append(badLine).Append('\n');
        }

        return text.ToString();
    }

    [Fact]
    public async Task Share_SlowInputOnTerminal_DrawsProgressThenSucceeds()
    {
        using var dir = new TestDirectory();
        string file = dir.File("big.tsv", BigTsv(400_000));
        var error = new SyncStream();
        CliResult share = await CliRunner.RunAsync(["share", "m", file, "--dir", dir.Path], null, error: error, terminal: true);

        Assert.True(share.ExitCode == 0, share.ToString());
        Assert.Contains("shared 'm' version 1: 400,000 entries", share.Out, StringComparison.Ordinal);
        Assert.Contains("\u001b[", share.Err, StringComparison.Ordinal);
        Assert.Contains("done", share.Err, StringComparison.Ordinal);
        Assert.Contains("400,000 entries", share.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Share_MalformedLineAfterProgressStarted_ReportsLineNotInternalError()
    {
        using var dir = new TestDirectory();
        string file = dir.File("big.tsv", BigTsv(400_000, badLine: "no tab on this line"));
        CliResult share = await CliRunner.RunAsync(["share", "m", file, "--dir", dir.Path], null, terminal: true);

        Assert.True(share.ExitCode == 3, share.ToString());
        Assert.Contains($"{file}:400001: no tab", share.Err, StringComparison.Ordinal);
        Assert.False(SharedMap.Exists("m", dir.Options));
    }

    [Fact]
    public async Task List_OnTerminal_HasBorders()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv\n", "share", "m", "-")).ExitCode);
        CliResult list = await CliRunner.RunAsync(["list", "--dir", dir.Path], null, terminal: true);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("╭", list.Out, StringComparison.Ordinal);
    }
}
