using SharpFuzz;
using Shmap.Tests.Corruption;
using Shmap.Tests.Fuzz;

// dotnet Shmap.Fuzz.dll                 the AFL++ target: one input per run from stdin (afl-fuzz ... -- dotnet Shmap.Fuzz.dll)
// dotnet Shmap.Fuzz.dll replay FILE...  runs each file through the same sweeps (as is, resealed) and prints what happened
// dotnet Shmap.Fuzz.dll make-corpus DIR writes the builder's seed snapshots (seed-*.shmap) into DIR
switch (args)
{
    case []:
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            _ = FuzzTarget.Run(copy.ToArray(), "afl input");
        });
        return 0;
    case ["replay", .. string[] files]:
        // Under fuzz/run.sh this Shmap.dll is instrumented: its probes write to AFL's coverage map,
        // which only the fuzzing loop sets up. Give them a private one so replay runs either build.
        unsafe
        {
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
        }

        int failures = 0;
        foreach (string file in files)
        {
            try
            {
                (SweepResult raw, SweepResult? resealed) = FuzzTarget.Run(File.ReadAllBytes(file), file);
                Console.WriteLine($"ok    {file}: {Outcome(raw)}{(resealed is { } r ? "; resealed: " + Outcome(r) : string.Empty)}");
            }
#pragma warning disable CA1031 // triage reports every failure and goes on
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures++;
                Console.WriteLine($"CRASH {file}");
                Console.WriteLine(e);
            }
        }

        return failures == 0 ? 0 : 1;
    case ["make-corpus", string directory]:
        Directory.CreateDirectory(directory);
        foreach ((string name, byte[] bytes) in SeedCorpus.Build())
        {
            File.WriteAllBytes(Path.Combine(directory, name + ".shmap"), bytes);
            Console.WriteLine($"{name}.shmap: {bytes.Length} bytes");
        }

        return 0;
    default:
        Console.Error.WriteLine("usage: Shmap.Fuzz [replay FILE... | make-corpus DIR]");
        return 2;
}

static string Outcome(SweepResult result) =>
    result.RejectedAtOpen ? $"rejected at open ({result.OpenError!.Message})"
    : result.VerifyThrew ? "opened, Verify() threw a format error" : "opened, Verify() passed";
