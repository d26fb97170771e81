import os
import unittest

from helpers import TempDirTest
import shmap
from shmap import _store


class NameTests(unittest.TestCase):
    def test_valid_names(self):
        # An astral format character (U+E0001) passes, as in C# (which tests UTF-16 units).
        for name in ["a", "test:3325", "红", "x" * 200, "é" * 100, "a.b", "..a", "😀", " ", "a\U000E0001"]:
            _store.validate_name(name)

    def test_invalid_names(self):
        for name in ["", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", "\x7f", "\x85", "x" * 201, "é" * 101, "\ud800",
                     "a\u202eb", "\u200d", "\ufeffx", "\u2066"]:
            with self.subTest(name=name), self.assertRaises(ValueError):
                _store.validate_name(name)
        with self.assertRaises(TypeError):
            _store.validate_name(b"a")


class DefaultDirectoryTests(unittest.TestCase):
    def setUp(self):
        self.saved = {k: os.environ.get(k) for k in ("SHMAP_DIR", "XDG_RUNTIME_DIR")}

    def tearDown(self):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_order(self):
        os.environ["SHMAP_DIR"] = "/x/y"
        os.environ["XDG_RUNTIME_DIR"] = "/run/user/5"
        self.assertEqual(shmap.default_directory(), "/x/y")
        os.environ["SHMAP_DIR"] = ""
        self.assertEqual(shmap.default_directory(), "/run/user/5/shmap")
        os.environ["XDG_RUNTIME_DIR"] = "relative"
        self.assertEqual(shmap.default_directory(), f"/dev/shm/shmap-{os.geteuid()}")
        os.environ.pop("XDG_RUNTIME_DIR")
        os.environ.pop("SHMAP_DIR")
        self.assertEqual(shmap.default_directory(), f"/dev/shm/shmap-{os.geteuid()}")


class CheckTests(TempDirTest):
    def test_directory_symlink_refused(self):
        real = os.path.join(self.dir, "real")
        os.mkdir(real, 0o700)
        link = os.path.join(self.dir, "link")
        os.symlink(real, link)
        with self.assertRaises(shmap.StoreError) as cm:
            shmap.Builder().publish("n", link)
        self.assertIn("symbolic link", str(cm.exception))
        with self.assertRaises(shmap.StoreError):
            shmap.open("n", link)

    def test_directory_writable_by_others_refused_unless_sticky(self):
        d = os.path.join(self.dir, "open")
        os.mkdir(d)
        os.chmod(d, 0o777)
        with self.assertRaises(shmap.StoreError) as cm:
            shmap.Builder().publish("n", d)
        self.assertIn("chmod go-w", str(cm.exception))
        os.chmod(d, 0o1777)
        self.assertEqual(shmap.Builder({"a": "1"}).publish("n", d), 1)

    def test_not_a_directory(self):
        f = os.path.join(self.dir, "file")
        open(f, "w").close()
        with self.assertRaises(shmap.StoreError):
            shmap.Builder().publish("n", f)

    def test_snapshot_symlink_fifo_and_group_writable_refused(self):
        shmap.Builder({"a": "1"}).publish("target")
        os.symlink(os.path.join(self.dir, "target.shmap"), os.path.join(self.dir, "link.shmap"))
        with self.assertRaises(shmap.StoreError):
            shmap.open("link")
        os.mkfifo(os.path.join(self.dir, "fifo.shmap"), 0o600)
        with self.assertRaises(shmap.StoreError) as cm:
            shmap.open("fifo")  # O_NONBLOCK: never hangs on a FIFO
        self.assertIn("not a regular file", str(cm.exception))
        os.chmod(os.path.join(self.dir, "target.shmap"), 0o620)
        with self.assertRaises(shmap.StoreError) as cm:
            shmap.open("target")
        self.assertIn("writable by group or other users", str(cm.exception))

    def test_foreign_owner_refused_unless_trusted(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to chown")
        shmap.Builder({"a": "1"}).publish("own")
        os.chown(os.path.join(self.dir, "own.shmap"), 12345, -1)
        with self.assertRaises(shmap.StoreError) as cm:
            shmap.open("own")
        self.assertIn("user 12345", str(cm.exception))
        with shmap.open("own", trusted_owners=[12345]) as m:
            self.assertEqual(m["a"], "1")

    def test_reader_does_not_create_directory(self):
        d = os.path.join(self.dir, "none")
        with self.assertRaises(shmap.NotFoundError):
            shmap.open("x", d)
        self.assertFalse(os.path.exists(d))


if __name__ == "__main__":
    unittest.main()
