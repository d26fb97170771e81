import io
import os
import random
import unittest

from helpers import TempDirTest, model_items, random_map, random_text
import shmap


def check_against_model(test: unittest.TestCase, m, d: dict, rnd: random.Random, misses: int = 50) -> None:
    """Every key maps to its value, non-keys are absent, scans equal the sorted model."""
    items = model_items(d)
    test.assertEqual(len(m), len(d))
    for k, v in d.items():
        test.assertEqual(m.get(k), v, repr(k))
        test.assertEqual(bytes(m.get_bytes(k.encode())), v.encode())
    for _ in range(misses):
        k = random_text(rnd, 0, 12)
        if k not in d:
            test.assertNotIn(k, m)
            test.assertIsNone(m.get_bytes(k.encode()))
    test.assertEqual(list(m.items()), items)
    keys = [k for k, _ in items]
    for _ in range(10):
        if not keys:
            break
        a, b = sorted(rnd.sample(keys, 2) if len(keys) > 1 else keys * 2, key=lambda s: s.encode())
        test.assertEqual(list(m.range(a, b)), [kv for kv in items if a.encode() <= kv[0].encode() < b.encode()])
        p = a[: rnd.randint(0, len(a))]
        test.assertEqual(list(m.prefix(p)), [kv for kv in items if kv[0].encode().startswith(p.encode())])
        i = rnd.randrange(len(keys))
        test.assertEqual(m.at(i), items[i])
        test.assertEqual(m.index(keys[i]), i)
    m.verify()


class BuilderModelTests(unittest.TestCase):
    def test_random_maps_match_the_model(self):
        seed = int.from_bytes(os.urandom(4), "little")
        rnd = random.Random(seed)
        for n in [0, 1, 2, 3, 7, 50, 300, 2000]:
            with self.subTest(n=n, seed=seed):
                d = random_map(rnd, n)
                b = shmap.Builder(d)
                check_against_model(self, shmap.load(b.dump()), d, rnd)

    def test_edge_cases(self):
        rnd = random.Random(5)
        cases = {
            "empty key and value": {"": ""},
            "control characters": {"\0": "\x01", "\t\n\r": "\x7f", "\x1b[0m": "\x9f"},
            "non-ascii": {"红": "32是", "é": "ü", "😀": "\U0010FFFF", "\uE000": "a", "\U00010000": "b", "\uFFFF": "c"},
            "long values": {"k": "x" * 127, "k2": "y" * 128, "k3": "z" * 16384, "k4": "w" * 2_100_000},
            "long keys": {"k" * 127: "1", "k" * 128: "2", "q" * 300: "3", "r" * 20000: "4"},
            "one entry": {"only": "one"},
        }
        for label, d in cases.items():
            with self.subTest(label):
                check_against_model(self, shmap.load(shmap.Builder(d).dump()), d, rnd)

    def test_utf8_order_differs_from_utf16_order(self):
        d = {"\uFFFF": "bmp", "\U00010000": "astral"}
        m = shmap.load(shmap.Builder(d).dump())
        self.assertEqual(list(m.keys()), ["\uFFFF", "\U00010000"])

    def test_200000_entries(self):
        rnd = random.Random(200000)
        d = {f"k{i:06d}-{rnd.getrandbits(32):08x}": str(i) * rnd.randint(0, 3) for i in range(200000)}
        b = shmap.Builder(d)
        m = shmap.load(b.dump())
        self.assertEqual(len(m), 200000)
        for k, v in d.items():
            if m.get(k) != v:
                self.fail(f"{k!r}: {m.get(k)!r} != {v!r}")
        self.assertEqual(list(m.keys()), sorted(d))
        m.verify()

    def test_builder_api(self):
        b = shmap.Builder()
        b.set("b", "2")
        b["a"] = "1"
        b.set("a", "one")
        self.assertEqual(len(b), 2)
        self.assertEqual(b.get("a"), "one")
        self.assertEqual(b["b"], "2")
        self.assertIsNone(b.get("zz"))
        self.assertIn("a", b)
        self.assertEqual(list(b.items()), [("a", "one"), ("b", "2")])
        self.assertTrue(b.remove("a"))
        self.assertFalse(b.remove("a"))
        del b["b"]
        with self.assertRaises(KeyError):
            del b["b"]
        self.assertEqual(len(b), 0)
        with self.assertRaises(ValueError):
            b.set("\ud800", "x")
        with self.assertRaises(ValueError):
            b.set_bytes(b"\xff", b"x")
        with self.assertRaises(TypeError):
            b.set(b"k", "v")
        b.set_bytes("é".encode(), b"v")
        self.assertEqual(b.get("é"), "v")
        b.set("x", "1")
        with self.assertRaises(RuntimeError):
            for k in b:
                b.set(k + "new", "1")

    def test_same_content_same_bytes_whatever_the_insertion_order(self):
        rnd = random.Random(9)
        d = random_map(rnd, 500)
        items = list(d.items())
        rnd.shuffle(items)
        b2 = shmap.Builder()
        for k, v in items:
            b2.set(k, "temp")
            b2.set(k, v)
        b2.set("extra", "x")
        b2.remove("extra")
        self.assertEqual(shmap.Builder(d).dump(), b2.dump())

    def test_write_to_path_and_stream(self):
        b = shmap.Builder({"a": "1"})
        buf = io.BytesIO()
        b.write_to(buf)
        self.assertEqual(buf.getvalue(), b.dump())
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"shmap-py-{os.getpid()}.shmap")
        try:
            b.write_to(path)
            with shmap.open_file(path) as m:
                self.assertEqual(m["a"], "1")
        finally:
            os.unlink(path)


class PublishTests(TempDirTest):
    def test_share_publish_versions(self):
        b = shmap.Builder({"a": "1"})
        self.assertEqual(b.share("n"), 1)
        with self.assertRaises(shmap.ExistsError):
            b.share("n")
        self.assertEqual(b.share("n", force=True), 2)
        self.assertEqual(b.publish("n"), 3)
        with shmap.open("n") as m:
            self.assertEqual(m.version, 3)
            self.assertGreater(m.published_at, 1_600_000_000_000)
            self.assertTrue(m.is_latest)
            b.publish("n")
            self.assertFalse(m.is_latest)
            m.verify()

    def test_published_bytes_equal_dump_but_for_the_stamp(self):
        b = shmap.Builder({"a": "1", "b": "2"})
        b.publish("stamp")
        with open(os.path.join(self.dir, "stamp.shmap"), "rb") as f:
            published = f.read()
        dump = b.dump()
        self.assertEqual(published[128:], dump[128:])
        self.assertEqual(published[:96], dump[:96])
        self.assertEqual(published[112:120], dump[112:120])

    def test_files_and_modes(self):
        shmap.Builder({"a": "1"}).publish("modes")
        for suffix in (".shmap", ".lock", ".wlock"):
            st = os.stat(os.path.join(self.dir, "modes" + suffix))
            self.assertEqual(st.st_mode & 0o777, 0o600, suffix)
        with open(os.path.join(self.dir, "modes.lock"), "rb") as f:
            control = f.read()
        self.assertEqual(len(control), 64)
        self.assertEqual(control[:8], b"SHMAPCTL")
        self.assertEqual(int.from_bytes(control[8:12], "little"), 2)
        self.assertEqual(int.from_bytes(control[12:16], "little"), 1)
        self.assertEqual(int.from_bytes(control[16:24], "little") % 2, 0)
        self.assertEqual(int.from_bytes(control[24:32], "little"), 1)
        self.assertEqual(os.stat(os.path.join(self.dir, "modes.wlock")).st_size, 0)

    def test_group_read_mode_and_new_directory(self):
        sub = os.path.join(self.dir, "sub")
        shmap.Builder({"a": "1"}).publish("g", sub, file_mode=0o640)
        self.assertEqual(os.stat(sub).st_mode & 0o777, 0o750)
        self.assertEqual(os.stat(os.path.join(sub, "g.shmap")).st_mode & 0o777, 0o640)
        self.assertEqual(os.stat(os.path.join(sub, "g.lock")).st_mode & 0o777, 0o640)
        self.assertEqual(os.stat(os.path.join(sub, "g.wlock")).st_mode & 0o777, 0o600)
        with self.assertRaises(ValueError):
            shmap.Builder().publish("g", sub, file_mode=0o644 | 0o020)
        with self.assertRaises(ValueError):
            shmap.Builder().publish("g", sub, file_mode=0o400)

    def test_delete_keeps_numbering(self):
        b = shmap.Builder({"a": "1"})
        b.publish("d")
        b.publish("d")
        self.assertTrue(shmap.delete("d"))
        self.assertFalse(shmap.delete("d"))
        self.assertFalse(shmap.delete("never"))
        with self.assertRaises(shmap.NotFoundError):
            shmap.open("d")
        self.assertEqual(b.share("d"), 3)

    def test_stale_temp_files_removed_others_kept(self):
        stale = os.path.join(self.dir, ".t.123." + "a" * 32 + ".tmp")
        other = os.path.join(self.dir, ".t.1.123." + "b" * 32 + ".tmp")  # name "t.1"'s
        odd = os.path.join(self.dir, ".t.x." + "a" * 32 + ".tmp")
        for p in (stale, other, odd):
            open(p, "wb").close()
        shmap.Builder().publish("t")
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(other))
        self.assertTrue(os.path.exists(odd))

    def test_damaged_snapshot_is_replaced_numbering_from_control(self):
        b = shmap.Builder({"a": "1"})
        b.publish("dmg")
        b.publish("dmg")
        with open(os.path.join(self.dir, "dmg.shmap"), "r+b") as f:
            f.write(b"garbage")
        self.assertEqual(b.publish("dmg"), 3)

    def test_damaged_control_file_is_laid_out_afresh(self):
        b = shmap.Builder({"a": "1"})
        b.publish("ctl")
        with open(os.path.join(self.dir, "ctl.lock"), "wb") as f:
            f.write(b"junk")
        self.assertEqual(b.publish("ctl"), 2)  # the snapshot's version still counts
        with open(os.path.join(self.dir, "ctl.lock"), "rb") as f:
            self.assertEqual(f.read(8), b"SHMAPCTL")

    def test_format_1_control_file_is_laid_out_afresh_keeping_the_version(self):
        b = shmap.Builder({"a": "1"})
        b.publish("f1")
        b.publish("f1")
        path = os.path.join(self.dir, "f1.lock")
        with open(path, "r+b") as f:
            f.seek(8)
            f.write((1).to_bytes(4, "little"))
        os.unlink(os.path.join(self.dir, "f1.shmap"))
        self.assertEqual(b.publish("f1"), 3)
        with open(path, "rb") as f:
            self.assertEqual(int.from_bytes(f.read(12)[8:], "little"), 2)

    def test_unsafe_snapshot_file_fails_the_publish(self):
        b = shmap.Builder({"a": "1"})
        b.publish("unsafe")
        os.chmod(os.path.join(self.dir, "unsafe.shmap"), 0o620)
        with self.assertRaises(shmap.StoreError):
            b.publish("unsafe")

    def test_odd_sequence_left_by_a_dead_publisher_is_settled(self):
        b = shmap.Builder({"a": "1"})
        b.publish("odd")
        path = os.path.join(self.dir, "odd.lock")
        with open(path, "r+b") as f:
            f.seek(16)
            seq = int.from_bytes(f.read(8), "little")
            f.seek(16)
            f.write((seq + 1).to_bytes(8, "little"))
        b.publish("odd")
        with open(path, "rb") as f:
            f.seek(16)
            after = int.from_bytes(f.read(8), "little")
        self.assertEqual(after % 2, 0)
        self.assertEqual(after, seq + 4)  # settled (+1), then a publish (+2)

    def test_impossible_versions_are_refused(self):
        b = shmap.Builder({"a": "1"})
        b.publish("imp")
        path = os.path.join(self.dir, "imp.lock")
        with open(path, "r+b") as f:
            f.seek(24)
            f.write((2**48 + 1).to_bytes(8, "little"))
        with self.assertRaises(shmap.StoreError) as cm:
            b.publish("imp")
        self.assertIn("imp.lock", str(cm.exception))
        self.assertIn(str(2**48 + 1), str(cm.exception))
        with shmap.open("imp") as m:
            self.assertEqual(m.version, 1)  # nothing changed

    def test_lock_timeout_names_the_holder(self):
        import fcntl
        shmap.Builder().publish("busy")
        fd = os.open(os.path.join(self.dir, "busy.wlock"), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self.assertRaises(shmap.StoreError) as cm:
                shmap.Builder().publish("busy", lock_timeout=0.2)
            self.assertIn(f"process {os.getpid()}", str(cm.exception))
        finally:
            os.close(fd)
        self.assertEqual(shmap.Builder().publish("busy"), 2)


if __name__ == "__main__":
    unittest.main()
