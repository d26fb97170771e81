using System.Globalization;
using Shmap.Format;

namespace Shmap.Tests.Corruption;

/// <summary>
/// Every truncation and every single-byte flip of a small snapshot: opening throws a format
/// exception or succeeds, and every call afterwards returns data or throws a format exception;
/// damage anywhere is caught by the header checks or by <see cref="SharedMap.Verify"/>.
/// </summary>
public class SnapshotCorruptionTests
{
    private static readonly byte[] s_masks = [0x01, 0x80, 0xFF];
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(60);

    internal static SortedDictionary<string, string> Entries()
    {
        SortedDictionary<string, string> model = Utf8Order.NewModel();
        for (int i = 0; i < 16; i++)
        {
            model["k" + i.ToString(CultureInfo.InvariantCulture)] = "v" + i.ToString(CultureInfo.InvariantCulture);
        }

        model[string.Empty] = "empty";
        model["红"] = "32是";
        model["😀"] = "\uFFFD";
        model["\uE000"] = string.Empty;
        model["long"] = new string('L', 300); // 2-byte LEB128 length
        model[new string('K', 140)] = "long key";
        return model;
    }

    private static readonly byte[] s_snapshot = TestMaps.Build(Entries()).Dump();

    private static readonly string[] s_keys = [.. Entries().Keys];

    /// <summary>The small snapshot every test here damages (callers must copy before changing it).</summary>
    internal static byte[] Snapshot => s_snapshot;

    internal static string[] Keys => s_keys;

    [Fact]
    public void Snapshot_UsedBelow_IsSmallValidAndProbes()
    {
        SnapshotHeader header = SnapshotHeader.Parse(Snapshot, Snapshot.Length);
        Assert.InRange(Snapshot.Length, 600, 2000);
        Assert.True(header.MaxProbe >= 1, "the sample should have a displaced entry");
        using SharedMap map = SharedMap.Load(Snapshot);
        MapAssert.Matches(Entries(), map);
    }

    [Fact]
    public void Load_EveryTruncation_RejectedAtOpen()
    {
        ApiSweep.Bounded(s_limit, () =>
        {
            for (int length = 0; length < Snapshot.Length; length++)
            {
                SweepResult result = ApiSweep.Run(() => SharedMap.Load(Snapshot.AsSpan(0, length)), Keys, $"truncated to {length} bytes");
                Assert.True(result.RejectedAtOpen, $"a snapshot truncated to {length} of {Snapshot.Length} bytes was opened");
            }
        });
    }

    [Fact]
    public void Load_EveryByteFlipped_RejectedAtOpenOrByVerify()
    {
        ApiSweep.Bounded(s_limit, () =>
        {
            var seenFields = new HashSet<string>();
            for (int position = 0; position < Snapshot.Length; position++)
            {
                foreach (byte mask in s_masks)
                {
                    byte[] damaged = (byte[])Snapshot.Clone();
                    damaged[position] ^= mask;
                    string context = $"byte {position} ^ 0x{mask:X2}";
                    SweepResult result = ApiSweep.Run(() => SharedMap.Load(damaged), Keys, context);
                    if (position < SnapshotLayout.HeaderSize)
                    {
                        Assert.True(result.RejectedAtOpen, $"{context}: a damaged header was accepted");
                        seenFields.Add(result.OpenError is SnapshotFormatException f ? f.Field : result.OpenError!.GetType().Name);
                    }
                    else
                    {
                        Assert.False(result.RejectedAtOpen, $"{context}: body damage rejected at open (open should only check the header)");
                        Assert.True(result.VerifyThrew, $"{context}: Verify() did not notice body damage");
                    }
                }
            }

            // The header flips were caught by the specific checks, not only by the header checksum.
            Assert.Contains("magic", seenFields);
            Assert.Contains("header_checksum", seenFields);
            Assert.Contains(nameof(SnapshotVersionException), seenFields);
        });
    }

    [Fact]
    public void Load_EveryBodyByteFlippedAndResealed_CallsStaySafeAndVerifyIsSound()
    {
        // A forger (or a bug) that also fixes both checksums: only the structural checks stand
        // between the damage and the caller. Whatever Verify() passes must then read consistently.
        ApiSweep.Bounded(s_limit, () =>
        {
            int verifyCaught = 0;
            int cases = 0;
            for (int position = SnapshotLayout.HeaderSize; position < Snapshot.Length; position++)
            {
                foreach (byte mask in s_masks)
                {
                    byte[] damaged = (byte[])Snapshot.Clone();
                    damaged[position] ^= mask;
                    ApiSweep.Reseal(damaged, body: true);
                    SweepResult result = ApiSweep.Run(() => SharedMap.Load(damaged), Keys, $"resealed, byte {position} ^ 0x{mask:X2}");
                    Assert.False(result.RejectedAtOpen);
                    cases++;
                    verifyCaught += result.VerifyThrew ? 1 : 0;
                }
            }

            // Most flips break structure (slots, index, lengths, order); only some value bytes stay valid text.
            Assert.True(verifyCaught > cases / 2, $"Verify() caught only {verifyCaught} of {cases} resealed flips");
        });
    }

    [Fact]
    public void OpenFile_SampledTruncationsAndFlips_SameOutcomeAsLoad()
    {
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path);
        string path = Path.Combine(dir.Path, "damaged.shmap");
        ApiSweep.Bounded(s_limit, () =>
        {
            var lengths = new SortedSet<int> { 0, 1, 7, 8, 119, 120, 127, 128, 129, Snapshot.Length - 1 };
            for (int length = 0; length < Snapshot.Length; length += 37)
            {
                lengths.Add(length);
            }

            foreach (int length in lengths)
            {
                File.WriteAllBytes(path, Snapshot.AsSpan(0, length).ToArray());
                SweepResult result = ApiSweep.Run(() => SharedMap.OpenFile(path), Keys, $"file truncated to {length} bytes");
                Assert.True(result.RejectedAtOpen, $"a file truncated to {length} bytes was opened");
            }

            for (int position = 0; position < Snapshot.Length; position += 5)
            {
                foreach (byte mask in s_masks)
                {
                    byte[] damaged = (byte[])Snapshot.Clone();
                    damaged[position] ^= mask;
                    File.WriteAllBytes(path, damaged);
                    string context = $"file byte {position} ^ 0x{mask:X2}";
                    SweepResult fromFile = ApiSweep.Run(() => SharedMap.OpenFile(path), Keys, context);
                    SweepResult fromBytes = ApiSweep.Run(() => SharedMap.Load(damaged), Keys, context);
                    Assert.Equal(fromBytes.RejectedAtOpen, fromFile.RejectedAtOpen);
                    Assert.Equal(fromBytes.VerifyThrew, fromFile.VerifyThrew);
                    Assert.True(fromFile.RejectedAtOpen || fromFile.VerifyThrew, $"{context}: damage not detected");
                }
            }
        });
    }

    [Fact]
    public void Load_RandomMultiByteDamage_CallsStaySafe()
    {
        var random = new Random(20240611);
        ApiSweep.Bounded(s_limit, () =>
        {
            for (int round = 0; round < 1500; round++)
            {
                byte[] damaged = (byte[])Snapshot.Clone();
                int changes = random.Next(2, 9);
                for (int c = 0; c < changes; c++)
                {
                    damaged[random.Next(SnapshotLayout.HeaderSize, damaged.Length)] = (byte)random.Next(256);
                }

                ApiSweep.Reseal(damaged, body: round % 2 == 0);
                SweepResult result = ApiSweep.Run(() => SharedMap.Load(damaged), Keys, $"random damage round {round}");
                if (round % 2 == 1)
                {
                    Assert.True(result.VerifyThrew, $"round {round}: Verify() missed body damage under the old checksum");
                }
            }
        });
    }
}
