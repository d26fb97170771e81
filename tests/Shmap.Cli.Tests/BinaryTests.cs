using System.Diagnostics;

namespace Shmap.Cli.Tests;

/// <summary>The built program as a separate process: real stdin/stdout pipes, exit codes, signals.</summary>
public class BinaryTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Binary_SharesFromStdinAndGetsThroughPipes()
    {
        using var dir = new TestDirectory();
        (int code, string stdout, string stderr) = await RunAsync(["share", "test:3325", "-", "--dir", dir.Path], "aaa\t323\nzb\t1233\ntes\t32z\n红\t32是\n");
        Assert.True(code == 0, stderr);
        Assert.Contains("version 1: 4 entries", stdout, StringComparison.Ordinal);

        (code, stdout, stderr) = await RunAsync(["get", "test:3325", "红", "--dir", dir.Path]);
        Assert.Equal(0, code);
        Assert.Equal("32是\n", stdout);
        Assert.Equal(string.Empty, stderr);

        (code, stdout, _) = await RunAsync(["list", "--dir", dir.Path]);
        Assert.Equal(0, code);
        Assert.DoesNotContain('\u001b', stdout);
        Assert.StartsWith("NAME", stdout, StringComparison.Ordinal);

        (code, _, stderr) = await RunAsync(["get", "test:3325", "nope", "--dir", dir.Path]);
        Assert.Equal(1, code);
        Assert.Equal("shmap: key 'nope' not found in 'test:3325'.\n", stderr);
    }

    [Fact]
    public async Task Binary_SigintEndsWatchCleanly()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv\n", "share", "m", "-")).ExitCode);

        using Process watch = Start(["watch", "m", "--dir", dir.Path]);
        string? first = await watch.StandardError.ReadLineAsync().WaitAsync(s_timeout);
        Assert.StartsWith("watching 'm'", first, StringComparison.Ordinal);

        // A shell that started us in the background may have left SIGINT ignored, which children
        // inherit (as nohup does); then SIGTERM, which shmap handles the same way, is the test.
        string signal = IgnoresSigint(watch.Id) ? "-TERM" : "-INT";
        using (Process kill = Process.Start("kill", [signal, watch.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await watch.WaitForExitAsync().WaitAsync(s_timeout);
        Assert.Equal(0, watch.ExitCode);
        Assert.Equal(string.Empty, await watch.StandardError.ReadToEndAsync());
    }

    private static bool IgnoresSigint(int pid)
    {
        string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(string[] args, string? stdin = null)
    {
        using Process process = Start(args);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(s_timeout);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the CLI assembly built next to the tests with the dotnet host, as 'dotnet run' would.</summary>
    private static Process Start(string[] args)
    {
        string assembly = typeof(Program).Assembly.Location;
        string? self = Environment.ProcessPath;
        var start = new ProcessStartInfo
        {
            FileName = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }
}
