using Shmap.Format;
using Shmap.Store;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Reading;

/// <summary>Copies snapshot bytes: a map's to a stream (<c>WriteTo</c>); a snapshot file into a file being published, with a new stamp (<c>Import</c>).</summary>
/// <remarks>
/// Unsafe because the publisher hands its destination as a pointer (a mapped temporary file,
/// possibly over 2 GiB). Trusts: the destination holds the <c>length</c> bytes the publisher was
/// told. Checks: writes are spans of at most the bytes left; the source is read, never mapped.
/// </remarks>
internal static unsafe class SnapshotCopy
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

    /// <summary>
    /// What a publisher calls to write a copy of the snapshot file <paramref name="source"/> of
    /// <paramref name="length"/> bytes (Import): copied by reads (never through a shared mapping of
    /// the source), then stamped with the publication (<see cref="SnapshotHeader.Stamp"/>, which
    /// recomputes the header checksum). The copy is verified after, not the source.
    /// </summary>
    public static Publisher.WriteSnapshot FromFile(FileStream source, long length) =>
        (destination, version, publishedAt) => CopyAndStamp(source, destination, length, version, publishedAt);

    private static void CopyAndStamp(FileStream source, byte* destination, long length, long version, long publishedAt)
    {
        long done = 0;
        while (done < length)
        {
            int chunk = (int)Math.Min(length - done, 1 << 30);
            int read = RandomAccess.Read(source.SafeFileHandle, new Span<byte>(destination + done, chunk), done);
            if (read == 0)
            {
                throw new SnapshotFormatException("file_length", FileLengthOffset, $"{length} bytes", $"the source file shrank to {done} bytes while it was copied");
            }

            done += read;
        }

        SnapshotHeader.Stamp(new Span<byte>(destination, HeaderSize), version, publishedAt);
    }
}
