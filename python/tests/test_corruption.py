"""Flip each byte and truncate at each length of a small snapshot: every call returns right data
or raises the format error, never crashes, hangs or raises anything else."""

import unittest

from helpers import golden_entries
import shmap

ALLOWED = (shmap.FormatError, shmap.VersionError)


def exercise(m, entries):
    """Every API over possibly corrupt bytes; returns nothing, raises only format errors."""
    for k in list(entries) + ["nope", "a", "zz" * 9, "k" * 20]:
        m.get(k)
        m.get_bytes(k.encode())
        _ = k in m
        try:
            m.index(k)
        except KeyError:
            pass
    list(m.items())
    list(m.range("a", "z"))
    list(m.prefix("e"))
    for i in range(len(m)):
        m.at(i)
    m.verify()


class CorruptionTests(unittest.TestCase):
    def setUp(self):
        self.entries = golden_entries()
        self.good = shmap.Builder(self.entries).dump()

    def test_every_byte_flipped(self):
        outcomes = {"open": 0, "verify": 0, "ok": 0}
        for i in range(len(self.good)):
            for bit in (0x01, 0x80):
                b = bytearray(self.good)
                b[i] ^= bit
                try:
                    m = shmap.load(bytes(b))
                except ALLOWED:
                    outcomes["open"] += 1
                    continue
                try:
                    exercise(m, self.entries)
                    outcomes["ok"] += 1
                except ALLOWED:
                    outcomes["verify"] += 1
                # whatever a lookup answered, verify() must have rejected the bytes
        self.assertEqual(outcomes["ok"], 0, outcomes)

    def test_every_truncation(self):
        for n in range(len(self.good)):
            with self.assertRaises(ALLOWED):
                shmap.load(self.good[:n])

    def test_hostile_slots_with_valid_checksums_never_escape(self):
        """Slots pointing anywhere, with the header still valid: lookups fail cleanly."""
        import struct
        h = shmap.load(self.good).header
        for target in (0, 1, 127, h.data_offset - 1, h.file_length - 1, h.file_length, 2**32 - 1):
            b = bytearray(self.good)
            for s in range(h.slot_count):
                at = 128 + 8 * s
                slot = struct.unpack_from("<Q", b, at)[0]
                if slot:
                    struct.pack_into("<Q", b, at, (slot >> 32 << 32) | target)
            m = shmap.load(bytes(b))
            for k in self.entries:
                try:
                    m.get(k)
                except shmap.FormatError as e:
                    self.assertEqual(e.field, "record")

    def test_hostile_varints(self):
        """Records whose lengths are overlong, non-minimal or run past the end."""
        d = {"k": "v"}
        good = shmap.Builder(d).dump()
        h = shmap.load(good).header
        for record in (b"\x80\x80\x80\x80\x80", b"\xff\xff\xff\xff\x0f", b"\x81\x00", b"\x05\x05"):
            b = bytearray(good[: h.data_offset]) + record
            # keep the header consistent with the new length
            import struct
            n = len(b)
            struct.pack_into("<Q", b, 16, n)
            struct.pack_into("<Q", b, 88, n - h.data_offset)
            struct.pack_into("<Q", b, 120, shmap.xxh3_64(bytes(b[:120])))
            try:
                m = shmap.load(bytes(b))
            except shmap.FormatError:
                continue
            with self.assertRaises(shmap.FormatError):
                m.get("k")
                list(m.items())


if __name__ == "__main__":
    unittest.main()
