using Shmap.Tests.Corruption;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// One slice of the seeded mutation campaign, in a child process. For each mutant it prints
/// <c>at INDEX</c> first (so that the parent knows which one a crash or hang belongs to), then
/// sweeps every read API over it twice:
/// <list type="bullet">
/// <item><see cref="SharedMap.Load(ReadOnlySpan{byte})"/> from bytes that end flush against a
/// PROT_NONE page. Load copies into its own native buffer, so this guard covers the copy only;</item>
/// <item><see cref="SharedMap.OpenFile"/> of the mutant written to a file in the child's private
/// directory, with the file's mapping placed between two PROT_NONE pages when the kernel puts it in
/// the reserved hole (counted). The mapping is the file's length rounded up to a page: a read up to
/// that page's end reads zeros (the kernel's tail of the last page), one past it faults on the
/// guard. Mutants padded to a page multiple have no zero tail: there the guard is flush.</item>
/// </list>
/// Both must agree (rejected at open or not; Verify passed or not). A failure prints
/// <c>fail INDEX</c> and the details on stderr, exit code 1; a fault kills the child (the parent
/// sees a signal exit); a hang is the parent's timeout.
/// </summary>
internal static class CampaignChild
{
    private const int MaxProbes = 24;

    public static int Run(int seed, long first, long count, string directory)
    {
        IReadOnlyList<byte[]> bases = Bases();
        var probes = bases.Select(SampleKeys).ToList();
        string path = Path.Combine(directory, "mutant.shmap");
        long rejected = 0, verifyFailed = 0, verifyPassed = 0, mappedOpens = 0, mappedGuarded = 0;
        for (long i = first; i < first + count; i++)
        {
            Console.Out.WriteLine($"at {i}");
            Mutator.Mutant mutant = Mutator.Make(seed, i, bases);
            string context = $"seed {seed} mutant {i} ({mutant.Description})";
            try
            {
                SweepResult loaded;
                using (GuardPages.Guarded guarded = GuardPages.Copy(mutant.Bytes))
                {
                    loaded = ApiSweep.Run(() => SharedMap.Load(guarded.Span), probes[mutant.Base], context + ", Load");
                }

                WriteFile(path, mutant.Bytes);
                SweepResult mapped;
                using (GuardPages.Hole hole = GuardPages.ReserveHole(mutant.Bytes.Length))
                {
                    mapped = ApiSweep.Run(
                        () =>
                        {
                            SharedMap map = SharedMap.OpenFile(path);
                            mappedOpens++;
                            mappedGuarded += hole.Holds(path) ? 1 : 0;
                            return map;
                        },
                        probes[mutant.Base],
                        context + ", OpenFile");
                }

                if (loaded.RejectedAtOpen != mapped.RejectedAtOpen || loaded.VerifyThrew != mapped.VerifyThrew)
                {
                    throw new InvalidOperationException(
                        $"{context}: Load and OpenFile disagree: rejected {loaded.RejectedAtOpen}/{mapped.RejectedAtOpen}, Verify threw {loaded.VerifyThrew}/{mapped.VerifyThrew}");
                }

                rejected += loaded.RejectedAtOpen ? 1 : 0;
                verifyFailed += !loaded.RejectedAtOpen && loaded.VerifyThrew ? 1 : 0;
                verifyPassed += !loaded.RejectedAtOpen && !loaded.VerifyThrew ? 1 : 0;
            }
            catch (Exception e)
            {
                Console.Out.WriteLine($"fail {i}");
                Console.Error.WriteLine(e.ToString());
                return 1;
            }
        }

        Console.Out.WriteLine($"done {count} rejected {rejected} verify-failed {verifyFailed} verify-passed {verifyPassed} mapped {mappedOpens} guarded {mappedGuarded}");
        return 0;
    }

    /// <summary>The builder's seeds, smallest first (the mutator picks small ones most often).</summary>
    public static IReadOnlyList<byte[]> Bases() => [.. SeedCorpus.Build().Select(s => s.Bytes).OrderBy(b => b.Length)];

    /// <summary>Up to <see cref="MaxProbes"/> keys of a base, spread over its key order.</summary>
    private static string[] SampleKeys(byte[] snapshot)
    {
        using SharedMap map = SharedMap.Load(snapshot);
        List<string> keys = [.. map.Keys];
        int step = Math.Max(1, keys.Count / MaxProbes);
        return [.. keys.Where((_, i) => i % step == 0).Take(MaxProbes)];
    }

    private static void WriteFile(string path, byte[] bytes)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var file = new FileStream(path, options);
        file.Write(bytes);
    }
}
