using System.IO.Hashing;

namespace Shmap.Format;

/// <summary>XXH3-64 with seed 0 over the header prefix and over the body (docs/FORMAT.md, "Checksums").</summary>
internal static class Checksum
{
    // Chunks keep each span under int.MaxValue bytes, so bodies over 2 GiB hash in pieces.
    private const int ChunkSize = 1 << 30;

    /// <summary>Gives <paramref name="length"/> bytes of the body from <paramref name="offset"/> (body-relative).</summary>
    public delegate ReadOnlySpan<byte> BodyChunk(long offset, int length);

    public static ulong Header(ReadOnlySpan<byte> header) => XxHash3.HashToUInt64(header[..SnapshotLayout.HeaderChecksumOffset]);

    /// <summary>XXH3-64 of a body of <paramref name="length"/> bytes, read in chunks through <paramref name="chunk"/>.</summary>
    public static ulong Body(long length, BodyChunk chunk)
    {
        var hasher = new XxHash3();
        long done = 0;
        while (done < length)
        {
            int n = (int)Math.Min(ChunkSize, length - done);
            hasher.Append(chunk(done, n));
            done += n;
        }

        return hasher.GetCurrentHashAsUInt64();
    }
}
