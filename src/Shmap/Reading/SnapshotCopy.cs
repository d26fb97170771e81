using Shmap.Format;
using Shmap.Store;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Reading;

/// <summary>Copies a snapshot's bytes out: to a stream (<c>WriteTo</c>), or into a file being published with a new stamp (<c>Import</c>).</summary>
internal sealed unsafe class SnapshotCopy(SnapshotReader reader)
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Copies the whole snapshot to <paramref name="destination"/>.</summary>
    public static void CopyTo(SnapshotReader reader, Stream destination)
    {
        long length = reader.Header.FileLength;
        for (long done = 0; done < length;)
        {
            int chunk = (int)Math.Min(ChunkSize, length - done);
            destination.Write(reader.Bytes(done, chunk));
            done += chunk;
        }

        GC.KeepAlive(reader);
    }

    /// <summary>What a publisher calls to write the copy (<see cref="WriteStamped"/>).</summary>
    public Publisher.WriteSnapshot Stamped => WriteStamped;

    /// <summary>
    /// Copies the whole snapshot to <paramref name="destination"/> (a publisher's file of
    /// FileLength bytes) and stamps the publication into the copy's header
    /// (<see cref="SnapshotHeader.Stamp"/>, which recomputes the header checksum).
    /// </summary>
    public void WriteStamped(byte* destination, long version, long publishedAtUnixMs)
    {
        long length = reader.Header.FileLength;
        for (long done = 0; done < length;)
        {
            int chunk = (int)Math.Min(ChunkSize, length - done);
            reader.Bytes(done, chunk).CopyTo(new Span<byte>(destination + done, chunk));
            done += chunk;
        }

        SnapshotHeader.Stamp(new Span<byte>(destination, HeaderSize), version, publishedAtUnixMs);
        GC.KeepAlive(reader);
    }
}
