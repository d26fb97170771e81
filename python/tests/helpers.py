"""Shared test helpers: a private tmpfs directory per test, the reference model, random maps."""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

import shmap  # noqa: E402

GOLDEN = os.path.join(ROOT, "tests", "Shmap.Tests", "Golden", "seed.shmap")


def golden_entries() -> dict:
    """The C# GoldenTests entries (seed example plus edge cases)."""
    return {
        "aaa": "323", "zb": "1233", "tes": "32z", "红": "32是", "": "empty key",
        "a\0b": "nul inside", "empty value": "", "long": "L" * 200,
        "\ufffd": "replacement char", "😀": "emoji 😀",
    }


def model_items(d: dict) -> list:
    """The reference: a dict sorted by UTF-8 bytes."""
    return sorted(d.items(), key=lambda kv: kv[0].encode("utf-8"))


_ALPHABET = "abcXYZ019 -_.:/\0\t\n\x7f\x9féü红是😀\U0010FFFD\uE000\uFFFF"


def random_text(rnd: random.Random, lo: int, hi: int) -> str:
    return "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(lo, hi)))


def random_map(rnd: random.Random, n: int, max_key: int = 40, max_value: int = 60) -> dict:
    d = {}
    while len(d) < n:
        d[random_text(rnd, 0, max_key)] = random_text(rnd, 0, max_value)
    return d


class TempDirTest(unittest.TestCase):
    """A private directory under /dev/shm (mode 0700) set as SHMAP_DIR for the test."""

    def setUp(self) -> None:
        root = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.dir = tempfile.mkdtemp(prefix="shmap-pytest-", dir=root)
        os.chmod(self.dir, 0o700)
        self._old = os.environ.get("SHMAP_DIR")
        os.environ["SHMAP_DIR"] = self.dir

    def tearDown(self) -> None:
        if self._old is None:
            os.environ.pop("SHMAP_DIR", None)
        else:
            os.environ["SHMAP_DIR"] = self._old
        shutil.rmtree(self.dir, ignore_errors=True)
