using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Shmap.Tests.Fuzz;
using Xunit.Abstractions;

namespace Shmap.Tests.Scale;

/// <summary>
/// Opt-in (<c>SHMAP_SCALE_TEST=1</c>; otherwise reported skipped): a snapshot over 4 GiB, so record
/// offsets take more than 32 bits and index entries 8 bytes. A child process builds and publishes
/// it (<see cref="ScaleBuildChild"/>, whose VmHWM is the builder's own peak), then this process
/// opens it, looks up sampled keys and misses, reads ranks and a range, and verifies it, printing
/// each step's time. Needs about 12 GiB of RAM (builder plus the tmpfs file) and a few minutes;
/// <c>SHMAP_SCALE_BYTES</c> sets the size of the keys and values (default 4.6 GB).
/// Figures are recorded in bench/results/scale.md.
/// </summary>
public class LargeSnapshotTests(ITestOutputHelper output)
{
    private const long DefaultDataBytes = 4_600_000_000;

    [ScaleFact]
    public void Publish_SnapshotOver4GiB_OpensQueriesAndVerifies()
    {
        long dataBytes = long.TryParse(Environment.GetEnvironmentVariable("SHMAP_SCALE_BYTES"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long b) ? b : DefaultDataBytes;
        using var dir = new TestDirectory();
        Directory.CreateDirectory(dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string? result = null;
        using (var child = new TestChild(["scale-build", dir.Path, "large", dataBytes.ToString(CultureInfo.InvariantCulture)], line =>
        {
            if (line.StartsWith("result ", StringComparison.Ordinal))
            {
                result = line;
            }
        }))
        {
            Assert.True(child.WaitForExit(TimeSpan.FromMinutes(30)), "the builder did not finish within 30 minutes");
            Assert.True(child.ExitCode == 0 && result is not null, $"the builder failed (exit {child.ExitCode}): {child.Stderr}");
        }

        Dictionary<string, long> built = result!.Split(' ').Skip(1).Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
        int entries = (int)built["entries"];
        long fileBytes = built["file_bytes"];
        output.WriteLine($"build: {result}");
        output.WriteLine($"  {entries:N0} entries, {built["key_value_bytes"]:N0} bytes of keys and values, file {fileBytes:N0} bytes ({fileBytes / (double)(1L << 30):F2} GiB)");
        output.WriteLine($"  build {built["build_ms"] / 1000.0:F1} s (fill {built["fill_ms"] / 1000.0:F1} s, publish {built["publish_ms"] / 1000.0:F1} s), builder peak RSS {built["hwm_kb"] / 1048576.0:F2} GiB " +
            $"({built["hwm_kb"] * 1024.0 / entries:F0} B per entry, {built["hwm_kb"] * 1024.0 / built["key_value_bytes"]:F2} B per byte of keys and values; " +
            $"peak anonymous {built["peak_rss_anon_kb"] / 1048576.0:F2} GiB, peak shared {built["peak_rss_shmem_kb"] / 1048576.0:F2} GiB; after filling {built["hwm_after_fill_kb"] / 1048576.0:F2} GiB)");
        Assert.True(fileBytes > 1L << 32, $"the snapshot is {fileBytes} bytes, not over 4 GiB");

        string path = Path.Combine(dir.Path, "large.shmap");
        byte[] header = new byte[128];
        using (FileStream file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        Assert.True(header[40] > 32, $"offset_bits is {header[40]}");
        Assert.Equal(8, header[41]); // index_width

        var clock = Stopwatch.StartNew();
        using SharedMap map = SharedMap.Open("large", dir.Options);
        TimeSpan open = clock.Elapsed;
        Assert.Equal(entries, map.Count);
        Assert.Equal(fileBytes, map.ByteLength);

        clock.Restart();
        var random = new Random(42);
        int[] sample = [0, 1, entries / 2, entries - 2, entries - 1, .. Enumerable.Range(0, 10_000).Select(_ => random.Next(entries))];
        foreach (int i in sample)
        {
            Assert.Equal(ScaleData.Value(i), map.Get(ScaleData.Key(i)));
        }

        TimeSpan hits = clock.Elapsed;
        clock.Restart();
        foreach (string miss in new[] { "key:", "key:9999999999", "key:000000000", "nokey", string.Empty, "key:0000000000x" })
        {
            Assert.Null(map.Get(miss));
        }

        for (int i = 0; i < 10_000; i++)
        {
            Assert.Null(map.Get("miss:" + i.ToString(CultureInfo.InvariantCulture)));
        }

        TimeSpan misses = clock.Elapsed;
        clock.Restart();
        foreach (int i in sample.Take(1000))
        {
            KeyValuePair<string, string> entry = map.GetAt(i);
            Assert.Equal(ScaleData.Key(i), entry.Key);
            Assert.Equal(i, map.IndexOf(entry.Key));
        }

        int from = entries - 1000;
        List<KeyValuePair<string, string>> range = [.. map.Range(ScaleData.Key(from), null)];
        Assert.Equal(1000, range.Count);
        Assert.Equal(ScaleData.Key(entries - 1), range[^1].Key);
        TimeSpan ranks = clock.Elapsed;

        // The last record's offset needs more than 32 bits: read it through the 8-byte index.
        long indexOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(72));
        using (FileStream file = File.OpenRead(path))
        {
            file.Position = indexOffset + ((entries - 1) * 8L);
            byte[] last = new byte[8];
            file.ReadExactly(last);
            Assert.True(BinaryPrimitives.ReadUInt64LittleEndian(last) > uint.MaxValue, "the last record should lie past 4 GiB");
        }

        clock.Restart();
        map.Verify();
        TimeSpan verify = clock.Elapsed;
        output.WriteLine($"  open {open.TotalMilliseconds:F2} ms; {sample.Length:N0} hits {hits.TotalMilliseconds:F0} ms; 10,006 misses {misses.TotalMilliseconds:F0} ms; " +
            $"1,000 GetAt+IndexOf and a 1,000-entry range {ranks.TotalMilliseconds:F0} ms; Verify {verify.TotalSeconds:F1} s");
    }
}

/// <summary>A fact that runs only when <c>SHMAP_SCALE_TEST=1</c>, and otherwise is reported skipped with that reason.</summary>
public sealed class ScaleFactAttribute : FactAttribute
{
    public ScaleFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SHMAP_SCALE_TEST") != "1")
        {
            Skip = "opt-in: set SHMAP_SCALE_TEST=1 to build, publish, open and verify a snapshot over 4 GiB (about 12 GiB of RAM, minutes)";
        }
    }
}
