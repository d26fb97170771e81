using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Format;

/// <summary>
/// The 128-byte header, parsed and validated. <see cref="Parse"/> checks everything that can be
/// checked in O(1): after it succeeds every section lies inside the snapshot and the section sizes
/// agree with each other, so readers only need per-record checks on the hot path.
/// </summary>
internal readonly record struct SnapshotHeader
{
    // The range of DateTimeOffset.FromUnixTimeMilliseconds.
    private const long MinUnixMilliseconds = -62_135_596_800_000;
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    public long FileLength { get; init; }
    public int Count { get; init; }
    public ulong Seed { get; init; }
    public int OffsetBits { get; init; }
    public int IndexWidth { get; init; }
    public uint MaxProbe { get; init; }
    public ulong HomeSlots { get; init; }
    public long SlotCount { get; init; }
    public long SlotsOffset { get; init; }
    public long IndexOffset { get; init; }
    public long DataOffset { get; init; }
    public long DataLength { get; init; }
    public long PublishVersion { get; init; }
    public long PublishedAtUnixMs { get; init; }
    public ulong BodyChecksum { get; init; }

    /// <summary>Bits of a slot that hold a record offset for a snapshot of this length.</summary>
    public static int OffsetBitsFor(long fileLength) => fileLength <= (1L << 32) ? 32 : 64 - BitOperations.LeadingZeroCount((ulong)(fileLength - 1));

    /// <summary>Parses and validates a header. <paramref name="actualLength"/> is the length of the bytes it heads.</summary>
    public static SnapshotHeader Parse(ReadOnlySpan<byte> bytes, long actualLength)
    {
        if (actualLength < HeaderSize || bytes.Length < HeaderSize)
        {
            Fail("header", 0, $"at least {HeaderSize} bytes", $"{actualLength} bytes");
        }

        if (!bytes[..8].SequenceEqual(Magic))
        {
            Fail("magic", MagicOffset, Convert.ToHexString(Magic), Convert.ToHexString(bytes[..8]));
        }

        int version = BinaryPrimitives.ReadUInt16LittleEndian(bytes[VersionOffset..]);
        if (version != FormatVersion)
        {
            throw new SnapshotVersionException(FormatVersion, version);
        }

        ulong headerChecksum = U64(bytes, HeaderChecksumOffset);
        ulong computed = Checksum.Header(bytes);
        if (headerChecksum != computed)
        {
            Fail("header_checksum", HeaderChecksumOffset, $"0x{computed:x16}", $"0x{headerChecksum:x16}");
        }

        Expect("header_size", HeaderSizeOffset, BinaryPrimitives.ReadUInt16LittleEndian(bytes[HeaderSizeOffset..]), HeaderSize);
        Expect("flags", FlagsOffset, BinaryPrimitives.ReadUInt32LittleEndian(bytes[FlagsOffset..]), 0);
        Expect("reserved", ReservedOffset, BinaryPrimitives.ReadUInt16LittleEndian(bytes[ReservedOffset..]), 0);

        ulong fileLength = U64(bytes, FileLengthOffset);
        Expect("file_length", FileLengthOffset, fileLength, (ulong)actualLength);

        ulong count = U64(bytes, CountOffset);
        if (count > MaxCount)
        {
            Fail("count", CountOffset, $"at most {MaxCount}", count.ToString(CultureInfo.InvariantCulture));
        }

        int offsetBits = bytes[OffsetBitsOffset];
        Expect("offset_bits", OffsetBitsOffset, (ulong)offsetBits, (ulong)OffsetBitsFor(actualLength));
        int indexWidth = bytes[IndexWidthOffset];
        Expect("index_width", IndexWidthOffset, (ulong)indexWidth, offsetBits == 32 ? 4UL : 8UL);

        ulong homeSlots = U64(bytes, HomeSlotsOffset);
        ulong slotCount = U64(bytes, SlotCountOffset);
        ulong slotsOffset = U64(bytes, SlotsOffsetOffset);
        ulong indexOffset = U64(bytes, IndexOffsetOffset);
        ulong dataOffset = U64(bytes, DataOffsetOffset);
        ulong dataLength = U64(bytes, DataLengthOffset);
        uint maxProbe = BinaryPrimitives.ReadUInt32LittleEndian(bytes[MaxProbeOffset..]);

        // Sections follow each other with no gaps: header | slots | index | data. Every product is
        // bounded first so that nothing below can overflow.
        Expect("slots_offset", SlotsOffsetOffset, slotsOffset, HeaderSize);
        if (slotCount > fileLength / SlotSize)
        {
            Fail("slot_count", SlotCountOffset, $"at most {fileLength / SlotSize} (file length / 8)", slotCount.ToString(CultureInfo.InvariantCulture));
        }

        Expect("index_offset", IndexOffsetOffset, indexOffset, slotsOffset + (slotCount * SlotSize));
        if (count > fileLength / (ulong)indexWidth)
        {
            Fail("count", CountOffset, $"at most {fileLength / (ulong)indexWidth}", count.ToString(CultureInfo.InvariantCulture));
        }

        Expect("data_offset", DataOffsetOffset, dataOffset, indexOffset + (count * (ulong)indexWidth));
        if (dataOffset > fileLength)
        {
            Fail("data_offset", DataOffsetOffset, $"at most file length {fileLength}", dataOffset.ToString(CultureInfo.InvariantCulture));
        }

        Expect("data_length", DataLengthOffset, dataLength, fileLength - dataOffset);
        if (count * 2 > dataLength)
        {
            Fail("data_length", DataLengthOffset, $"at least 2 bytes per entry ({count * 2})", dataLength.ToString(CultureInfo.InvariantCulture));
        }

        if (homeSlots > slotCount || (count == 0) != (homeSlots == 0) || count > slotCount)
        {
            Fail("home_slots", HomeSlotsOffset, $"between the entry count ({count}) and the slot count ({slotCount}), and 0 only when empty", homeSlots.ToString(CultureInfo.InvariantCulture));
        }

        if (maxProbe > slotCount)
        {
            Fail("max_probe", MaxProbeOffset, $"at most the slot count {slotCount}", maxProbe.ToString(CultureInfo.InvariantCulture));
        }

        // The publication stamp is read back as a long version and a DateTimeOffset: out-of-range
        // values would surface as a negative version (which publishers take for "no snapshot") or as
        // an ArgumentOutOfRangeException from PublishedAt.
        ulong publishVersion = U64(bytes, PublishVersionOffset);
        if (publishVersion > long.MaxValue)
        {
            Fail("publish_version", PublishVersionOffset, $"at most {long.MaxValue}", publishVersion.ToString(CultureInfo.InvariantCulture));
        }

        long publishedAt = (long)U64(bytes, PublishedAtOffset);
        if (publishedAt < MinUnixMilliseconds || publishedAt > MaxUnixMilliseconds)
        {
            Fail("published_at", PublishedAtOffset, $"Unix milliseconds between {MinUnixMilliseconds} and {MaxUnixMilliseconds} (years 1 to 9999)", publishedAt.ToString(CultureInfo.InvariantCulture));
        }

        return new SnapshotHeader
        {
            FileLength = (long)fileLength,
            Count = (int)count,
            Seed = U64(bytes, SeedOffset),
            OffsetBits = offsetBits,
            IndexWidth = indexWidth,
            MaxProbe = maxProbe,
            HomeSlots = homeSlots,
            SlotCount = (long)slotCount,
            SlotsOffset = (long)slotsOffset,
            IndexOffset = (long)indexOffset,
            DataOffset = (long)dataOffset,
            DataLength = (long)dataLength,
            PublishVersion = (long)publishVersion,
            PublishedAtUnixMs = publishedAt,
            BodyChecksum = U64(bytes, BodyChecksumOffset),
        };
    }

    /// <summary>Writes this header, with both checksums' places: the body checksum as given, the header checksum computed.</summary>
    public void Write(Span<byte> bytes)
    {
        bytes[..HeaderSize].Clear();
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[VersionOffset..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[HeaderSizeOffset..], HeaderSize);
        W64(bytes, FileLengthOffset, (ulong)FileLength);
        W64(bytes, CountOffset, (ulong)Count);
        W64(bytes, SeedOffset, Seed);
        bytes[OffsetBitsOffset] = (byte)OffsetBits;
        bytes[IndexWidthOffset] = (byte)IndexWidth;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[MaxProbeOffset..], MaxProbe);
        W64(bytes, HomeSlotsOffset, HomeSlots);
        W64(bytes, SlotCountOffset, (ulong)SlotCount);
        W64(bytes, SlotsOffsetOffset, (ulong)SlotsOffset);
        W64(bytes, IndexOffsetOffset, (ulong)IndexOffset);
        W64(bytes, DataOffsetOffset, (ulong)DataOffset);
        W64(bytes, DataLengthOffset, (ulong)DataLength);
        W64(bytes, PublishVersionOffset, (ulong)PublishVersion);
        W64(bytes, PublishedAtOffset, (ulong)PublishedAtUnixMs);
        W64(bytes, BodyChecksumOffset, BodyChecksum);
        W64(bytes, HeaderChecksumOffset, Checksum.Header(bytes));
    }

    /// <summary>Re-stamps the publication fields of a written header and recomputes its checksum.</summary>
    public static void Stamp(Span<byte> bytes, long version, long publishedAtUnixMs)
    {
        W64(bytes, PublishVersionOffset, (ulong)version);
        W64(bytes, PublishedAtOffset, (ulong)publishedAtUnixMs);
        W64(bytes, HeaderChecksumOffset, Checksum.Header(bytes));
    }

    private static ulong U64(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(bytes[offset..]);

    private static void W64(Span<byte> bytes, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(bytes[offset..], value);

    private static void Expect(string field, long offset, ulong found, ulong expected)
    {
        if (found != expected)
        {
            Fail(field, offset, expected.ToString(CultureInfo.InvariantCulture), found.ToString(CultureInfo.InvariantCulture));
        }
    }

    [DoesNotReturn]
    private static void Fail(string field, long offset, string expected, string found) => throw new SnapshotFormatException(field, offset, expected, found);
}
