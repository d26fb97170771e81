import os
import struct
import unittest

from helpers import GOLDEN, TempDirTest, golden_entries, model_items
import shmap
from shmap import _format as F


class GoldenTests(unittest.TestCase):
    def test_builder_reproduces_golden_file_byte_for_byte(self):
        with open(GOLDEN, "rb") as f:
            golden = f.read()
        self.assertEqual(shmap.Builder(golden_entries()).dump(), golden)

    def test_open_file_golden_reads_every_entry(self):
        with shmap.open_file(GOLDEN) as m:
            self.assertEqual(list(m.items()), model_items(golden_entries()))
            self.assertEqual(m["红"], "32是")
            self.assertEqual(m.version, 0)
            self.assertIsNone(m.published_at)
            self.assertTrue(m.is_latest)
            m.verify()

    def test_load_golden_queries(self):
        with open(GOLDEN, "rb") as f:
            m = shmap.load(f.read())
        keys = [k for k, _ in model_items(golden_entries())]
        self.assertEqual(list(m.keys()), keys)
        self.assertEqual(list(m.values()), [golden_entries()[k] for k in keys])
        for i, k in enumerate(keys):
            self.assertEqual(m.index(k), i)
            self.assertEqual(m.at(i), (k, golden_entries()[k]))
        self.assertEqual(m.at(-1), (keys[-1], golden_entries()[keys[-1]]))
        with self.assertRaises(IndexError):
            m.at(len(keys))
        with self.assertRaises(KeyError):
            m.index("nope")
        with self.assertRaises(KeyError):
            m["nope"]
        self.assertIsNone(m.get("aa"))
        self.assertEqual(m.get("aa", "d"), "d")
        self.assertNotIn("红红", m)
        self.assertNotIn(b"aaa", m)
        self.assertNotIn("\ud800", m)  # a lone surrogate is never stored
        self.assertIsNone(m.get("\ud800"))
        self.assertEqual(bytes(m.get_bytes("红".encode())), "32是".encode())
        self.assertIsNone(m.get_bytes(b"\xff"))
        self.assertEqual(list(m.prefix("e")), [("empty value", "")])
        self.assertEqual([k for k, _ in m.range("a", "long")], ["a\0b", "aaa", "empty value"])
        self.assertEqual([k for k, _ in m.range(None, "a")], [""])
        self.assertEqual([k for k, _ in m.range("zb", None)], ["zb", "红", "\ufffd", "😀"])
        self.assertEqual(list(m.range("z", "a")), [])
        self.assertEqual(len(m), 10)


class SeedTests(unittest.TestCase):
    def test_lookups_use_the_header_seed_for_every_key_length(self):
        from shmap._builder import _Plan
        d = {("k" * n)[:n] if n % 2 else bytes(range(65, 65 + n % 60)).decode() * (n // 60 + 1): str(n) for n in range(0, 300)}
        d = {k: v for k, v in d.items()}
        keys = sorted(k.encode() for k in d)
        for seed in (0, 1, 2**64 - 1, 0x9E3779B97F4A7C15):
            with self.subTest(seed=seed):
                plan = _Plan(keys, [d[k.decode()].encode() for k in keys], seed)
                m = shmap.load(plan.header_bytes() + plan.body)
                self.assertEqual(m.header.seed, seed)
                for k, v in d.items():
                    self.assertEqual(m.get(k), v, (len(k), seed))
                    self.assertEqual(bytes(m.get_bytes(k.encode())), v.encode())
                    self.assertEqual(m.index(k), keys.index(k.encode()))
                self.assertIsNone(m.get("x" * 17))
                m.verify()


class OpenChecksTests(unittest.TestCase):
    def setUp(self):
        self.good = shmap.Builder({"a": "1", "bb": "22"}).dump()

    def patched(self, offset, fmt, value, fix_checksum=True):
        b = bytearray(self.good)
        struct.pack_into(fmt, b, offset, value)
        if fix_checksum:
            struct.pack_into("<Q", b, F.OFF_HEADER_CHECKSUM, shmap.xxh3_64(bytes(b[:120])))
        return bytes(b)

    def assertField(self, data, field):
        with self.assertRaises(shmap.FormatError) as cm:
            shmap.load(data)
        self.assertEqual(cm.exception.field, field, str(cm.exception))
        return cm.exception

    def test_short_and_empty(self):
        e = self.assertField(b"", "header")
        self.assertEqual(e.offset, 0)
        self.assertIn("0 bytes", e.found)
        self.assertField(self.good[:127], "header")

    def test_magic(self):
        e = self.assertField(b"X" + self.good[1:], "magic")
        self.assertEqual(e.expected, "8953484D41500D0A")

    def test_version_is_a_distinct_error(self):
        with self.assertRaises(shmap.VersionError) as cm:
            shmap.load(self.patched(8, "<H", 2))
        self.assertEqual((cm.exception.expected, cm.exception.actual), (1, 2))

    def test_header_checksum(self):
        e = self.assertField(self.patched(24, "<Q", 3, fix_checksum=False), "header_checksum")
        self.assertEqual(e.offset, 120)

    def test_each_field(self):
        cases = [
            (10, "<H", 64, "header_size"), (12, "<I", 1, "flags"), (42, "<H", 1, "reserved"),
            (16, "<Q", len(self.good) + 1, "file_length"), (24, "<Q", 2**31, "count"),
            (40, "<B", 33, "offset_bits"), (41, "<B", 8, "index_width"), (64, "<Q", 0, "slots_offset"),
            (56, "<Q", 2**60, "slot_count"), (72, "<Q", 0, "index_offset"), (80, "<Q", 0, "data_offset"),
            (88, "<Q", 1, "data_length"), (48, "<Q", 0, "home_slots"), (44, "<I", 2**32 - 1, "max_probe"),
            (96, "<Q", 2**63, "publish_version"), (104, "<q", 253402300800000, "published_at"),
            (104, "<q", -62135596800001, "published_at"),
        ]
        for offset, fmt, value, field in cases:
            with self.subTest(field=field, value=value):
                e = self.assertField(self.patched(offset, fmt, value), field)
                self.assertEqual(e.field, field)

    def test_message_names_field_offset_expected_found(self):
        e = self.assertField(self.patched(12, "<I", 5), "flags")
        self.assertEqual((e.offset, e.expected, e.found), (12, "0", "5"))
        self.assertIn("field 'flags' at byte offset 12: expected 0, found 5", str(e))

    def test_verify_detects_body_change(self):
        b = bytearray(self.good)
        b[-1] ^= 1
        m = shmap.load(bytes(b))
        with self.assertRaises(shmap.FormatError) as cm:
            m.verify()
        self.assertEqual(cm.exception.field, "body_checksum")


class LifetimeTests(TempDirTest):
    def test_close_then_calls_raise_value_error(self):
        shmap.Builder({"k": "v"}).publish("life")
        m = shmap.open("life")
        m.close()
        m.close()
        with self.assertRaises(ValueError):
            m.get("k")
        with self.assertRaises(ValueError):
            list(m.items())

    def test_get_bytes_view_outlives_close(self):
        shmap.Builder({"k": "value"}).publish("life2")
        with shmap.open("life2") as m:
            view = m.get_bytes(b"k")
        self.assertEqual(bytes(view), b"value")  # the mapping goes with the last view
        view.release()

    def test_open_missing_name(self):
        with self.assertRaises(shmap.NotFoundError) as cm:
            shmap.open("missing")
        self.assertTrue(cm.exception.path.endswith("missing.shmap"))
        os.environ["SHMAP_DIR"] = os.path.join(self.dir, "absent")
        with self.assertRaises(shmap.NotFoundError):
            shmap.open("missing")

    def test_open_file_missing(self):
        with self.assertRaises(FileNotFoundError):
            shmap.open_file(os.path.join(self.dir, "nope.shmap"))


if __name__ == "__main__":
    unittest.main()
