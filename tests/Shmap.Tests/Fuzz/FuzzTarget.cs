using System.Runtime.CompilerServices;
using Shmap.Tests.Corruption;

// The AFL++ target (fuzz/Shmap.Fuzz) runs the same sweep as the tests.
[assembly: InternalsVisibleTo("Shmap.Fuzz")]

namespace Shmap.Tests.Fuzz;

/// <summary>
/// What the coverage-guided fuzzer and the corpus replay do with one input: load it and call every
/// reading API through <see cref="ApiSweep.Run"/>, which lets only the snapshot format exceptions
/// through and throws anything else (any other exception, or a map that passes Verify() but reads
/// inconsistently) as a failure: a crash for AFL++, a failed test here. The input is swept as it
/// is and again with both checksums recomputed (<see cref="ApiSweep.Reseal"/>): a fuzzer cannot
/// forge an XXH3 checksum, so without the second sweep nearly every header change stops at
/// header_checksum and every body change at Verify()'s body_checksum, and the header checks and
/// Verify()'s structural checks would never be explored.
/// </summary>
internal static class FuzzTarget
{
    /// <summary>Keys probed on every input: the seeds' keys (so lookups reach records) and misses.</summary>
    public static readonly string[] Probes =
    [
        .. SnapshotCorruptionTests.Keys,
        "k", "a", "ab", "abc", "b", "z", "红红", "é", "\U0010FFFF", "a\u0000b", "key0000", "key0150", "key0299",
        "h0", "t0", new string('k', 127), new string('K', 128), "short",
    ];

    /// <summary>Sweeps the input, and its resealed copy when resealing changes it.</summary>
    public static (SweepResult Raw, SweepResult? Resealed) Run(byte[] input, string context)
    {
        SweepResult raw = ApiSweep.Run(() => SharedMap.Load(input), Probes, context);
        byte[] resealed = ApiSweep.Reseal((byte[])input.Clone(), body: true);
        if (resealed.AsSpan().SequenceEqual(input))
        {
            return (raw, null);
        }

        return (raw, ApiSweep.Run(() => SharedMap.Load(resealed), Probes, context + ", resealed"));
    }
}
