using System.Buffers.Binary;

namespace Shmap.Cli.Diagnostics;

/// <summary>What the CLI reads from snapshot files directly, per docs/FORMAT.md.</summary>
internal static class SnapshotFiles
{
    /// <summary>Offset of the u16 little-endian format version (docs/FORMAT.md, header table).</summary>
    private const int FormatVersionOffset = 8;

    /// <summary>
    /// The format version in a snapshot's header. The library opens only the version it reads and
    /// does not expose the number, so it is read here from the documented offset.
    /// </summary>
    public static int ReadFormatVersion(string path)
    {
        Span<byte> header = stackalloc byte[FormatVersionOffset + 2];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) == header.Length
            ? BinaryPrimitives.ReadUInt16LittleEndian(header[FormatVersionOffset..])
            : 0;
    }
}
