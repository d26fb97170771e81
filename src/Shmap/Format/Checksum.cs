using System.IO.Hashing;

namespace Shmap.Format;

/// <summary>XXH3-64 with seed 0 over the header prefix and over the body (docs/FORMAT.md, "Checksums").</summary>
internal static unsafe class Checksum
{
    // Chunks keep each span under int.MaxValue bytes, so bodies over 2 GiB hash in pieces.
    private const int ChunkSize = 1 << 30;

    public static ulong Header(ReadOnlySpan<byte> header) => XxHash3.HashToUInt64(header[..SnapshotLayout.HeaderChecksumOffset]);

    public static ulong Body(byte* start, long length)
    {
        var hasher = new XxHash3();
        long done = 0;
        while (done < length)
        {
            int chunk = (int)Math.Min(ChunkSize, length - done);
            hasher.Append(new ReadOnlySpan<byte>(start + done, chunk));
            done += chunk;
        }

        return hasher.GetCurrentHashAsUInt64();
    }
}
