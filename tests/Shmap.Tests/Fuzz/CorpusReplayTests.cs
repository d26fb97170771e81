using Shmap.Tests.Corruption;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// Every file of the committed corpus (<c>fuzz/corpus/</c>: the builder's seeds and inputs the
/// AFL++ campaigns found interesting) through the fuzz target's sweep, so a regression on any of
/// them fails here, not only under the fuzzer.
/// </summary>
public class CorpusReplayTests
{
    public static TheoryData<string> CorpusFiles => [.. Directory.EnumerateFiles(CorpusDirectory()).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void Replay_CorpusFile_EveryCallReturnsDataOrFormatError(string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(CorpusDirectory(), file));
        SweepResult result = default;
        ApiSweep.Bounded(TimeSpan.FromSeconds(30), () => result = FuzzTarget.Run(input, file).Raw);
        if (file.StartsWith("seed-", StringComparison.Ordinal))
        {
            Assert.False(result.RejectedAtOpen, $"{file}: a builder seed was rejected: {result.OpenError?.Message}");
            Assert.False(result.VerifyThrew, $"{file}: a builder seed failed Verify()");
        }
    }

    [Fact]
    public void Corpus_HasEveryBuilderSeedAndStaysSmall()
    {
        string directory = CorpusDirectory();
        foreach ((string name, _) in SeedCorpus.Build())
        {
            Assert.True(File.Exists(Path.Combine(directory, name + ".shmap")), $"{name}.shmap is missing: run `dotnet run --project fuzz/Shmap.Fuzz -- make-corpus fuzz/corpus`");
        }

        long total = Directory.EnumerateFiles(directory).Sum(f => new FileInfo(f).Length);
        Assert.True(total < 1 << 20, $"the corpus is {total} bytes; keep it under 1 MiB");
    }

    /// <summary>fuzz/corpus of the repository these tests were built from (found upwards from the test binaries).</summary>
    internal static string CorpusDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"fuzz/corpus not found above {AppContext.BaseDirectory}");
    }
}
