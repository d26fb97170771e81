namespace Shmap.Format;

/// <summary>
/// Byte-level constants of the snapshot format. docs/FORMAT.md is the specification; every value
/// here is named there.
/// </summary>
internal static class SnapshotLayout
{
    /// <summary>Bytes 0..7 of every snapshot: 0x89 'S' 'H' 'M' 'A' 'P' '\r' '\n' (PNG-style: catches 7-bit and newline mangling).</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'S', (byte)'H', (byte)'M', (byte)'A', (byte)'P', 0x0D, 0x0A];

    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>Size of the fixed header; the slot table starts right after it.</summary>
    public const int HeaderSize = 128;

    // Header field offsets (little-endian).
    public const int MagicOffset = 0;
    public const int VersionOffset = 8;          // u16 format version
    public const int HeaderSizeOffset = 10;      // u16 header size
    public const int FlagsOffset = 12;           // u32 flags, must be 0
    public const int FileLengthOffset = 16;      // u64
    public const int CountOffset = 24;           // u64 entry count
    public const int SeedOffset = 32;            // u64 hash seed
    public const int OffsetBitsOffset = 40;      // u8 bits of a slot that hold a record offset
    public const int IndexWidthOffset = 41;      // u8 bytes per sorted-index entry (4 or 8)
    public const int ReservedOffset = 42;        // u16, must be 0
    public const int MaxProbeOffset = 44;        // u32 longest displacement in the slot table
    public const int HomeSlotsOffset = 48;       // u64 slots a hash is spread over
    public const int SlotCountOffset = 56;       // u64 slots in the table (home slots + overflow tail)
    public const int SlotsOffsetOffset = 64;     // u64
    public const int IndexOffsetOffset = 72;     // u64
    public const int DataOffsetOffset = 80;      // u64
    public const int DataLengthOffset = 88;      // u64
    public const int PublishVersionOffset = 96;  // u64 version number stamped at publication (0 in Dump)
    public const int PublishedAtOffset = 104;    // i64 Unix time in milliseconds stamped at publication (0 in Dump)
    public const int BodyChecksumOffset = 112;   // u64 XXH3-64 of bytes [HeaderSize, FileLength)
    public const int HeaderChecksumOffset = 120; // u64 XXH3-64 of bytes [0, 120)

    /// <summary>Size of one slot of the hash table.</summary>
    public const int SlotSize = 8;

    /// <summary>Longest key or value, in UTF-8 bytes. Lengths are stored as LEB128 of at most 5 bytes.</summary>
    public const int MaxItemLength = int.MaxValue;

    /// <summary>Most bytes one LEB128 length can take.</summary>
    public const int MaxVarintLength = 5;

    /// <summary>Most entries one snapshot holds (ranks are <see cref="int"/>).</summary>
    public const long MaxCount = int.MaxValue;
}
