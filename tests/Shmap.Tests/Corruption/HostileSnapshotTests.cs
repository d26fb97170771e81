using System.Buffers.Binary;
using System.Diagnostics;
using Shmap.Format;
using static Shmap.Format.SnapshotLayout;

namespace Shmap.Tests.Corruption;

/// <summary>
/// Hand-crafted hostile snapshots whose checksums are recomputed, so that only the structural
/// checks stand in the way: lying counts, sizes, offsets, slots, index entries and record lengths.
/// Each must be rejected with a format exception or read safely, in bounded time.
/// </summary>
public class HostileSnapshotTests
{
    private static readonly byte[] s_snapshot = SnapshotCorruptionTests.Snapshot;
    private static readonly SnapshotHeader s_header = SnapshotHeader.Parse(s_snapshot, s_snapshot.Length);
    private static readonly ulong s_length = (ulong)s_snapshot.Length;

    public enum Expect
    {
        /// <summary>Open must throw a format exception.</summary>
        Rejected,

        /// <summary>Open may succeed; every call is safe; Verify() must throw.</summary>
        VerifyFails,

        /// <summary>Open may succeed; every call is safe; if Verify() passes the map is consistent.</summary>
        Safe,
    }

    private static void U64(Span<byte> b, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(b[offset..], value);

    private static void U32(Span<byte> b, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(b[offset..], value);

    private static void U16(Span<byte> b, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(b[offset..], value);

    private static int Slot(int i) => (int)s_header.SlotsOffset + (i * SlotSize);

    private static int Index(int i) => (int)s_header.IndexOffset + (i * 4);

    private static int RecordOffset(int rank) => (int)BinaryPrimitives.ReadUInt32LittleEndian(s_snapshot.AsSpan(Index(rank)));

    private static int FirstUsedSlot() => Enumerable.Range(0, (int)s_header.SlotCount).First(i => BinaryPrimitives.ReadUInt64LittleEndian(s_snapshot.AsSpan(Slot(i))) != 0);

    private static ulong SlotValue(int i) => BinaryPrimitives.ReadUInt64LittleEndian(s_snapshot.AsSpan(Slot(i)));

    /// <summary>Header lies. Each entry: name, expectation, mutation of a copy (checksums recomputed after).</summary>
    private static readonly Dictionary<string, (Expect Expect, Action<byte[]> Mutate)> s_cases = new()
    {
        // Identity and version.
        ["magic"] = (Expect.Rejected, b => b[1] = (byte)'X'),
        ["version 0"] = (Expect.Rejected, b => U16(b, VersionOffset, 0)),
        ["version 2"] = (Expect.Rejected, b => U16(b, VersionOffset, 2)),
        ["version max"] = (Expect.Rejected, b => U16(b, VersionOffset, ushort.MaxValue)),
        ["header_size 0"] = (Expect.Rejected, b => U16(b, HeaderSizeOffset, 0)),
        ["header_size 127"] = (Expect.Rejected, b => U16(b, HeaderSizeOffset, 127)),
        ["header_size max"] = (Expect.Rejected, b => U16(b, HeaderSizeOffset, ushort.MaxValue)),
        ["flags"] = (Expect.Rejected, b => U32(b, FlagsOffset, 0x8000_0000)),
        ["reserved"] = (Expect.Rejected, b => U16(b, ReservedOffset, 1)),

        // Lengths and counts.
        ["file_length - 1"] = (Expect.Rejected, b => U64(b, FileLengthOffset, s_length - 1)),
        ["file_length + 1"] = (Expect.Rejected, b => U64(b, FileLengthOffset, s_length + 1)),
        ["file_length 0"] = (Expect.Rejected, b => U64(b, FileLengthOffset, 0)),
        ["file_length max"] = (Expect.Rejected, b => U64(b, FileLengthOffset, ulong.MaxValue)),
        ["count + 1"] = (Expect.Rejected, b => U64(b, CountOffset, (ulong)s_header.Count + 1)),
        ["count - 1"] = (Expect.Rejected, b => U64(b, CountOffset, (ulong)s_header.Count - 1)),
        ["count 0"] = (Expect.Rejected, b => U64(b, CountOffset, 0)),
        ["count int.MaxValue"] = (Expect.Rejected, b => U64(b, CountOffset, int.MaxValue)),
        ["count 2^31"] = (Expect.Rejected, b => U64(b, CountOffset, 1UL << 31)),
        ["count 2^62"] = (Expect.Rejected, b => U64(b, CountOffset, 1UL << 62)),
        ["count max"] = (Expect.Rejected, b => U64(b, CountOffset, ulong.MaxValue)),
        ["offset_bits 0"] = (Expect.Rejected, b => b[OffsetBitsOffset] = 0),
        ["offset_bits 31"] = (Expect.Rejected, b => b[OffsetBitsOffset] = 31),
        ["offset_bits 64"] = (Expect.Rejected, b => b[OffsetBitsOffset] = 64),
        ["offset_bits 255"] = (Expect.Rejected, b => b[OffsetBitsOffset] = 255),
        ["index_width 0"] = (Expect.Rejected, b => b[IndexWidthOffset] = 0),
        ["index_width 8"] = (Expect.Rejected, b => b[IndexWidthOffset] = 8),
        ["index_width 255"] = (Expect.Rejected, b => b[IndexWidthOffset] = 255),

        // The hash table's shape.
        ["max_probe slot count + 1"] = (Expect.Rejected, b => U32(b, MaxProbeOffset, (uint)s_header.SlotCount + 1)),
        ["max_probe max"] = (Expect.Rejected, b => U32(b, MaxProbeOffset, uint.MaxValue)),
        ["max_probe slot count"] = (Expect.Safe, b => U32(b, MaxProbeOffset, (uint)s_header.SlotCount)),
        ["max_probe too small"] = (Expect.VerifyFails, b => U32(b, MaxProbeOffset, s_header.MaxProbe - 1)),
        ["home_slots 0"] = (Expect.Rejected, b => U64(b, HomeSlotsOffset, 0)),
        ["home_slots slot count + 1"] = (Expect.Rejected, b => U64(b, HomeSlotsOffset, (ulong)s_header.SlotCount + 1)),
        ["home_slots max"] = (Expect.Rejected, b => U64(b, HomeSlotsOffset, ulong.MaxValue)),
        ["home_slots 1"] = (Expect.VerifyFails, b => U64(b, HomeSlotsOffset, 1)),
        ["home_slots slot count"] = (Expect.Safe, b => U64(b, HomeSlotsOffset, (ulong)s_header.SlotCount)),
        ["seed"] = (Expect.VerifyFails, b => U64(b, SeedOffset, 0x9E37_79B9_7F4A_7C15)),
        ["slot_count 0"] = (Expect.Rejected, b => U64(b, SlotCountOffset, 0)),
        ["slot_count + 1"] = (Expect.Rejected, b => U64(b, SlotCountOffset, (ulong)s_header.SlotCount + 1)),
        ["slot_count - 1"] = (Expect.Rejected, b => U64(b, SlotCountOffset, (ulong)s_header.SlotCount - 1)),
        ["slot_count file / 8 + 1"] = (Expect.Rejected, b => U64(b, SlotCountOffset, (s_length / 8) + 1)),
        ["slot_count max"] = (Expect.Rejected, b => U64(b, SlotCountOffset, ulong.MaxValue)),
        ["slot_count 2^61"] = (Expect.Rejected, b => U64(b, SlotCountOffset, 1UL << 61)),

        // Section offsets pointing anywhere.
        ["slots_offset 0"] = (Expect.Rejected, b => U64(b, SlotsOffsetOffset, 0)),
        ["slots_offset 136"] = (Expect.Rejected, b => U64(b, SlotsOffsetOffset, 136)),
        ["slots_offset max"] = (Expect.Rejected, b => U64(b, SlotsOffsetOffset, ulong.MaxValue)),
        ["index_offset 0"] = (Expect.Rejected, b => U64(b, IndexOffsetOffset, 0)),
        ["index_offset data"] = (Expect.Rejected, b => U64(b, IndexOffsetOffset, (ulong)s_header.DataOffset)),
        ["index_offset end"] = (Expect.Rejected, b => U64(b, IndexOffsetOffset, s_length)),
        ["index_offset max"] = (Expect.Rejected, b => U64(b, IndexOffsetOffset, ulong.MaxValue)),
        ["data_offset 0"] = (Expect.Rejected, b => U64(b, DataOffsetOffset, 0)),
        ["data_offset end"] = (Expect.Rejected, b => U64(b, DataOffsetOffset, s_length)),
        ["data_offset past end"] = (Expect.Rejected, b => U64(b, DataOffsetOffset, s_length + 1)),
        ["data_offset max"] = (Expect.Rejected, b => U64(b, DataOffsetOffset, ulong.MaxValue)),
        ["data_length 0"] = (Expect.Rejected, b => U64(b, DataLengthOffset, 0)),
        ["data_length + 1"] = (Expect.Rejected, b => U64(b, DataLengthOffset, (ulong)s_header.DataLength + 1)),
        ["data_length max"] = (Expect.Rejected, b => U64(b, DataLengthOffset, ulong.MaxValue)),

        // Lies that keep the header self-consistent: sections shifted against their contents.
        ["count + 2 with data shifted"] = (Expect.Safe, b =>
        {
            U64(b, CountOffset, (ulong)s_header.Count + 2);
            U64(b, DataOffsetOffset, (ulong)s_header.DataOffset + 8);
            U64(b, DataLengthOffset, (ulong)s_header.DataLength - 8);
        }
        ),
        ["slot_count + 1 with index and data shifted"] = (Expect.Safe, b =>
        {
            U64(b, SlotCountOffset, (ulong)s_header.SlotCount + 1);
            U64(b, IndexOffsetOffset, (ulong)s_header.IndexOffset + 8);
            U64(b, DataOffsetOffset, (ulong)s_header.DataOffset + 8);
            U64(b, DataLengthOffset, (ulong)s_header.DataLength - 8);
        }
        ),
        ["slot_count - 1 with index and data shifted"] = (Expect.Safe, b =>
        {
            U64(b, SlotCountOffset, (ulong)s_header.SlotCount - 1);
            U64(b, HomeSlotsOffset, Math.Min(s_header.HomeSlots, (ulong)s_header.SlotCount - 1));
            U32(b, MaxProbeOffset, Math.Min(s_header.MaxProbe, (uint)s_header.SlotCount - 1));
            U64(b, IndexOffsetOffset, (ulong)s_header.IndexOffset - 8);
            U64(b, DataOffsetOffset, (ulong)s_header.DataOffset - 8);
            U64(b, DataLengthOffset, (ulong)s_header.DataLength + 8);
        }
        ),
        ["empty map over full sections"] = (Expect.VerifyFails, b =>
        {
            U64(b, CountOffset, 0);
            U64(b, HomeSlotsOffset, 0);
            U64(b, DataOffsetOffset, (ulong)s_header.IndexOffset);
            U64(b, DataLengthOffset, s_length - (ulong)s_header.IndexOffset);
        }
        ),

        // Publication stamp and checksums.
        ["publish_version max"] = (Expect.Safe, b => U64(b, PublishVersionOffset, ulong.MaxValue)),
        ["publish_version 2^63"] = (Expect.Safe, b => U64(b, PublishVersionOffset, 1UL << 63)),
        ["published_at max"] = (Expect.Safe, b => U64(b, PublishedAtOffset, long.MaxValue)),
        ["published_at min"] = (Expect.Safe, b => U64(b, PublishedAtOffset, unchecked((ulong)long.MinValue))),
        ["published_at -1"] = (Expect.Safe, b => U64(b, PublishedAtOffset, ulong.MaxValue)),
        ["published_at past year 9999"] = (Expect.Safe, b => U64(b, PublishedAtOffset, 253_402_300_800_000)),
        ["body_checksum"] = (Expect.VerifyFails, b => U64(b, BodyChecksumOffset, s_header.BodyChecksum ^ 1)),

        // Slots pointing outside the data section, or lying about their tag.
        ["slot to offset 0"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), SlotValue(FirstUsedSlot()) >> 32 << 32)),
        ["slot into header"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), (SlotValue(FirstUsedSlot()) >> 32 << 32) | 8)),
        ["slot into index"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), (SlotValue(FirstUsedSlot()) >> 32 << 32) | (ulong)s_header.IndexOffset)),
        ["slot to last byte"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), (SlotValue(FirstUsedSlot()) >> 32 << 32) | (s_length - 1))),
        ["slot to end"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), (SlotValue(FirstUsedSlot()) >> 32 << 32) | s_length)),
        ["slot to 2^32 - 1"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), (SlotValue(FirstUsedSlot()) >> 32 << 32) | uint.MaxValue)),
        ["slot mid-record"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), SlotValue(FirstUsedSlot()) + 1)),
        ["slot emptied"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), 0)),
        ["slot tag changed"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), SlotValue(FirstUsedSlot()) ^ (1UL << 40))),
        ["slot only offset bits"] = (Expect.VerifyFails, b => U64(b, Slot(FirstUsedSlot()), SlotValue(FirstUsedSlot()) & uint.MaxValue)),
        ["every slot the same"] = (Expect.VerifyFails, b =>
        {
            for (int i = 0; i < s_header.SlotCount; i++)
            {
                U64(b, Slot(i), SlotValue(FirstUsedSlot()));
            }
        }
        ),
        ["every slot max"] = (Expect.VerifyFails, b =>
        {
            for (int i = 0; i < s_header.SlotCount; i++)
            {
                U64(b, Slot(i), ulong.MaxValue);
            }
        }
        ),

        // Index entries pointing anywhere.
        ["index 0"] = (Expect.VerifyFails, b => U32(b, Index(0), 0)),
        ["index into slots"] = (Expect.VerifyFails, b => U32(b, Index(1), (uint)s_header.SlotsOffset)),
        ["index to end"] = (Expect.VerifyFails, b => U32(b, Index(2), (uint)s_length)),
        ["index to max"] = (Expect.VerifyFails, b => U32(b, Index(3), uint.MaxValue)),
        ["index mid-record"] = (Expect.VerifyFails, b => U32(b, Index(4), (uint)RecordOffset(4) + 1)),
        ["index swapped"] = (Expect.VerifyFails, b =>
        {
            U32(b, Index(0), (uint)RecordOffset(1));
            U32(b, Index(1), (uint)RecordOffset(0));
        }
        ),
        ["index all last"] = (Expect.VerifyFails, b =>
        {
            for (int i = 0; i < s_header.Count; i++)
            {
                U32(b, Index(i), (uint)RecordOffset(s_header.Count - 1));
            }
        }
        ),
        ["index descending"] = (Expect.VerifyFails, b =>
        {
            for (int i = 0; i < s_header.Count; i++)
            {
                U32(b, Index(i), (uint)RecordOffset(s_header.Count - 1 - i));
            }
        }
        ),

        // Record lengths: 5-byte varints, too long, non-minimal, over 2^31-1, running past the end.
        ["key length 2^31-1"] = (Expect.VerifyFails, b => new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07 }.CopyTo(b, RecordOffset(0))),
        ["key length 6-byte varint"] = (Expect.VerifyFails, b => new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }.CopyTo(b, RecordOffset(0))),
        ["key length over int"] = (Expect.VerifyFails, b => new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F }.CopyTo(b, RecordOffset(0))),
        ["key length 2^32-1+"] = (Expect.VerifyFails, b => new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }.CopyTo(b, RecordOffset(0))),
        ["key length non-minimal"] = (Expect.VerifyFails, b => new byte[] { 0x80, 0x00 }.CopyTo(b, RecordOffset(0))),
        ["key length non-minimal 5 bytes"] = (Expect.VerifyFails, b => new byte[] { 0x81, 0x80, 0x80, 0x80, 0x00 }.CopyTo(b, RecordOffset(0))),
        ["value length 2^31-1"] = (Expect.VerifyFails, b => new byte[] { 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x07 }.CopyTo(b, RecordOffset(1))),
        ["value length past end"] = (Expect.VerifyFails, b =>
        {
            int last = RecordOffset(s_header.Count - 1);
            b[last + 1] = 0x7F; // the last record's value now runs past the end of the file
        }
        ),
        ["key length + 1"] = (Expect.VerifyFails, b => b[RecordOffset(2)]++),
        ["every length byte 0xFF"] = (Expect.VerifyFails, b =>
        {
            for (int i = 0; i < s_header.Count; i++)
            {
                b[RecordOffset(i)] = 0xFF;
            }
        }
        ),
        ["data all continuation bytes"] = (Expect.VerifyFails, b => b.AsSpan((int)s_header.DataOffset).Fill(0x80)),
        ["data zeroed"] = (Expect.VerifyFails, b => b.AsSpan((int)s_header.DataOffset).Clear()),
        ["body zeroed"] = (Expect.VerifyFails, b => b.AsSpan(HeaderSize).Clear()),
        ["body all 0xFF"] = (Expect.VerifyFails, b => b.AsSpan(HeaderSize).Fill(0xFF)),
    };

    public static TheoryData<string> CaseNames => [.. s_cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Load_HostileSnapshot_RejectedOrReadSafely(string name)
    {
        (Expect expect, Action<byte[]> mutate) = s_cases[name];
        byte[] hostile = (byte[])s_snapshot.Clone();
        mutate(hostile);
        Assert.False(hostile.AsSpan().SequenceEqual(s_snapshot), "the mutation changed nothing");
        ApiSweep.Reseal(hostile, body: name != "body_checksum");

        var clock = Stopwatch.StartNew();
        SweepResult result = default;
        ApiSweep.Bounded(TimeSpan.FromSeconds(20), () => result = ApiSweep.Run(() => SharedMap.Load(hostile), SnapshotCorruptionTests.Keys, name));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{name}: the sweep took {clock.Elapsed}");
        switch (expect)
        {
            case Expect.Rejected:
                Assert.True(result.RejectedAtOpen, $"{name}: a hostile header was accepted");
                break;
            case Expect.VerifyFails:
                Assert.True(result.RejectedAtOpen || result.VerifyThrew, $"{name}: Verify() passed a hostile snapshot");
                break;
            default:
                break;
        }
    }

    [Fact]
    public void Load_TruncatedWithConsistentHeader_LastRecordRunsPastEnd()
    {
        // Cut the tail and fix file_length and data_length: the header is self-consistent, the
        // last records run past the end of the file.
        for (int cut = 1; cut < 12; cut++)
        {
            byte[] hostile = s_snapshot.AsSpan(0, s_snapshot.Length - cut).ToArray();
            U64(hostile, FileLengthOffset, (ulong)hostile.Length);
            U64(hostile, DataLengthOffset, (ulong)(s_header.DataLength - cut));
            ApiSweep.Reseal(hostile, body: true);
            SweepResult result = ApiSweep.Run(() => SharedMap.Load(hostile), SnapshotCorruptionTests.Keys, $"cut {cut} bytes");
            Assert.False(result.RejectedAtOpen);
            Assert.True(result.VerifyThrew, $"cut {cut}: Verify() passed records running past the end");
            using SharedMap map = SharedMap.Load(hostile);
            Assert.Throws<SnapshotFormatException>(() => map.GetAt(map.Count - 1));
        }
    }

    [Fact]
    public void Load_HugeHostileTable_LookupsBoundedBySlotCount()
    {
        // A 1 MiB snapshot of one entry whose every slot carries the probed key's tag but points at a
        // record that does not match, with max_probe = slot count: a lookup walks the whole table once.
        const int Slots = 1 << 17;
        byte[] one = new SharedMapBuilder { ["k"] = "v" }.Dump();
        int length = HeaderSize + (Slots * SlotSize) + 4 + 4;
        byte[] hostile = new byte[length];
        one.AsSpan(0, HeaderSize).CopyTo(hostile);
        U64(hostile, FileLengthOffset, (ulong)length);
        U64(hostile, SlotCountOffset, Slots);
        U64(hostile, HomeSlotsOffset, 1);
        U32(hostile, MaxProbeOffset, Slots);
        ulong indexOffset = (ulong)(HeaderSize + (Slots * SlotSize));
        U64(hostile, IndexOffsetOffset, indexOffset);
        U64(hostile, DataOffsetOffset, indexOffset + 4);
        U64(hostile, DataLengthOffset, 4);
        U32(hostile, (int)indexOffset, (uint)indexOffset + 4);
        new byte[] { 1, 1, (byte)'x', (byte)'y' }.CopyTo(hostile, (int)indexOffset + 4);
        ulong tag = System.IO.Hashing.XxHash3.HashToUInt64("k"u8) >> 32 << 32;
        for (int i = 0; i < Slots; i++)
        {
            U64(hostile, HeaderSize + (i * SlotSize), tag | (indexOffset + 4));
        }

        ApiSweep.Reseal(hostile, body: true);
        using SharedMap map = SharedMap.Load(hostile);
        var clock = Stopwatch.StartNew();
        Assert.Null(map.Get("k"));
        Assert.Null(map.Get("x")); // its only slots carry another key's tag
        Assert.Equal(new KeyValuePair<string, string>("x", "y"), map.GetAt(0));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"lookups took {clock.Elapsed}");
        Assert.Throws<SnapshotFormatException>(map.Verify);
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 63)]
    public void Share_OverFileWithHostileVersion_StillThrowsExists(ulong version)
    {
        using var dir = new TestDirectory();
        new SharedMapBuilder { ["k"] = "v" }.Share("hostile", options: dir.Options);
        string path = Path.Combine(dir.Path, "hostile.shmap");
        byte[] bytes = File.ReadAllBytes(path);
        U64(bytes, PublishVersionOffset, version);
        File.WriteAllBytes(path, ApiSweep.Reseal(bytes, body: false));

        // Whatever its stamp says, a file is there: Share without force must not replace it.
        Assert.Throws<SharedMapExistsException>(() => new SharedMapBuilder { ["k"] = "replaced" }.Share("hostile", options: dir.Options));
        Assert.Equal(bytes, File.ReadAllBytes(path));
        try
        {
            using SharedMap map = SharedMap.Open("hostile", dir.Options);
            Assert.True(map.Version >= 0, $"Version {map.Version} is negative");
        }
        catch (SnapshotFormatException)
        {
        }
    }
}
