using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Shmap.Cli.Input;

/// <summary>
/// Decompresses a <c>.gz</c> file and, at its end, checks the gzip trailer (RFC 1952: CRC-32 and
/// length mod 2^32 of the uncompressed data) against what was read. GZipStream stops quietly at
/// the end of a truncated file, so without this check a file cut anywhere would be published as
/// the entries before the cut (and a wrong value for the cut line). A file of several gzip members
/// (<c>cat a.gz b.gz</c>) fails the check too: its trailer covers only the last member.
/// </summary>
internal sealed class GzipInput(FileStream file, Stream counted, string source) : Stream
{
    private readonly GZipStream _inner = new(counted, CompressionMode.Decompress, leaveOpen: true);
    private readonly Crc32 _crc = new();
    private long _length;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = _inner.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new InputException(source, 0, $"not valid gzip data ({e.Message}); nothing was published");
        }

        if (read == 0 && buffer.Length > 0)
        {
            CheckTrailer();
        }

        _crc.Append(buffer[..read]);
        _length += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void CheckTrailer()
    {
        Span<byte> trailer = stackalloc byte[8];
        long size = file.Length;
        if (size < 18 || RandomAccess.Read(file.SafeFileHandle, trailer, size - 8) != 8)
        {
            throw new InputException(source, 0, "truncated gzip file (shorter than a gzip header and trailer); nothing was published");
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        if (crc != _crc.GetCurrentHashAsUInt32() || length != (uint)_length)
        {
            throw new InputException(source, 0,
                $"truncated or corrupt gzip file: its trailer says {length} bytes with CRC-32 {crc:x8}, the data read is {(uint)_length} bytes with CRC-32 {_crc.GetCurrentHashAsUInt32():x8} " +
                "(a file of several gzip members is not supported: recompress it as one); nothing was published");
        }
    }
}
