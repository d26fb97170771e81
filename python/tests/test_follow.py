import fcntl
import os
import threading
import time
import unittest

from helpers import TempDirTest
import shmap


def control_word(directory, name, offset=16):
    with open(os.path.join(directory, name + ".lock"), "rb") as f:
        f.seek(offset)
        return int.from_bytes(f.read(8), "little")


def set_control_word(directory, name, value, offset=16):
    with open(os.path.join(directory, name + ".lock"), "r+b") as f:
        f.seek(offset)
        f.write(value.to_bytes(8, "little"))


class FollowTests(TempDirTest):
    def test_follower_switches_to_each_new_version(self):
        b = shmap.Builder({"k": "1"})
        b.publish("f")
        with shmap.follow("f") as f:
            self.assertEqual((f.version, f["k"]), (1, "1"))
            for i in range(2, 6):
                b["k"] = str(i)
                b.publish("f")
                self.assertEqual(f.get("k"), str(i))
                self.assertEqual(f.version, i)
            snap = f.snapshot()
            b["k"] = "later"
            b.publish("f")
            self.assertEqual(f["k"], "later")
            self.assertEqual(snap["k"], "5")  # a snapshot keeps its version
            self.assertEqual(len(f), 1)
            self.assertEqual(list(f.items()), [("k", "later")])

    def test_missing_name(self):
        with self.assertRaises(shmap.NotFoundError):
            shmap.follow("none")

    def test_delete_keeps_last_version_then_republish(self):
        b = shmap.Builder({"k": "1"})
        b.publish("d")
        f = shmap.follow("d")
        shmap.delete("d")
        self.assertTrue(f.is_deleted)
        self.assertEqual(f["k"], "1")
        b["k"] = "2"
        b.publish("d")
        self.assertFalse(f.is_deleted)
        self.assertEqual((f.version, f["k"]), (2, "2"))

    def test_odd_sequence_with_lock_held_looks_again_each_call(self):
        b = shmap.Builder({"k": "1"})
        b.publish("o")
        f = shmap.follow("o")
        seq = control_word(self.dir, "o")
        fd = os.open(os.path.join(self.dir, "o.wlock"), os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a "publisher" between rename and record
            set_control_word(self.dir, "o", seq + 1)
            self.assertEqual(f["k"], "1")
            self.assertEqual(f._seen, seq)  # not handled: the next call looks again
            # the publisher renames a new version in place while the word stays odd
            tmp = shmap.Builder({"k": "2"})
            tmp.write_to(os.path.join(self.dir, "other.bin"))
            with open(os.path.join(self.dir, "other.bin"), "rb") as src:
                data = bytearray(src.read())
            from shmap import _format as F
            h = shmap.load(bytes(data)).header
            data[:128] = F.write_header(h._replace(publish_version=2, published_at=1))
            with open(os.path.join(self.dir, ".o.tmp.x"), "wb") as out:
                out.write(data)
            os.chmod(os.path.join(self.dir, ".o.tmp.x"), 0o600)
            os.rename(os.path.join(self.dir, ".o.tmp.x"), os.path.join(self.dir, "o.shmap"))
            self.assertEqual(f["k"], "2")
        finally:
            os.close(fd)
        # lock released, word still odd: abandoned, handled once
        self.assertEqual(f["k"], "2")
        self.assertEqual(f._seen, seq + 1)

    def test_unreadable_new_snapshot_is_ignored(self):
        b = shmap.Builder({"k": "1"})
        b.publish("bad")
        f = shmap.follow("bad")
        path = os.path.join(self.dir, "bad.shmap")
        b.publish("bad")
        with open(path, "r+b") as out:
            out.write(b"junk")
        self.assertEqual((f.version, f["k"]), (1, "1"))

    def test_wait_for_new_version_inotify_and_polling(self):
        for notifications in (True, False):
            with self.subTest(notifications=notifications):
                name = f"w{int(notifications)}"
                b = shmap.Builder({"k": "1"})
                b.publish(name)
                f = shmap.follow(name, notifications=notifications)
                self.assertIsNone(f.wait_for_new_version(0.05))
                t = threading.Timer(0.1, lambda: b.publish(name))
                t.start()
                start = time.monotonic()
                self.assertEqual(f.wait_for_new_version(10), 2)
                self.assertLess(time.monotonic() - start, 5)
                t.join()
                if notifications:
                    self.assertIsNotNone(f._inotify)
                f.close()


class CompatTests(TempDirTest):
    def test_seed_example_unchanged(self):
        from shmap.compat import rbtree, sharedmap
        m = rbtree()
        self.assertTrue(m.set("aaa", "323"))
        m.set("zb", "1233")
        m.set("tes", "32z")
        m.set("红", "32是")
        self.assertEqual(m.get("tes"), "32z")
        self.assertTrue(m.share("test:3325", force=True))
        self.assertEqual(sharedmap("test:3325").get("红"), "32是")
        self.assertTrue(m.share("test:3325", True))  # force again: next version
        self.assertIsNone(sharedmap("test:3325").get("nope"))
        # the dump is loadable (the seed's was not)
        self.assertEqual(shmap.load(m.dump())["红"], "32是")
        self.assertTrue(rbtree.remove("test:3325"))
        with self.assertRaises(shmap.NotFoundError):
            sharedmap("test:3325")
        self.assertEqual(os.stat(os.path.join(self.dir, "test:3325.lock")).st_mode & 0o777, 0o600)

    def test_seed_program_runs_as_a_script(self):
        import subprocess
        import sys
        from helpers import ROOT
        program = (
            "from shmap.compat import rbtree, sharedmap\n"
            "m = rbtree()\n"
            "m.set('aaa','323'); m.set('zb','1233'); m.set('tes','32z'); m.set('红','32是')\n"
            "print(m.get('tes'))\n"
            "m.share('test:3325', force=True)\n"
            "print(sharedmap('test:3325').get('红'))\n"
        )
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), PYTHONIOENCODING="utf-8")
        out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, check=True)
        self.assertEqual(out.stdout.decode("utf-8").split(), ["32z", "32是"])


if __name__ == "__main__":
    unittest.main()
