using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Shmap.Tests.Scale;

/// <summary>
/// The builder side of <see cref="LargeSnapshotTests"/>, in its own process so that its peak RSS
/// (VmHWM) is the builder's alone: fills a <see cref="SharedMapBuilder"/> with
/// <see cref="ScaleData"/> entries until the data reaches the asked size, publishes it, and prints
/// <c>key=value</c> figures on one <c>result</c> line. A sampler reads /proc/self/status every 20 ms
/// for the peaks of anonymous memory (the managed heap: keys, values, tables) and of shared memory
/// (the pages of the tmpfs file the publisher has written through its mapping).
/// </summary>
internal static class ScaleBuildChild
{
    public static int Run(string directory, string name, long dataBytes)
    {
        long peakAnon = 0, peakShmem = 0;
        using var stop = new CancellationTokenSource();
        var sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Dictionary<string, long> status = Status();
                peakAnon = Math.Max(peakAnon, status.GetValueOrDefault("RssAnon"));
                peakShmem = Math.Max(peakShmem, status.GetValueOrDefault("RssShmem"));
                Thread.Sleep(20);
            }
        })
        { IsBackground = true, Name = "rss sampler" };
        sampler.Start();

        var clock = Stopwatch.StartNew();
        var builder = new SharedMapBuilder();
        long data = 0;
        Span<byte> key = stackalloc byte[ScaleData.KeyLength];
        byte[] value = new byte[ScaleData.MaxValueLength];
        int count = 0;
        while (data < dataBytes)
        {
            ScaleData.Key(count, key);
            int length = ScaleData.Value(count, value);
            builder.Set(key, value.AsSpan(0, length));
            data += key.Length + length;
            count++;
        }

        TimeSpan fill = clock.Elapsed;
        long hwmFilled = Status().GetValueOrDefault("VmHWM");
        long heapFilled = GC.GetTotalMemory(forceFullCollection: false);
        long version = builder.Publish(name, new SharedMapOptions { Directory = directory });
        TimeSpan total = clock.Elapsed;
        stop.Cancel();
        sampler.Join();
        Dictionary<string, long> end = Status();
        long fileLength = new FileInfo(Path.Combine(directory, name + ".shmap")).Length;

        var result = new StringBuilder("result");
        void Add(string k, object v) => result.Append(CultureInfo.InvariantCulture, $" {k}={v}");
        Add("entries", count);
        Add("key_value_bytes", data);
        Add("file_bytes", fileLength);
        Add("version", version);
        Add("fill_ms", (long)fill.TotalMilliseconds);
        Add("publish_ms", (long)(total - fill).TotalMilliseconds);
        Add("build_ms", (long)total.TotalMilliseconds);
        Add("hwm_after_fill_kb", hwmFilled);
        Add("heap_after_fill_bytes", heapFilled);
        Add("hwm_kb", end.GetValueOrDefault("VmHWM"));
        Add("peak_rss_anon_kb", peakAnon);
        Add("peak_rss_shmem_kb", peakShmem);
        Add("gc_count_gen2", GC.CollectionCount(2));
        Console.Out.WriteLine(result.ToString());
        GC.KeepAlive(builder);
        return 0;
    }

    /// <summary>The kB figures of /proc/self/status (VmHWM, VmRSS, RssAnon, RssFile, RssShmem, ...).</summary>
    internal static Dictionary<string, long> Status()
    {
        var figures = new Dictionary<string, long>();
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            string rest = line[(colon + 1)..].Trim();
            if (colon > 0 && rest.EndsWith(" kB", StringComparison.Ordinal) && long.TryParse(rest[..^3], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
            {
                figures[line[..colon]] = kb;
            }
        }

        return figures;
    }
}

/// <summary>The scale test's entries: computed from the entry number, so the reader can check any of them without a copy.</summary>
internal static class ScaleData
{
    public const int KeyLength = 14;
    public const int MinValueLength = 224;
    public const int MaxValueLength = MinValueLength + 63;

    /// <summary><c>key:0000000042</c>: zero-padded, so key order is entry order.</summary>
    public static void Key(int i, Span<byte> destination)
    {
        "key:"u8.CopyTo(destination);
        for (int d = KeyLength - 1, n = i; d >= 4; d--, n /= 10)
        {
            destination[d] = (byte)('0' + (n % 10));
        }
    }

    public static string Key(int i) => "key:" + i.ToString("D10", CultureInfo.InvariantCulture);

    /// <summary>224-287 lowercase letters depending on <paramref name="i"/>.</summary>
    public static int Value(int i, Span<byte> destination)
    {
        int length = MinValueLength + (int)((uint)i * 2654435761u >> 26);
        uint state = (uint)i | 1;
        for (int j = 0; j < length; j++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            destination[j] = (byte)('a' + (state % 26));
        }

        return length;
    }

    public static string Value(int i)
    {
        Span<byte> buffer = stackalloc byte[MaxValueLength];
        return Encoding.ASCII.GetString(buffer[..Value(i, buffer)]);
    }
}
