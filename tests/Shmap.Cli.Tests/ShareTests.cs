namespace Shmap.Cli.Tests;

public class ShareTests
{
    private const string SeedTsv = "aaa\t323\nzb\t1233\ntes\t32z\n红\t32是\n";

    [Fact]
    public async Task Share_TsvFile_GetReadsEveryValue()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunAsync("share", "test:3325", dir.File("seed.tsv", SeedTsv));
        Assert.True(share.ExitCode == 0, share.ToString());
        Assert.Contains("shared 'test:3325' version 1: 4 entries", share.Out, StringComparison.Ordinal);

        CliResult get = await dir.RunAsync("get", "test:3325", "红", "tes", "aaa", "zb");
        Assert.Equal(0, get.ExitCode);
        Assert.Equal("32是\n32z\n323\n1233\n", get.Out);
        Assert.Equal(string.Empty, get.Err);
    }

    [Fact]
    public async Task Share_Stdin_ReadsTsvFromDash()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync(SeedTsv, "share", "m", "-");
        Assert.True(share.ExitCode == 0, share.ToString());
        Assert.Equal("32是\n", (await dir.RunAsync("get", "m", "红")).Out);
    }

    [Fact]
    public async Task Share_TsvEscapes_DecodeTabsNewlinesBackslashes()
    {
        using var dir = new TestDirectory();
        string input = "a\\tb\tline1\\nline2\nback\\\\slash\tcr\\r\r\n\nplain\t\n";
        CliResult share = await dir.RunWithInputAsync(input, "share", "m", "-");
        Assert.True(share.ExitCode == 0, share.ToString());

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(3, map.Count);
        Assert.Equal("line1\nline2", map.Get("a\tb"));
        Assert.Equal("cr\r", map.Get("back\\slash"));
        Assert.Equal(string.Empty, map.Get("plain"));
    }

    /// <summary>Malformed input of every format: the format, the input, the line the error names, and words of the reason.</summary>
    public static TheoryData<string, string, int, string> MalformedInputs => new()
    {
        { "tsv", "a\t1\nb\t2\nno tab here\nd\t4\n", 3, "no tab" },
        { "tsv", "a\t1\nb\t2\t3\n", 2, "more than one tab" },
        { "tsv", "a\t1\nb\\x\t2\n", 2, @"unknown escape '\x'" },
        { "tsv", "a\t1\nb\t2\\\n", 2, "lone backslash" },
        { "tsv", "a\t1\nb\t2\na\t3\n", 3, "duplicate key 'a'" },
        { "csv", "a,1\nb,2,3\n", 2, "more than 2 fields" },
        { "csv", "a,1\nonly one field\n", 2, "1 field" },
        { "csv", "a,1\nb\"c,2\n", 2, "a quote inside an unquoted field" },
        { "csv", "a,1\n\"b\"x,2\n", 2, "after the closing quote" },
        { "csv", "a,1\nb,\"never\nclosed\n", 2, "not closed" },
        { "csv", "a,1\n\"multi\nline\",\"v\"\nc,\"x\"y\n", 4, "after the closing quote" },
        { "jsonl", "[\"a\",\"1\"]\n{\"key\":\"b\"}\n", 2, "missing property \"value\"" },
        { "jsonl", "[\"a\",\"1\"]\n[\"b\",2]\n", 2, "must be a string, found a number" },
        { "jsonl", "[\"a\",\"1\"]\n[\"b\",\"2\",\"3\"]\n", 2, "more than two elements" },
        { "jsonl", "[\"a\",\"1\"]\n{\"key\":\"b\",\"value\":\"2\",\"extra\":\"x\"}\n", 2, "unexpected property \"extra\"" },
        { "jsonl", "[\"a\",\"1\"]\n[\"b\",\"2\"] trailing\n", 2, "invalid JSON" },
        { "jsonl", "[\"a\",\"1\"]\n\n{\"key\": \"b\", \"value\": \"2\"\n", 3, "invalid JSON" },
        { "jsonl", "[\"a\",\"1\"]\n\"just a string\"\n", 2, "found a string" },
        { "jsonl", "[\"a\",\"1\"]\n[\"\\ud800\",\"lone surrogate\"]\n", 2, "not valid Unicode" },
        { "json", "{\n\"a\": \"1\",\n\"b\": 2\n}", 3, "values must be strings" },
        { "json", "{\n\"a\": \"1\",\n\"b\": {\"nested\": \"x\"}\n}", 3, "is an object" },
        { "json", "{\n\"a\": \"1\",\n\"b\": \"2\",\n}", 4, "trailing comma" },
        { "json", "{\n\"a\": \"1\"\n}\n{\"b\": \"2\"}", 4, "invalid JSON" },
        { "json", "[\"a\", \"1\"]", 1, "starts with an array" },
        { "json", "{\"a\": \"1\",\n\"b\": \"2\"", 2, "invalid JSON" },
    };

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public async Task Share_MalformedInput_ReportsLineAndPublishesNothing(string format, string input, int line, string reason)
    {
        using var dir = new TestDirectory();

        // From a file (its extension gives the format; the error names it) and from stdin (the error says stdin).
        string file = dir.File("bad." + format, input);
        foreach ((string source, CliResult share) in new[]
        {
            (file, await dir.RunAsync("share", "m", file)),
            ("stdin", await dir.RunWithInputAsync(input, "share", "m", "-", "--format", format)),
        })
        {
            Assert.True(share.ExitCode == 3, share.ToString());
            Assert.Contains($"{source}:{line}: ", share.Err, StringComparison.Ordinal);
            Assert.Contains(reason, share.Err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", share.Err, StringComparison.Ordinal);
            Assert.Single(share.Err.TrimEnd('\n').Split('\n'));
            Assert.False(SharedMap.Exists("m", dir.Options));
        }
    }

    [Fact]
    public async Task Share_MalformedInputWithForce_LeavesPublishedVersionIntact()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\told\n", "share", "m", "-")).ExitCode);

        foreach ((string input, string format) in new[] { ("k\tnew\nbroken\n", "tsv"), ("k,new\n\"open\n", "csv"), ("{\"k\": 1}", "json"), ("[\"k\",\"new\"]\n{\"key\":\"x\"}\n", "jsonl") })
        {
            CliResult bad = await dir.RunWithInputAsync(input, "share", "m", "-", "--force", "--format", format);
            Assert.True(bad.ExitCode == 3, format + ": " + bad);
        }

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(1, map.Version);
        Assert.Equal("old", map.Get("k"));
    }

    [Fact]
    public async Task Share_Csv_QuotedFieldsKeepCommasQuotesAndNewlines()
    {
        using var dir = new TestDirectory();
        string csv = "plain,value\r\n\"key,with,commas\",\"say \"\"hi\"\"\"\n\"multi\nline\tkey\",\"v1\r\nv2\"\n红,32是\n,empty key\nlast,\"no newline at end\"";
        CliResult share = await dir.RunAsync("share", "m", dir.File("in.csv", csv));
        Assert.True(share.ExitCode == 0, share.ToString());

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(6, map.Count);
        Assert.Equal("value", map.Get("plain"));
        Assert.Equal("say \"hi\"", map.Get("key,with,commas"));
        Assert.Equal("v1\r\nv2", map.Get("multi\nline\tkey"));
        Assert.Equal("32是", map.Get("红"));
        Assert.Equal("empty key", map.Get(string.Empty));
        Assert.Equal("no newline at end", map.Get("last"));
    }

    [Fact]
    public async Task Share_Jsonl_ReadsObjectsAndArrays()
    {
        using var dir = new TestDirectory();
        string jsonl = "{\"key\": \"a\\tb\", \"value\": \"line1\\nline2\"}\n[\"红\", \"32是\"]\n\n{\"value\": \"v\", \"key\": \"\\u00e9\"}\r\n[\"emoji\", \"\\ud83d\\ude00\"]";
        CliResult share = await dir.RunAsync("share", "m", dir.File("in.jsonl", jsonl));
        Assert.True(share.ExitCode == 0, share.ToString());

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(4, map.Count);
        Assert.Equal("line1\nline2", map.Get("a\tb"));
        Assert.Equal("32是", map.Get("红"));
        Assert.Equal("v", map.Get("é"));
        Assert.Equal("😀", map.Get("emoji"));
    }

    [Fact]
    public async Task Share_JsonObject_ReadsKeysWithTabsNewlinesAndUnicode()
    {
        using var dir = new TestDirectory();
        string json = "\uFEFF{\n  \"aaa\": \"323\",\n  \"tab\\there\": \"new\\nline\",\n  \"红\": \"32是\",\n  \"quote\\\"d\": \"back\\\\slash\"\n}\n";
        CliResult share = await dir.RunAsync("share", "m", dir.File("in.json", json));
        Assert.True(share.ExitCode == 0, share.ToString());

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(4, map.Count);
        Assert.Equal("new\nline", map.Get("tab\there"));
        Assert.Equal("32是", map.Get("红"));
        Assert.Equal("back\\slash", map.Get("quote\"d"));
    }

    [Fact]
    public async Task Share_LargeJson_StreamsAcrossBuffersAndCountsLines()
    {
        using var dir = new TestDirectory();
        var json = new StringBuilder("{\n");
        for (int i = 0; i < 30_000; i++)
        {
            json.Append("  \"key").Append(i).Append("\": \"").Append(new string('v', i % 50)).Append("值\",\n");
        }

        string good = json.ToString() + "  \"last\": \"x\"\n}\n";
        CliResult share = await dir.RunWithInputAsync(good, "share", "m", "-", "--format", "json");
        Assert.True(share.ExitCode == 0, share.ToString());
        using (SharedMap map = SharedMap.Open("m", dir.Options))
        {
            Assert.Equal(30_001, map.Count);
            Assert.Equal(new string('v', 29_999 % 50) + "值", map.Get("key29999"));
        }

        // A bad value on line 30,002, far past the first buffer.
        string bad = json.ToString() + "  \"last\": 7\n}\n";
        CliResult failed = await dir.RunWithInputAsync(bad, "share", "m2", "-", "--format", "json");
        Assert.Equal(3, failed.ExitCode);
        Assert.Contains("stdin:30002: ", failed.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tsv", "")]
    [InlineData("tsv", "\n\n")]
    [InlineData("csv", "")]
    [InlineData("jsonl", "\n")]
    [InlineData("json", "{}")]
    public async Task Share_EmptyInput_FailsUnlessAllowed(string format, string input)
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync(input, "share", "m", "-", "--format", format);
        Assert.Equal(3, share.ExitCode);
        Assert.Contains("no entries", share.Err, StringComparison.Ordinal);
        Assert.False(SharedMap.Exists("m", dir.Options));

        CliResult allowed = await dir.RunWithInputAsync(input, "share", "m", "-", "--format", format, "--allow-empty");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Empty(map);
    }

    [Fact]
    public async Task Share_EmptyJsonFile_IsBadInput()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunAsync("share", "m", dir.File("empty.json", string.Empty));
        Assert.Equal(3, share.ExitCode);
        Assert.Contains("the input is empty", share.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Share_ExistingNameWithoutForce_Exit4AndUnchanged()
    {
        using var dir = new TestDirectory();
        Assert.Equal(0, (await dir.RunWithInputAsync("k\tv1\n", "share", "m", "-")).ExitCode);

        CliResult again = await dir.RunWithInputAsync("k\tv2\n", "share", "m", "-");
        Assert.Equal(4, again.ExitCode);
        Assert.Contains("already exists", again.Err, StringComparison.Ordinal);
        Assert.Contains("--force", again.Err, StringComparison.Ordinal);
        Assert.Equal("v1\n", (await dir.RunAsync("get", "m", "k")).Out);

        CliResult forced = await dir.RunWithInputAsync("k\tv2\n", "share", "m", "-", "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Contains("version 2", forced.Out, StringComparison.Ordinal);
        Assert.Equal("v2\n", (await dir.RunAsync("get", "m", "k")).Out);
    }

    [Fact]
    public async Task Share_LastWins_KeepsTheLastDuplicate()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync("a\t1\nb\t2\na\t3\n", "share", "m", "-", "--last-wins");
        Assert.True(share.ExitCode == 0, share.ToString());
        Assert.Contains("1 duplicate keys (last won)", share.Out, StringComparison.Ordinal);
        Assert.Equal("3\n", (await dir.RunAsync("get", "m", "a")).Out);
    }

    [Fact]
    public async Task Share_InvalidUtf8_IsBadInput()
    {
        using var dir = new TestDirectory();
        string file = Path.Combine(dir.Files, "latin1.tsv");
        File.WriteAllBytes(file, [(byte)'o', (byte)'k', (byte)'\t', (byte)'1', (byte)'\n', (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\t', (byte)'2', (byte)'\n']);
        CliResult share = await dir.RunAsync("share", "m", file);
        Assert.Equal(3, share.ExitCode);
        Assert.Contains($"{file}:2: the key is not valid UTF-8", share.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Share_FormatFromExtensionOrOption()
    {
        using var dir = new TestDirectory();
        string unknown = dir.File("data.txt2", "a,1\n");
        CliResult noFormat = await dir.RunAsync("share", "m", unknown);
        Assert.Equal(2, noFormat.ExitCode);
        Assert.Contains("--format", noFormat.Err, StringComparison.Ordinal);

        CliResult withFormat = await dir.RunAsync("share", "m", unknown, "--format", "csv");
        Assert.True(withFormat.ExitCode == 0, withFormat.ToString());
        Assert.Equal("1\n", (await dir.RunAsync("get", "m", "a")).Out);

        CliResult badFormat = await dir.RunAsync("share", "m", unknown, "--format", "xml");
        Assert.Equal(2, badFormat.ExitCode);
    }

    [Fact]
    public async Task Share_GzipInput_IsDecompressed()
    {
        using var dir = new TestDirectory();
        string file = Path.Combine(dir.Files, "in.tsv.gz");
        using (var gzip = new System.IO.Compression.GZipStream(File.Create(file), System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(SeedTsv));
        }

        CliResult share = await dir.RunAsync("share", "m", file);
        Assert.True(share.ExitCode == 0, share.ToString());
        Assert.Equal("32是\n", (await dir.RunAsync("get", "m", "红")).Out);
    }

    [Fact]
    public async Task Share_MissingFile_Exit1()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunAsync("share", "m", Path.Combine(dir.Files, "nope.tsv"));
        Assert.Equal(1, share.ExitCode);
        Assert.Contains("no such file", share.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    public async Task Share_BadName_IsUsageError(string name)
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync("a\t1\n", "share", name, "-");
        Assert.Equal(2, share.ExitCode);
        Assert.StartsWith("shmap: ", share.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", share.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Share_Json_PrintsMachineReadableSummary()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunWithInputAsync(SeedTsv, "share", "m", "-", "--json");
        Assert.True(share.ExitCode == 0, share.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(share.Out);
        Assert.Equal("m", json.RootElement.GetProperty("name").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(4, json.RootElement.GetProperty("entries").GetInt32());
    }

    [Fact]
    public async Task Share_DirectoryAsInput_IsUsageError()
    {
        using var dir = new TestDirectory();
        CliResult share = await dir.RunAsync("share", "m", dir.Files, "--format", "tsv");
        Assert.Equal(2, share.ExitCode);
        Assert.Contains("is a directory", share.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Share_DirectoryThatCannotBeCreated_IsIOErrorNamingIt()
    {
        CliResult share = await CliRunner.RunAsync(["share", "m", "-", "--dir", "/proc/shmap-cli-test-cannot-exist"], "a\t1\n");
        Assert.Equal(5, share.ExitCode);
        Assert.Contains("could not publish 'm' in /proc/shmap-cli-test-cannot-exist", share.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tsv")]
    [InlineData("csv")]
    [InlineData("jsonl")]
    [InlineData("json")]
    public async Task Share_ValueLongerThanTheReadBuffer_IsReadWhole(string format)
    {
        using var dir = new TestDirectory();
        string big = string.Concat(Enumerable.Repeat("0123456789abcdef红", 20_000)); // 380,000 UTF-8 bytes
        string input = format switch
        {
            "tsv" => $"a\t1\nbig\t{big}\nz\t2\n",
            "csv" => $"a,1\nbig,\"{big}\"\nz,2\n",
            "jsonl" => $"[\"a\",\"1\"]\n[\"big\",\"{big}\"]\n[\"z\",\"2\"]\n",
            _ => $"{{\"a\":\"1\",\"big\":\"{big}\",\"z\":\"2\"}}",
        };
        CliResult share = await dir.RunWithInputAsync(input, "share", "m", "-", "--format", format);
        Assert.True(share.ExitCode == 0, share.ToString());

        using SharedMap map = SharedMap.Open("m", dir.Options);
        Assert.Equal(3, map.Count);
        Assert.Equal(big, map.Get("big"));
        Assert.Equal("2", map.Get("z"));
    }
}
