"""Byte-level constants and the header of the snapshot format (docs/FORMAT.md, version 1)."""

from __future__ import annotations

import struct
from typing import NamedTuple

from ._xxh3 import xxh3_64
from .errors import FormatError, VersionError

MAGIC = b"\x89SHMAP\r\n"
FORMAT_VERSION = 1
HEADER_SIZE = 128
SLOT_SIZE = 8
MAX_COUNT = 2**31 - 1
MAX_ITEM_LENGTH = 2**31 - 1
MAX_VARINT_LENGTH = 5
LOAD_FACTOR = 0.75
MIN_UNIX_MS = -62_135_596_800_000
MAX_UNIX_MS = 253_402_300_799_999
I64_MAX = 2**63 - 1

# Header field offsets.
OFF_MAGIC = 0
OFF_VERSION = 8
OFF_HEADER_SIZE = 10
OFF_FLAGS = 12
OFF_FILE_LENGTH = 16
OFF_COUNT = 24
OFF_SEED = 32
OFF_OFFSET_BITS = 40
OFF_INDEX_WIDTH = 41
OFF_RESERVED = 42
OFF_MAX_PROBE = 44
OFF_HOME_SLOTS = 48
OFF_SLOT_COUNT = 56
OFF_SLOTS_OFFSET = 64
OFF_INDEX_OFFSET = 72
OFF_DATA_OFFSET = 80
OFF_DATA_LENGTH = 88
OFF_PUBLISH_VERSION = 96
OFF_PUBLISHED_AT = 104
OFF_BODY_CHECKSUM = 112
OFF_HEADER_CHECKSUM = 120

# The whole header: magic, version, header_size, flags, file_length, count, seed, offset_bits,
# index_width, reserved, max_probe, home_slots, slot_count, slots/index/data offsets,
# data_length, publish_version, published_at, body_checksum, header_checksum.
HEADER_STRUCT = struct.Struct("<8sHHIQQQBBHIQQQQQQQqQQ")
assert HEADER_STRUCT.size == HEADER_SIZE


def offset_bits_for(file_length: int) -> int:
    """Bits of a slot that hold a record offset for a snapshot of this length."""
    return 32 if file_length <= (1 << 32) else (file_length - 1).bit_length()


class Header(NamedTuple):
    file_length: int
    count: int
    seed: int
    offset_bits: int
    index_width: int
    max_probe: int
    home_slots: int
    slot_count: int
    slots_offset: int
    index_offset: int
    data_offset: int
    data_length: int
    publish_version: int
    published_at: int
    body_checksum: int


def _expect(field: str, offset: int, found: int, expected: int) -> None:
    if found != expected:
        raise FormatError(field, offset, str(expected), str(found))


def parse_header(buf, actual_length: int) -> Header:
    """Parses and validates the header of ``buf`` (at least its first 128 bytes), a snapshot of
    ``actual_length`` bytes: every check of FORMAT.md "Opening", in its order, all O(1)."""
    if actual_length < HEADER_SIZE or len(buf) < HEADER_SIZE:
        raise FormatError("header", 0, f"at least {HEADER_SIZE} bytes", f"{actual_length} bytes")
    head = bytes(buf[:HEADER_SIZE])
    if head[:8] != MAGIC:
        raise FormatError("magic", OFF_MAGIC, MAGIC.hex().upper(), head[:8].hex().upper())
    (_, version, header_size, flags, file_length, count, seed, offset_bits, index_width, reserved,
     max_probe, home_slots, slot_count, slots_offset, index_offset, data_offset, data_length,
     publish_version, published_at, body_checksum, header_checksum) = HEADER_STRUCT.unpack(head)
    if version != FORMAT_VERSION:
        raise VersionError(FORMAT_VERSION, version)
    computed = xxh3_64(head[:OFF_HEADER_CHECKSUM])
    if header_checksum != computed:
        raise FormatError("header_checksum", OFF_HEADER_CHECKSUM, f"0x{computed:016x}", f"0x{header_checksum:016x}")
    _expect("header_size", OFF_HEADER_SIZE, header_size, HEADER_SIZE)
    _expect("flags", OFF_FLAGS, flags, 0)
    _expect("reserved", OFF_RESERVED, reserved, 0)
    _expect("file_length", OFF_FILE_LENGTH, file_length, actual_length)
    if count > MAX_COUNT:
        raise FormatError("count", OFF_COUNT, f"at most {MAX_COUNT}", str(count))
    _expect("offset_bits", OFF_OFFSET_BITS, offset_bits, offset_bits_for(actual_length))
    _expect("index_width", OFF_INDEX_WIDTH, index_width, 4 if offset_bits == 32 else 8)
    _expect("slots_offset", OFF_SLOTS_OFFSET, slots_offset, HEADER_SIZE)
    if slot_count > file_length // SLOT_SIZE:
        raise FormatError("slot_count", OFF_SLOT_COUNT, f"at most {file_length // SLOT_SIZE} (file length / 8)", str(slot_count))
    _expect("index_offset", OFF_INDEX_OFFSET, index_offset, slots_offset + slot_count * SLOT_SIZE)
    if count > file_length // index_width:
        raise FormatError("count", OFF_COUNT, f"at most {file_length // index_width}", str(count))
    _expect("data_offset", OFF_DATA_OFFSET, data_offset, index_offset + count * index_width)
    if data_offset > file_length:
        raise FormatError("data_offset", OFF_DATA_OFFSET, f"at most file length {file_length}", str(data_offset))
    _expect("data_length", OFF_DATA_LENGTH, data_length, file_length - data_offset)
    if count * 2 > data_length:
        raise FormatError("data_length", OFF_DATA_LENGTH, f"at least 2 bytes per entry ({count * 2})", str(data_length))
    if home_slots > slot_count or (count == 0) != (home_slots == 0) or count > slot_count:
        raise FormatError(
            "home_slots", OFF_HOME_SLOTS,
            f"between the entry count ({count}) and the slot count ({slot_count}), and 0 only when empty",
            str(home_slots))
    if max_probe > slot_count:
        raise FormatError("max_probe", OFF_MAX_PROBE, f"at most the slot count {slot_count}", str(max_probe))
    if publish_version > I64_MAX:
        raise FormatError("publish_version", OFF_PUBLISH_VERSION, f"at most {I64_MAX}", str(publish_version))
    if published_at < MIN_UNIX_MS or published_at > MAX_UNIX_MS:
        raise FormatError(
            "published_at", OFF_PUBLISHED_AT,
            f"Unix milliseconds between {MIN_UNIX_MS} and {MAX_UNIX_MS} (years 1 to 9999)", str(published_at))
    return Header(file_length, count, seed, offset_bits, index_width, max_probe, home_slots, slot_count,
                  slots_offset, index_offset, data_offset, data_length, publish_version, published_at,
                  body_checksum)


def write_header(h: Header) -> bytearray:
    """The 128 header bytes of ``h``, header checksum computed."""
    out = bytearray(HEADER_STRUCT.pack(
        MAGIC, FORMAT_VERSION, HEADER_SIZE, 0, h.file_length, h.count, h.seed, h.offset_bits,
        h.index_width, 0, h.max_probe, h.home_slots, h.slot_count, h.slots_offset, h.index_offset,
        h.data_offset, h.data_length, h.publish_version, h.published_at, h.body_checksum, 0))
    struct.pack_into("<Q", out, OFF_HEADER_CHECKSUM, xxh3_64(bytes(out[:OFF_HEADER_CHECKSUM])))
    return out


def varint_length(value: int) -> int:
    return 1 if value < 0x80 else 2 if value < 0x4000 else 3 if value < 0x200000 else 4 if value < 0x10000000 else 5


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
