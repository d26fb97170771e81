using System.Text.Json;

namespace Shmap.Cli.Tests;

/// <summary>get, scan, count, export: reading a published map.</summary>
public class ReadTests
{
    private const string Data = "aaa\t323\nzb\t1233\ntes\t32z\n红\t32是\ntab\\tkey\tnew\\nline\napple\tred\napricot\torange\nbanana\tyellow\n";

    private static async Task<TestDirectory> WithMapAsync()
    {
        var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync(Data, "share", "m", "-");
        Assert.True(share.ExitCode == 0, share.ToString());
        return dir;
    }

    [Fact]
    public async Task Get_MissingKey_PrintsFoundOnesAndExits1()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult get = await dir.RunAsync("get", "m", "aaa", "nope", "zb");
        Assert.Equal(1, get.ExitCode);
        Assert.Equal("323\n1233\n", get.Out);
        Assert.Equal("shmap: key 'nope' not found in 'm'.\n", get.Err);
    }

    [Fact]
    public async Task Get_MissingName_Exits1WithOneLine()
    {
        using var dir = new TestDirectory();
        CliResult get = await dir.RunAsync("get", "nothing", "k");
        Assert.Equal(1, get.ExitCode);
        Assert.Equal(string.Empty, get.Out);
        Assert.Single(get.Err.TrimEnd('\n').Split('\n'));
        Assert.Contains("no shared map named 'nothing'", get.Err, StringComparison.Ordinal);
        Assert.Contains(dir.Path, get.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Verbose_AddsTheStackTrace()
    {
        using var dir = new TestDirectory();
        CliResult get = await dir.RunAsync("get", "nothing", "k", "--verbose");
        Assert.Equal(1, get.ExitCode);
        Assert.Contains("SharedMapNotFoundException", get.Err, StringComparison.Ordinal);
        Assert.Contains("   at ", get.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Formats_TsvEscapesAndJsonHasNullForMissing()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult tsv = await dir.RunAsync("get", "m", "tab\tkey", "红", "--format", "tsv");
        Assert.Equal("tab\\tkey\tnew\\nline\n红\t32是\n", tsv.Out);

        CliResult json = await dir.RunAsync("get", "m", "tab\tkey", "missing", "--format", "json");
        Assert.Equal(1, json.ExitCode);
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal("new\nline", document.RootElement.GetProperty("tab\tkey").GetString());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("missing").ValueKind);

        CliResult value = await dir.RunAsync("get", "m", "tab\tkey");
        Assert.Equal("new\nline\n", value.Out);
    }

    [Fact]
    public async Task Get_KeysFromStdin_AddsToArgumentsAndDecodesEscapes()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult get = await CliRunner.RunAsync(["get", "m", "aaa", "--keys-from", "-", "--format", "tsv", "--dir", dir.Path], "红\ntab\\tkey\n\nnope\n");
        Assert.Equal(1, get.ExitCode);
        Assert.Equal("aaa\t323\n红\t32是\ntab\\tkey\tnew\\nline\n", get.Out);
        Assert.Equal("shmap: key 'nope' not found in 'm'.\n", get.Err);
    }

    [Fact]
    public async Task Get_ManyMissingKeys_NamesTenAndCountsTheRest()
    {
        using TestDirectory dir = await WithMapAsync();
        string keys = string.Concat(Enumerable.Range(0, 25).Select(i => $"missing{i}\n"));
        CliResult get = await CliRunner.RunAsync(["get", "m", "--keys-from", "-", "--dir", dir.Path], keys);
        Assert.Equal(1, get.ExitCode);
        string[] lines = get.Err.TrimEnd('\n').Split('\n');
        Assert.Equal(11, lines.Length);
        Assert.Contains("… and 15 more keys not found in 'm' (25 of 25)", lines[10], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_NoKeysAtAll_IsUsageError()
    {
        using TestDirectory dir = await WithMapAsync();
        Assert.Equal(2, (await dir.RunAsync("get", "m")).ExitCode);
    }

    [Fact]
    public async Task Scan_WholeMap_IsInOrdinalUtf8Order()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult scan = await dir.RunAsync("scan", "m", "--format", "keys");
        Assert.Equal(0, scan.ExitCode);
        Assert.Equal("aaa\napple\napricot\nbanana\ntab\\tkey\ntes\nzb\n红\n", scan.Out);
    }

    [Fact]
    public async Task Scan_PrefixRangeAndLimit()
    {
        using TestDirectory dir = await WithMapAsync();
        Assert.Equal("apple\tred\napricot\torange\n", (await dir.RunAsync("scan", "m", "--prefix", "ap")).Out);
        Assert.Equal("apple\tred\n", (await dir.RunAsync("scan", "m", "--prefix", "ap", "--limit", "1")).Out);
        Assert.Equal("apricot\torange\nbanana\tyellow\n", (await dir.RunAsync("scan", "m", "--from", "apr", "--to", "tab")).Out);
        Assert.Equal("zb\t1233\n红\t32是\n", (await dir.RunAsync("scan", "m", "--from", "zb")).Out);
        Assert.Equal(string.Empty, (await dir.RunAsync("scan", "m", "--prefix", "nothing")).Out);
        Assert.Equal(string.Empty, (await dir.RunAsync("scan", "m", "--limit", "0")).Out);
    }

    [Fact]
    public async Task Scan_PrefixWithRange_IsUsageError()
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult scan = await dir.RunAsync("scan", "m", "--prefix", "a", "--from", "b");
        Assert.Equal(2, scan.ExitCode);
        Assert.Contains("--prefix cannot be combined", scan.Err, StringComparison.Ordinal);
        Assert.Contains("shmap scan --help", scan.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_Formats_CsvJsonlJson()
    {
        using TestDirectory dir = await WithMapAsync();
        Assert.Equal("tab\tkey,\"new\nline\"\n", (await dir.RunAsync("scan", "m", "--prefix", "tab", "--format", "csv")).Out);
        Assert.Equal("{\"key\":\"tab\\tkey\",\"value\":\"new\\nline\"}\n{\"key\":\"tes\",\"value\":\"32z\"}\n", (await dir.RunAsync("scan", "m", "--prefix", "t", "--format", "jsonl")).Out);
        Assert.Equal("{\"key\":\"红\",\"value\":\"32是\"}\n", (await dir.RunAsync("scan", "m", "--prefix", "红", "--format", "jsonl")).Out);

        CliResult json = await dir.RunAsync("scan", "m", "--prefix", "a", "--format", "json");
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal(["aaa", "apple", "apricot"], document.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
    }

    [Fact]
    public async Task Count_AllAndPrefix()
    {
        using TestDirectory dir = await WithMapAsync();
        Assert.Equal("8\n", (await dir.RunAsync("count", "m")).Out);
        Assert.Equal("3\n", (await dir.RunAsync("count", "m", "--prefix", "a")).Out);
        Assert.Equal(1, (await dir.RunAsync("count", "nothing")).ExitCode);
    }

    [Theory]
    [InlineData("tsv")]
    [InlineData("csv")]
    [InlineData("jsonl")]
    [InlineData("json")]
    public async Task Export_ThenShare_RoundTripsEveryEntry(string format)
    {
        using TestDirectory dir = await WithMapAsync();
        CliResult export = await dir.RunAsync("export", "m", "--format", format);
        Assert.True(export.ExitCode == 0, export.ToString());

        CliResult share = await CliRunner.RunAsync(["share", "copy", "-", "--format", format, "--dir", dir.Path], export.OutBytes);
        Assert.True(share.ExitCode == 0, share.ToString());
        using SharedMap original = SharedMap.Open("m", dir.Options);
        using SharedMap copy = SharedMap.Open("copy", dir.Options);
        Assert.Equal(original.ToArray(), copy.ToArray());
    }

    [Fact]
    public async Task Export_ToFile_WritesTheFile()
    {
        using TestDirectory dir = await WithMapAsync();
        string file = Path.Combine(dir.Files, "out.jsonl");
        CliResult export = await dir.RunAsync("export", "m", "--format", "jsonl", "-o", file);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(string.Empty, export.Out);
        Assert.Equal(8, File.ReadAllLines(file).Length);
    }
}
