using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shmap.Tests.Fuzz;

/// <summary>
/// A short seeded mutation campaign (<see cref="Mutator"/>) in child processes
/// (<see cref="CampaignChild"/>), one per core: a child that crashes (a fault past a guard page, a
/// fatal exception), fails (a stray exception, Load and OpenFile disagreeing, Verify passing an
/// inconsistent map) or stops making progress (a hang) fails the test with the seed and mutant index,
/// and the mutant is written to a file to replay. <c>SHMAP_FUZZ_SEED</c> and <c>SHMAP_FUZZ_MUTANTS</c>
/// change the seed and the number of mutants (a longer opt-in run).
/// </summary>
public partial class MutationCampaignTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 20261202;
    private const int DefaultMutants = 50_000;
    private static readonly TimeSpan s_stall = TimeSpan.FromSeconds(20);

    [Fact]
    public void Campaign_SeededMutantsInGuardedChildren_NoCrashHangOrStrayException()
    {
        int seed = EnvInt("SHMAP_FUZZ_SEED", DefaultSeed);
        long mutants = EnvInt("SHMAP_FUZZ_MUTANTS", DefaultMutants);
        int children = Math.Clamp(Environment.ProcessorCount, 1, 4);
        long perChild = (mutants + children - 1) / children;
        string root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "shmap-fuzz-" + Guid.NewGuid().ToString("N"));
        var slices = new List<Slice>();
        var clock = Stopwatch.StartNew();
        try
        {
            for (int c = 0; c < children; c++)
            {
                long first = c * perChild;
                long count = Math.Min(perChild, mutants - first);
                string directory = Path.Combine(root, c.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                slices.Add(new Slice(seed, first, count, directory));
            }

            while (slices.Any(s => !s.Child.HasExited))
            {
                Thread.Sleep(100);
                foreach (Slice slice in slices.Where(s => !s.Child.HasExited && s.Stalled > s_stall))
                {
                    slice.Child.Kill();
                    Assert.Fail(Report(seed, slice, $"made no progress for {s_stall.TotalSeconds} s on one mutant (a hang)"));
                }
            }

            foreach (Slice slice in slices)
            {
                slice.Child.WaitForExit(TimeSpan.FromSeconds(10));
                if (slice.Child.ExitCode != 0 || slice.Done is null)
                {
                    string how = slice.Child.ExitCode > 128
                        ? $"died of signal {slice.Child.ExitCode - 128} (exit {slice.Child.ExitCode}; a fault past a guard page, or a fatal runtime error)"
                        : $"exited with {slice.Child.ExitCode}";
                    Assert.Fail(Report(seed, slice, how));
                }

                output.WriteLine($"mutants {slice.First}..{slice.First + slice.Count - 1}: {slice.Done}");
            }

            long total = 0, rejected = 0, passed = 0, mapped = 0, guarded = 0;
            foreach (Slice slice in slices)
            {
                Match m = DoneLine().Match(slice.Done!);
                Assert.True(m.Success, slice.Done);
                total += long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
                rejected += long.Parse(m.Groups["rejected"].Value, CultureInfo.InvariantCulture);
                passed += long.Parse(m.Groups["passed"].Value, CultureInfo.InvariantCulture);
                mapped += long.Parse(m.Groups["mapped"].Value, CultureInfo.InvariantCulture);
                guarded += long.Parse(m.Groups["guarded"].Value, CultureInfo.InvariantCulture);
            }

            output.WriteLine($"seed {seed}: {total} mutants in {clock.Elapsed.TotalSeconds:F1} s on {children} children; " +
                $"{rejected} rejected at open, {total - rejected} opened ({passed} passed Verify); " +
                $"{guarded} of {mapped} file mappings landed between guard pages");
            Assert.Equal(mutants, total);

            // The campaign must get deep: most mutants are resealed, so many open and reach the sweep.
            Assert.True(total - rejected > total / 5, $"only {total - rejected} of {total} mutants got past the open checks");
            Assert.True(guarded > mapped / 2, $"only {guarded} of {mapped} mappings were guarded: the hole reservation no longer works here");
        }
        finally
        {
            foreach (Slice slice in slices)
            {
                slice.Child.Dispose();
            }

            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("copy")]
    [InlineData("hole")]
    public void GuardPages_ReadPastEnd_KillsTheChild(string what)
    {
        // The campaign's guards must be armed: a read one byte past a guarded copy, or past a file
        // mapping placed in a reserved hole, faults (the child dies of a signal) instead of reading on.
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        var lines = new List<string>();
        using var child = new TestChild(["guard-selftest", what == "copy" ? what : dir.Path], line =>
        {
            lock (lines)
            {
                lines.Add(line);
            }
        });
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(60)), "the self-test child hung");
        Assert.True(child.ExitCode > 128, $"exit {child.ExitCode}: the read past the guard did not fault; output: {string.Join(" | ", lines)}");
        if (what != "copy")
        {
            Assert.Contains("landed", lines);
        }
    }

    private static string Report(int seed, Slice slice, string what)
    {
        long index = slice.Failed ?? slice.Current;
        Mutator.Mutant mutant = Mutator.Make(seed, index, CampaignChild.Bases());
        string file = Path.Combine(Path.GetTempPath(), $"shmap-fuzz-seed{seed}-mutant{index}.shmap");
        File.WriteAllBytes(file, mutant.Bytes);
        string stderr = slice.Child.Stderr;
        return $"seed {seed}, mutant {index}: the child {what}.\n" +
            $"Mutant: {mutant.Description} ({mutant.Bytes.Length} bytes), written to {file} " +
            $"(replay: dotnet fuzz/Shmap.Fuzz/bin/Debug/net10.0/Shmap.Fuzz.dll replay {file}; " +
            $"or rerun the child: dotnet Shmap.Tests.dll fuzz-child {seed} {index} 1 DIR).\n" +
            $"Child stderr:\n{(stderr.Length > 8000 ? stderr[..8000] + "..." : stderr)}";
    }

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;

    [GeneratedRegex(@"^done (?<count>\d+) rejected (?<rejected>\d+) verify-failed \d+ verify-passed (?<passed>\d+) mapped (?<mapped>\d+) guarded (?<guarded>\d+)$")]
    private static partial Regex DoneLine();

    /// <summary>One child's share of the campaign and what it has said so far.</summary>
    private sealed class Slice
    {
        private long _current = -1;
        private long _lastProgress = Stopwatch.GetTimestamp();

        public Slice(int seed, long first, long count, string directory)
        {
            First = first;
            Count = count;
            _current = first;
            Child = new TestChild(
                ["fuzz-child", seed.ToString(CultureInfo.InvariantCulture), first.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture), directory],
                OnLine);
        }

        public long First { get; }

        public long Count { get; }

        public TestChild Child { get; }

        public long Current => Interlocked.Read(ref _current);

        public long? Failed { get; private set; }

        public string? Done { get; private set; }

        public TimeSpan Stalled => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastProgress));

        private void OnLine(string line)
        {
            if (line.StartsWith("at ", StringComparison.Ordinal))
            {
                Interlocked.Exchange(ref _current, long.Parse(line.AsSpan(3), CultureInfo.InvariantCulture));
                Interlocked.Exchange(ref _lastProgress, Stopwatch.GetTimestamp());
            }
            else if (line.StartsWith("fail ", StringComparison.Ordinal))
            {
                Failed = long.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("done ", StringComparison.Ordinal))
            {
                Done = line;
            }
        }
    }
}
