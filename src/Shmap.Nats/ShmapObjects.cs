using System.Buffers.Binary;
using System.Buffers.Text;
using System.IO.Hashing;
using System.Security.Cryptography;
using NATS.Client.ObjectStore.Models;

namespace Shmap.Nats;

/// <summary>
/// How a snapshot is laid out as a JetStream object (README, "Many hosts"): one object per map
/// name, its bytes the snapshot with the publication fields zeroed, and these metadata keys.
/// </summary>
internal static class ShmapObjects
{
    /// <summary>Snapshot format version of the bytes (header offset 8); a receiver that reads another version skips the object.</summary>
    public const string FormatKey = "shmap-format";

    /// <summary>Number of entries (header offset 24).</summary>
    public const string EntriesKey = "shmap-entries";

    /// <summary>Length of the snapshot in bytes (header offset 16): the object's size.</summary>
    public const string BytesKey = "shmap-bytes";

    /// <summary>The snapshot's own body checksum (XXH3-64 of bytes [128, end), header offset 112), 16 hex digits.</summary>
    public const string ChecksumKey = "shmap-checksum";

    /// <summary>When the push started, Unix milliseconds on the pusher's clock.</summary>
    public const string PushedAtKey = "shmap-pushed-at";

    /// <summary>Where the snapshot came from (host, local name and version, or file), for people.</summary>
    public const string SourceKey = "shmap-source";

    public const int HeaderSize = 128;

    /// <summary>
    /// Chunk size of the objects we put: 512 KiB (the Object Store's default is 128 KiB; each chunk
    /// is one acknowledged publish, so fewer, larger chunks push faster; the server's default
    /// max_payload is 1 MiB).
    /// </summary>
    public const int ChunkSize = 512 * 1024;

    /// <summary>
    /// Zeroes <c>publish_version</c> and <c>published_at</c> (header offsets 96–111) and recomputes the
    /// header checksum (offset 120), so the same entries always give the same object bytes, whichever
    /// host published them and when (docs/FORMAT.md: "the same entries always produce the same bytes,
    /// publication fields aside").
    /// </summary>
    public static void Normalize(Span<byte> header)
    {
        header[96..112].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(header[120..], XxHash3.HashToUInt64(header[..120]));
    }

    public static int FormatVersionOf(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);

    public static long FileLengthOf(ReadOnlySpan<byte> header) => (long)BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);

    public static long CountOf(ReadOnlySpan<byte> header) => (long)BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);

    public static ulong BodyChecksumOf(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt64LittleEndian(header[112..]);

    public static string Hex(ulong value) => value.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The Object Store's digest text for a SHA-256: <c>SHA-256=</c> and base64url with padding, as NATS writes it.</summary>
    public static string Digest(ReadOnlySpan<byte> sha256)
    {
        string text = Base64Url.EncodeToString(sha256);
        return "SHA-256=" + text.PadRight((text.Length + 3) / 4 * 4, '=');
    }

    /// <summary>The JetStream subject of an object's metadata record (ADR-20: base64url of the name, padded).</summary>
    public static string MetaSubject(string bucket, string name)
    {
        string text = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(name));
        return $"$O.{bucket}.M.{text.PadRight((text.Length + 3) / 4 * 4, '=')}";
    }

    public static string MetaSubjects(string bucket) => $"$O.{bucket}.M.>";

    public static string ChunkSubject(string bucket, string nuid) => $"$O.{bucket}.C.{nuid}";

    public static string StreamName(string bucket) => "OBJ_" + bucket;

    /// <summary>Reads the Shmap metadata of an object, or explains why it is not a Shmap snapshot the agent can take.</summary>
    public static RemoteMap Describe(ObjectMetadata info, ulong sequence, DateTimeOffset storedAt)
    {
        Dictionary<string, string> metadata = info.Metadata ?? [];
        string? problem = null;
        int format = 0;
        long entries = 0;
        long bytes = 0;
        string? checksum = null;
        DateTimeOffset? pushedAt = null;
        if (!info.Deleted)
        {
            if (!metadata.TryGetValue(FormatKey, out string? formatText) || !int.TryParse(formatText, NumberStyles.None, CultureInfo.InvariantCulture, out format))
            {
                problem = $"not a Shmap snapshot (no '{FormatKey}' metadata)";
            }
            else if (!metadata.TryGetValue(EntriesKey, out string? entriesText) || !long.TryParse(entriesText, NumberStyles.None, CultureInfo.InvariantCulture, out entries)
                || !metadata.TryGetValue(BytesKey, out string? bytesText) || !long.TryParse(bytesText, NumberStyles.None, CultureInfo.InvariantCulture, out bytes)
                || !metadata.TryGetValue(ChecksumKey, out checksum) || checksum.Length != 16)
            {
                problem = $"incomplete Shmap metadata ('{EntriesKey}', '{BytesKey}' and '{ChecksumKey}' are required)";
            }
            else if ((ulong)bytes != info.Size)
            {
                problem = $"metadata says {bytes} bytes but the object holds {info.Size}";
            }
            else if (bytes < HeaderSize)
            {
                problem = $"{bytes} bytes is shorter than a snapshot header ({HeaderSize})";
            }

            if (metadata.TryGetValue(PushedAtKey, out string? pushedText) && long.TryParse(pushedText, NumberStyles.None, CultureInfo.InvariantCulture, out long pushedMs)
                && pushedMs is > 0 and < 253402300799999)
            {
                pushedAt = DateTimeOffset.FromUnixTimeMilliseconds(pushedMs);
            }
        }

        metadata.TryGetValue(SourceKey, out string? source);
        return new RemoteMap(info.Name, (long)sequence, info.Deleted, format, entries, bytes, checksum, info.Digest, info.Nuid, (int)info.Chunks, storedAt, pushedAt, source, problem);
    }

    /// <summary>A SHA-256 of what is written through it; writes go nowhere else.</summary>
    public sealed class HashSink : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public byte[] Finish() => _hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => _hash.AppendData(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => _hash.AppendData(buffer);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// Passes a snapshot's bytes on with its header normalized (<see cref="Normalize"/>): holds the
    /// first 128 bytes back until it has them all.
    /// </summary>
    public sealed class NormalizingStream(Stream inner) : Stream
    {
        private readonly byte[] _header = new byte[HeaderSize];
        private int _held;

        /// <summary>The normalized header, once 128 bytes went through.</summary>
        public ReadOnlySpan<byte> Header => _held == HeaderSize ? _header : throw new InvalidOperationException("The snapshot is shorter than its header.");

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_held < HeaderSize)
            {
                int take = Math.Min(HeaderSize - _held, buffer.Length);
                buffer[..take].CopyTo(_header.AsSpan(_held));
                _held += take;
                buffer = buffer[take..];
                if (_held < HeaderSize)
                {
                    return;
                }

                Normalize(_header);
                inner.Write(_header);
            }

            if (!buffer.IsEmpty)
            {
                inner.Write(buffer);
            }
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
