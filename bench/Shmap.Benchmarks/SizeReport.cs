using System.Globalization;

namespace Shmap.Benchmarks;

/// <summary>
/// Snapshot size against the raw data: overhead per entry = (snapshot bytes − UTF-8 key and value
/// bytes) / N. Prints a markdown table (run: <c>-- size [N ...]</c>).
/// </summary>
internal static class SizeReport
{
    public static readonly int[] DefaultSizes = [10_000, 1_000_000, 10_000_000];

    public static int Run(IEnumerable<int> sizes)
    {
        using var scratch = new Scratch("size");
        Console.WriteLine("| N | snapshot bytes | raw key+value UTF-8 bytes | overhead bytes/entry | snapshot bytes/entry |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        foreach (int n in sizes)
        {
            var data = Dataset.Create(n);
            var builder = new SharedMapBuilder();
            for (int i = 0; i < data.Count; i++)
            {
                builder.Set(data.Keys[i], data.Values[i]);
            }

            string name = "size-" + n.ToString(CultureInfo.InvariantCulture);
            builder.Share(name, force: true, scratch.Options);
            long snapshot;
            using (SharedMap map = SharedMap.Open(name, scratch.Options))
            {
                if (map.Count != n)
                {
                    throw new InvalidOperationException($"The map holds {map.Count} entries, expected {n}.");
                }

                snapshot = map.ByteLength;
                long onDisk = new FileInfo(map.Path!).Length;
                if (onDisk != snapshot)
                {
                    throw new InvalidOperationException($"The snapshot file is {onDisk} bytes but its header says {snapshot}.");
                }
            }

            SharedMap.Delete(name, scratch.Options);
            long raw = data.RawUtf8Bytes;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n:N0} | {snapshot:N0} | {raw:N0} | {(snapshot - raw) / (double)n:F2} | {snapshot / (double)n:F2} |"));
        }

        return 0;
    }
}
