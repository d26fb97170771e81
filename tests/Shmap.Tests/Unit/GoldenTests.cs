namespace Shmap.Tests.Unit;

/// <summary>
/// The builder must reproduce a checked-in snapshot byte for byte, so that any change to the format
/// is deliberate. To regenerate Golden/seed.shmap after an intended format change, run
/// <c>SHMAP_UPDATE_GOLDEN=1 dotnet test --filter GoldenTests</c> (the rewriting test then fails, so an
/// update run never reports a pass), rerun without the variable and commit the file (see Golden/README.md).
/// </summary>
public class GoldenTests
{
    private const string UpdateVariable = "SHMAP_UPDATE_GOLDEN";

    /// <summary>The seed example plus an empty key, NUL, a 2-byte length, and characters whose UTF-8 and UTF-16 orders differ.</summary>
    internal static SortedDictionary<string, string> Entries()
    {
        SortedDictionary<string, string> model = TestMaps.Seed();
        model[string.Empty] = "empty key";
        model["a\0b"] = "nul inside";
        model["empty value"] = string.Empty;
        model["long"] = new string('L', 200);
        model["\uFFFD"] = "replacement char";
        model["😀"] = "emoji 😀";
        return model;
    }

    [Fact]
    public void Dump_SeedEntries_MatchesGoldenFile()
    {
        byte[] dump = TestMaps.Build(Entries()).Dump();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            string source = Path.Combine(FindRepositoryRoot(), "tests", "Shmap.Tests", "Golden", "seed.shmap");
            File.WriteAllBytes(source, dump);

            // Never a pass: an update run compares nothing. The next run without the variable checks the new file.
            Assert.Fail($"Golden file rewritten ({source}, {dump.Length} bytes): rerun without {UpdateVariable} to check it, then commit it.");
        }

        byte[] golden = File.ReadAllBytes(GoldenPath);
        Assert.True(
            golden.AsSpan().SequenceEqual(dump),
            $"Dump() differs from Golden/seed.shmap ({dump.Length} vs {golden.Length} bytes, first difference at byte {FirstDifference(golden, dump)}). " +
            $"If the format change is intended, regenerate with {UpdateVariable}=1 dotnet test --filter GoldenTests and commit the file.");
    }

    [Fact]
    public void Load_GoldenFile_ReadsSeedEntries()
    {
        byte[] golden = File.ReadAllBytes(GoldenPath);
        using SharedMap map = SharedMap.Load(golden);
        Assert.Equal(0, map.Version);
        Assert.Null(map.PublishedAt);
        Assert.Equal(golden.Length, map.ByteLength);
        Assert.Equal("323", map.Get("aaa"));
        Assert.Equal("1233", map.Get("zb"));
        Assert.Equal("32z", map.Get("tes"));
        Assert.Equal("32是", map.Get("红"));
        Assert.Equal("empty key", map.Get(string.Empty));
        Assert.Equal(["", "a\0b", "aaa", "empty value", "long", "tes", "zb", "红", "\uFFFD", "😀"], map.Keys);
        MapAssert.Matches(Entries(), map, ["nope", "aa", "红红"]);
    }

    [Fact]
    public void OpenFile_GoldenFile_ReadsSeedEntries()
    {
        using SharedMap map = SharedMap.OpenFile(GoldenPath);
        MapAssert.Matches(Entries(), map);
    }

    private static string GoldenPath => Path.Combine(AppContext.BaseDirectory, "Golden", "seed.shmap");

    private static int FirstDifference(byte[] a, byte[] b)
    {
        int common = a.AsSpan().CommonPrefixLength(b);
        return common;
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shmap.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Shmap.slnx above {AppContext.BaseDirectory}: run the tests from a checkout to regenerate the golden file.");
    }
}
