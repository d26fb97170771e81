using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shmap.Tests.CrossLanguage;

/// <summary>
/// C# and Python (python/shmap) processes sharing maps through the same files: each reads,
/// verifies and follows what the other publishes, both publish byte-identical snapshots for the
/// same entries, they can race on one name, and both reject corrupt files naming the same field.
/// </summary>
public class CrossLanguageTests(ITestOutputHelper output)
{
    /// <summary>A map with the awkward cases: empty key and value, NUL and control characters, non-ASCII, astral characters, long values.</summary>
    private static SortedDictionary<string, string> MakeEntries(int count, string tag, int seed = 1234)
    {
        var random = new Random(seed);
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        string[] stems = ["key-", "键-", "😀-", "a\0b-", "\t\n-", "\uFFFF-", "\U00010000-", "é-"];
        for (int i = 0; i < count; i++)
        {
            string n = i.ToString(CultureInfo.InvariantCulture);
            int length = random.Next(0, 3) switch { 0 => 0, 1 => random.Next(1, 40), _ => random.Next(100, 300) };
            model[stems[i % stems.Length] + n] = $"{tag}:{n}:" + new string((char)('a' + (i % 26)), length);
        }

        if (count > 0)
        {
            model[string.Empty] = tag + " empty key";
            model["empty value"] = string.Empty;
            model["long"] = new string('L', 20_000);
        }

        return model;
    }

    private static string Json(IDictionary<string, string> entries) => JsonSerializer.Serialize(entries);

    [Fact]
    public void PythonUnitTests_RunByDotnetTest_Pass()
    {
        (int code, string stdout, string stderr) = Python.Run(["-m", "unittest", "discover", "-s", Path.Combine(Python.PackageDirectory, "tests"), "-t", Path.Combine(Python.PackageDirectory, "tests")], timeout: TimeSpan.FromMinutes(5));
        output.WriteLine(stderr.Length > 4000 ? stderr[^4000..] : stderr);
        Assert.True(code == 0, $"python -m unittest failed (exit {code}).\nstdout: {stdout}\nstderr: {stderr}");
        Assert.Contains("OK", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void XxHash3Vectors_SystemIoHashing_MatchesPythonVectors()
    {
        int checkedLines = 0;
        foreach (string line in File.ReadLines(Path.Combine(Python.PackageDirectory, "tests", "data", "xxh3_vectors.txt")))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            string[] parts = line.Split(' ');
            int length = int.Parse(parts[0], CultureInfo.InvariantCulture);
            ulong seed = ulong.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong expected = ulong.Parse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            byte[] data = new byte[length];
            for (int i = 0; i < length; i++)
            {
                data[i] = (byte)(((i * 131) + 7) ^ (i >> 8));
            }

            Assert.True(expected == XxHash3.HashToUInt64(data, unchecked((long)seed)), $"XXH3 of {length} bytes with seed 0x{seed:x16}");
            checkedLines++;
        }

        Assert.True(checkedLines > 1300, $"only {checkedLines} vectors");
    }

    [Fact]
    public void NameRules_EveryBmpCharacter_SameVerdictInBothLanguages()
    {
        using var dir = new PrivateDirectory();
        var refused = new List<int>();
        for (int c = 0; c < 0x10000; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            try
            {
                _ = SharedMap.Exists("a" + (char)c + "b", dir.Options);
            }
            catch (ArgumentException)
            {
                refused.Add(c);
            }
        }

        int[] python = JsonSerializer.Deserialize<int[]>(Python.Drive(dir.Path, null, "names"))!;
        Assert.Equal(refused, python);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3000)]
    public void CSharpPublish_PythonReader_ReadsEveryKeyScansAndVerifies(int count)
    {
        using var dir = new PrivateDirectory();
        SortedDictionary<string, string> model = MakeEntries(count, "cs");
        long version = TestMaps.Build(model).Publish("from-cs", dir.Options);
        string reply = Python.Drive(dir.Path, Json(model), "check", "from-cs", dir.Path);
        Assert.Equal($"ok {model.Count} {version}", reply);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3000)]
    public void PythonPublish_CSharpReader_VerifiesAndBytesEqualCSharpDump(int count)
    {
        using var dir = new PrivateDirectory();
        SortedDictionary<string, string> model = MakeEntries(count, "py");
        string dumpPath = Path.Combine(dir.Path, "python-dump.bin");
        string reply = Python.Drive(dir.Path, Json(model), "publish", "from-py", dir.Path, dumpPath);
        Assert.Equal("1", reply);

        using SharedMap map = SharedMap.Open("from-py", dir.Options);
        map.Verify();
        Assert.Equal(1, map.Version);
        Assert.Equal(model.ToList(), map.ToList());
        foreach ((string key, string value) in model)
        {
            Assert.Equal(value, map.Get(key));
        }

        byte[] csharpDump = TestMaps.Build(model).Dump();
        byte[] pythonDump = File.ReadAllBytes(dumpPath);
        Assert.True(csharpDump.AsSpan().SequenceEqual(pythonDump), $"Python's dump differs from the C# builder's ({pythonDump.Length} vs {csharpDump.Length} bytes, first difference at {csharpDump.AsSpan().CommonPrefixLength(pythonDump)})");

        // The published file is the dump with the publication stamp (version, time, header checksum).
        byte[] published = File.ReadAllBytes(Path.Combine(dir.Path, "from-py.shmap"));
        Assert.True(published.AsSpan(128).SequenceEqual(csharpDump.AsSpan(128)), "published body differs from the C# dump");
        Assert.True(published.AsSpan(0, 96).SequenceEqual(csharpDump.AsSpan(0, 96)), "published header differs from the C# dump before the stamp");
        using SharedMap loaded = SharedMap.Load(pythonDump);
        loaded.Verify();
    }

    [Theory]
    [InlineData("1")]
    [InlineData("18446744073709551615")]
    public void PythonSeededSnapshot_CSharpReader_HashesWithTheHeaderSeed(string seed)
    {
        using var dir = new PrivateDirectory();
        SortedDictionary<string, string> model = MakeEntries(500, "seeded");
        for (int n = 0; n <= 300; n += 7)
        {
            model[new string('s', n) + "|"] = n.ToString(CultureInfo.InvariantCulture);
        }

        string path = Path.Combine(dir.Path, "seeded.shmap");
        Assert.Equal("ok", Python.Drive(dir.Path, Json(model), "seeded", path, seed));
        using SharedMap map = SharedMap.OpenFile(path);
        map.Verify();
        foreach ((string key, string value) in model)
        {
            Assert.Equal(value, map.Get(key));
            Assert.True(map.TryGetValue(Encoding.UTF8.GetBytes(key), out ReadOnlySpan<byte> bytes) && bytes.SequenceEqual(Encoding.UTF8.GetBytes(value)));
        }

        Assert.Null(map.Get("absent"));
    }

    [Fact]
    public async Task PythonPublish_CSharpFollower_SeesNewVersion()
    {
        using var dir = new PrivateDirectory();
        SortedDictionary<string, string> first = MakeEntries(50, "v1");
        TestMaps.Build(first).Publish("live", dir.Options);
        using LiveSharedMap follower = SharedMap.Follow("live", dir.Options);
        Assert.Equal(1, follower.Version);

        SortedDictionary<string, string> second = MakeEntries(60, "v2");
        Assert.Equal("2", Python.Drive(dir.Path, Json(second), "publish", "live", dir.Path, Path.Combine(dir.Path, "d2.bin")));
        Assert.Equal(2, follower.Version);
        Assert.Equal(second["key-0"], follower.Get("key-0"));
        Assert.Equal(second.Count, follower.Count);

        // A waiter is woken by a Python publish.
        Task<long> waiting = follower.WaitForNewVersionAsync();
        Assert.Equal("3", Python.Drive(dir.Path, Json(first), "publish", "live", dir.Path, Path.Combine(dir.Path, "d3.bin")));
        Task done = await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(done == waiting, "WaitForNewVersionAsync did not complete after a Python publish");
        Assert.Equal(3, await waiting);
        Assert.Equal(first["key-0"], follower.Get("key-0"));
    }

    [Fact]
    public void CSharpPublish_PythonFollower_SeesNewVersion()
    {
        using var dir = new PrivateDirectory();
        TestMaps.Build(MakeEntries(50, "v1")).Publish("live", dir.Options);
        SortedDictionary<string, string> second = MakeEntries(70, "v2");

        using Process python = Python.Start([Python.Driver, "follow", "live", dir.Path, "2", "30", "键-1"], dir.Path);
        try
        {
            Assert.Equal("ready 1", ReadLine(python));
            TestMaps.Build(second).Publish("live", dir.Options);
            string reply = ReadLine(python);
            Assert.Equal(JsonSerializer.Serialize(new object[] { 2, second["键-1"] }).Replace(",", ", ", StringComparison.Ordinal), reply);
            Assert.True(python.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, python.ExitCode);
        }
        finally
        {
            if (!python.HasExited)
            {
                python.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task CSharpAndPythonPublishers_Racing_GiveDistinctIncreasingCompleteVersions()
    {
        const int PerSide = 25;
        using var dir = new PrivateDirectory();
        using var stop = new CancellationTokenSource();

        // A reader opening the name throughout: every version it sees is complete and consistent.
        int opened = 0;
        Task reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (!SharedMap.Exists("race", dir.Options))
                {
                    continue;
                }

                using SharedMap map = SharedMap.Open("race", dir.Options);
                Assert.Equal(3, map.Count);
                Assert.Equal($"{map["writer"]}:{map["i"]}", map["check"]);
                opened++;
            }
        });

        Task<string> python = Task.Run(() => Python.Drive(dir.Path, null, "race", "race", dir.Path, PerSide.ToString(CultureInfo.InvariantCulture)));
        var csharp = new List<long>();
        for (int i = 0; i < PerSide; i++)
        {
            var builder = new SharedMapBuilder();
            builder.Set("writer", "csharp");
            builder.Set("i", i.ToString(CultureInfo.InvariantCulture));
            builder.Set("check", $"csharp:{i}");
            csharp.Add(builder.Publish("race", dir.Options));
        }

        long[] fromPython = JsonSerializer.Deserialize<long[]>(await python)!;
        await stop.CancelAsync();
        await reader;
        output.WriteLine($"C#: {string.Join(' ', csharp)}\nPython: {string.Join(' ', fromPython)}\nreader opened {opened} versions");

        Assert.Equal(csharp.Order(), csharp);
        Assert.Equal(fromPython.Order(), fromPython);
        Assert.Equal(PerSide * 2, csharp.Concat(fromPython).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, PerSide * 2).Select(v => (long)v), csharp.Concat(fromPython).Order());
        using SharedMap last = SharedMap.Open("race", dir.Options);
        last.Verify();
        Assert.Equal(PerSide * 2, last.Version);
    }

    [Fact]
    public void CorruptSnapshots_BothLanguages_RejectNamingTheSameField()
    {
        using var dir = new PrivateDirectory();
        byte[] good = TestMaps.Build(MakeEntries(40, "c")).Dump();
        var cases = new List<(string Label, byte[] Bytes)>
        {
            ("good", good),
            ("empty", []),
            ("1 byte", good[..1]),
            ("127 bytes", good[..127]),
            ("header only", good[..128]),
            ("one byte short", good[..^1]),
            ("one byte long", [.. good, 0]),
            ("magic", Patched(good, b => b[1] ^= 1, fixChecksum: false)),
            ("format version 2", Patched(good, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), 2), fixChecksum: false)),
            ("header checksum", Patched(good, b => b[121] ^= 1, fixChecksum: false)),
            ("count changed, checksum stale", Patched(good, b => b[24] ^= 1, fixChecksum: false)),
            ("flags", Patched(good, b => b[12] = 1)),
            ("reserved", Patched(good, b => b[42] = 1)),
            ("header size", Patched(good, b => b[10] = 64)),
            ("count", Patched(good, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(24), 1UL << 31))),
            ("offset bits", Patched(good, b => b[40] = 40)),
            ("index width", Patched(good, b => b[41] = 8)),
            ("slot count", Patched(good, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), 1UL << 60))),
            ("home slots", Patched(good, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), 0))),
            ("max probe", Patched(good, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(44), uint.MaxValue))),
            ("publish version", Patched(good, b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(96), 1UL << 63))),
            ("published at", Patched(good, b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(104), long.MaxValue))),
            ("body byte", Patched(good, b => b[^3] ^= 0x20, fixChecksum: false)),
            ("slot byte", Patched(good, b => b[130] ^= 0x40, fixChecksum: false)),
        };

        var paths = new List<string>();
        var expected = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            string path = Path.Combine(dir.Path, $"case{i}.shmap");
            File.WriteAllBytes(path, cases[i].Bytes);
            paths.Add(path);
            expected.Add(CSharpOutcome(path));
        }

        string[] python = JsonSerializer.Deserialize<string[]>(Python.Drive(dir.Path, null, ["outcomes", .. paths]))!;
        for (int i = 0; i < cases.Count; i++)
        {
            output.WriteLine($"{cases[i].Label}: C# {expected[i]}, Python {python[i]}");
        }

        Assert.Equal("ok", expected[0]);
        Assert.All(expected.Skip(1), outcome => Assert.NotEqual("ok", outcome));
        Assert.Equal(expected, python);
    }

    private static string CSharpOutcome(string path)
    {
        try
        {
            using SharedMap map = SharedMap.OpenFile(path);
            map.Verify();
            _ = map.ToList();
            return "ok";
        }
        catch (SnapshotVersionException)
        {
            return "version";
        }
        catch (SnapshotFormatException e)
        {
            return e.Field;
        }
    }

    private static byte[] Patched(byte[] good, Action<byte[]> change, bool fixChecksum = true)
    {
        byte[] bytes = (byte[])good.Clone();
        change(bytes);
        if (fixChecksum)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(120), XxHash3.HashToUInt64(bytes.AsSpan(0, 120)));
        }

        return bytes;
    }

    private static string ReadLine(Process process)
    {
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python did not answer; stderr: {process.StandardError.ReadToEnd()}");
        }

        return line.Result ?? throw new InvalidOperationException($"python exited early; stderr: {process.StandardError.ReadToEnd()}");
    }
}
