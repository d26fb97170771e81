using System.Text.Json;

namespace Shmap.Cli.Tests;

/// <summary>info, list, dump, load, verify, rm, and the command line itself.</summary>
public class AdminTests
{
    private static async Task<TestDirectory> WithMapAsync(string name = "m", string data = "aaa\t323\n红\t32是\n")
    {
        var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync(data, "share", name, "-");
        Assert.True(share.ExitCode == 0, share.ToString());
        return dir;
    }

    [Fact]
    public async Task Info_ShowsVersionEntriesChecksum()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult info = await dir.RunAsync("info", "m");
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("version    1", info.Out, StringComparison.Ordinal);
        Assert.Contains("entries    2", info.Out, StringComparison.Ordinal);
        Assert.Contains("format     version 1", info.Out, StringComparison.Ordinal);
        Assert.Contains("checksum   ok", info.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", info.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(" \n", info.Out, StringComparison.Ordinal);

        CliResult json = await dir.RunAsync("info", "m", "--json");
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal(1, document.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(2, document.RootElement.GetProperty("entries").GetInt32());
        Assert.Equal("ok", document.RootElement.GetProperty("checksum").GetString());
        Assert.Equal(1, document.RootElement.GetProperty("formatVersion").GetInt32());
    }

    [Fact]
    public async Task Info_CorruptPublishedSnapshot_ReportsItAndExits3()
    {
        using TestDirectory dir = await WithMapAsync();
        string path = Path.Combine(dir.Path, "m.shmap");
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0xFF; // in the body: header still opens, checksum fails
        File.WriteAllBytes(path, bytes);

        CliResult info = await dir.RunAsync("info", "m");
        Assert.Equal(3, info.ExitCode);
        Assert.Contains("corrupt", info.Err, StringComparison.Ordinal);

        CliResult verify = await dir.RunAsync("verify", "m");
        Assert.Equal(3, verify.ExitCode);
        Assert.Contains("body_checksum", verify.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CorruptHeader_EveryVerbNamesTheMapAndExits3()
    {
        using TestDirectory dir = await WithMapAsync();
        string path = Path.Combine(dir.Path, "m.shmap");
        byte[] bytes = File.ReadAllBytes(path);
        bytes[20] ^= 0xFF; // file_length: the header no longer opens
        File.WriteAllBytes(path, bytes);

        CliResult get = await dir.RunAsync("get", "m", "aaa");
        Assert.Equal(3, get.ExitCode);
        Assert.Contains("the snapshot published as 'm'", get.Err, StringComparison.Ordinal);
        Assert.Single(get.Err.TrimEnd('\n').Split('\n'));

        Assert.Equal(3, (await dir.RunAsync("info", "m")).ExitCode);
        Assert.Equal(3, (await dir.RunAsync("verify", "m")).ExitCode);
        CliResult list = await dir.RunAsync("list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("unreadable", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_TableAndJson()
    {
        using TestDirectory dir = await WithMapAsync("beta");
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv\n", "share", "alpha", "-")).ExitCode);

        CliResult list = await dir.RunAsync("list");
        Assert.Equal(0, list.ExitCode);
        string[] lines = list.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("alpha ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("beta ", lines[2], StringComparison.Ordinal);

        CliResult json = await dir.RunAsync("list", "--json");
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal(["alpha", "beta"], document.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray());
        Assert.Equal(2, document.RootElement[1].GetProperty("entries").GetInt32());
    }

    [Fact]
    public async Task List_EmptyOrMissingDirectory_SaysSo()
    {
        using var dir = new TestDirectory();
        CliResult list = await CliRunner.RunAsync("list", "--dir", Path.Combine(dir.Path, "never-created"));
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(string.Empty, list.Out);
        Assert.Contains("no shared maps", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dump_ThenLoad_PublishesTheSameEntries()
    {
        using TestDirectory dir = await WithMapAsync();
        string file = Path.Combine(dir.Files, "m.shmap");
        CliResult dump = await dir.RunAsync("dump", "m", file);
        Assert.True(dump.ExitCode == 0, dump.ToString());

        CliResult verify = await dir.RunAsync("verify", file);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.StartsWith("ok: ", verify.Out, StringComparison.Ordinal);

        CliResult load = await dir.RunAsync("load", "copy", file);
        Assert.True(load.ExitCode == 0, load.ToString());
        Assert.Equal("32是\n", (await dir.RunAsync("get", "copy", "红")).Out);
    }

    [Fact]
    public async Task Dump_ToStdout_WritesTheRawSnapshot()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult dump = await dir.RunAsync("dump", "m", "-");
        Assert.Equal(0, dump.ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "m.shmap")), dump.OutBytes);

        CliResult load = await CliRunner.RunAsync(["load", "m", "-", "--force", "--dir", dir.Path], dump.OutBytes);
        Assert.True(load.ExitCode == 0, load.ToString());
        Assert.Contains("version 2", load.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    [InlineData("empty")]
    public async Task Load_CorruptFile_IsRejectedAndOldVersionIntact(string damage)
    {
        using TestDirectory dir = await WithMapAsync();
        byte[] bytes = File.ReadAllBytes(Path.Combine(dir.Path, "m.shmap"));
        bytes = damage switch
        {
            "flip" => Flip(bytes, bytes.Length / 2),
            "truncate" => bytes[..(bytes.Length - 5)],
            "garbage" => Encoding.UTF8.GetBytes("this is not a snapshot at all, just text that is long enough to cover a header of 128 bytes........................................."),
            _ => [],
        };
        string file = Path.Combine(dir.Files, "bad.shmap");
        File.WriteAllBytes(file, bytes);

        CliResult load = await dir.RunAsync("load", "m", file, "--force");
        Assert.True(load.ExitCode == 3, load.ToString());
        Assert.Contains("nothing was published", load.Err, StringComparison.Ordinal);

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(1, map.Version);
        Assert.Equal("32是", map.Get("红"));

        CliResult verify = await dir.RunAsync("verify", file);
        Assert.Equal(3, verify.ExitCode);
    }

    [Fact]
    public async Task Load_ExistingNameWithoutForce_Exit4()
    {
        using TestDirectory dir = await WithMapAsync();
        string file = Path.Combine(dir.Files, "m.shmap");
        Assert.Equal(0, (await dir.RunAsync("dump", "m", file)).ExitCode);
        CliResult load = await dir.RunAsync("load", "m", file);
        Assert.Equal(4, load.ExitCode);
        Assert.Equal(1, (await dir.RunAsync("load", "other", Path.Combine(dir.Files, "nope.shmap"))).ExitCode);
    }

    [Fact]
    public async Task Verify_NameFileAndMissing()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult byName = await dir.RunAsync("verify", "m", "--json");
        Assert.Equal(0, byName.ExitCode);
        using (var document = JsonDocument.Parse(byName.Out))
        {
            Assert.True(document.RootElement.GetProperty("ok").GetBoolean());
        }

        Assert.Equal(1, (await dir.RunAsync("verify", "nothing")).ExitCode);
        Assert.Equal(1, (await dir.RunAsync("verify", "./nothing.shmap")).ExitCode);
    }

    [Fact]
    public async Task Rm_RemovesAndReportsMissing()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult rm = await dir.RunAsync("rm", "m", "nothing");
        Assert.Equal(1, rm.ExitCode);
        Assert.Contains("removed 'm'", rm.Out, StringComparison.Ordinal);
        Assert.Contains("no shared map named 'nothing'", rm.Err, StringComparison.Ordinal);
        Assert.False(SharedMap.Exists("m", dir.Options));
        Assert.Equal(0, (await dir.RunAsync("rm", "m", "--missing-ok")).ExitCode);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("count")]
    [InlineData("count", "m", "--bogus")]
    [InlineData("scan", "m", "--limit", "-1")]
    [InlineData("scan", "m", "--limit", "many")]
    [InlineData("export", "m", "--format", "xml")]
    public async Task CommandLine_Mistakes_AreUsageErrors(params string[] args)
    {
        using var dir = new TestDirectory();
        CliResult result = await dir.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("shmap: ", result.Err, StringComparison.Ordinal);
        Assert.Contains("--help", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandLine_NoVerb_ShowsHelpAndExits2()
    {
        CliResult result = await CliRunner.RunAsync();
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Commands:", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("share")]
    [InlineData("get")]
    [InlineData("scan")]
    [InlineData("count")]
    [InlineData("info")]
    [InlineData("list")]
    [InlineData("export")]
    [InlineData("dump")]
    [InlineData("load")]
    [InlineData("verify")]
    [InlineData("rm")]
    [InlineData("watch")]
    [InlineData("demo")]
    public async Task Help_EveryVerb_HasExamples(string verb)
    {
        CliResult help = await CliRunner.RunAsync(verb, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:", help.Out, StringComparison.Ordinal);
        Assert.Contains("Examples:\n  shmap " + verb, help.Out.Replace("shmap ls", "shmap list", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("--dir", help.Out, StringComparison.Ordinal);
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        bytes[index] ^= 0x5A;
        return bytes;
    }
}
