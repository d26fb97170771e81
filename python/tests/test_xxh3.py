import os
import unittest

from helpers import HERE
from shmap._xxh3 import make_key_hasher, xxh3_64


def vector_input(n: int) -> bytes:
    return bytes(((i * 131 + 7) ^ (i >> 8)) & 0xFF for i in range(n))


class Xxh3Tests(unittest.TestCase):
    def test_vectors_all_lengths_and_seeds(self):
        cache = {}
        count = 0
        with open(os.path.join(HERE, "data", "xxh3_vectors.txt")) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                n, seed, expected = line.split()
                n = int(n)
                data = cache.setdefault(n, vector_input(n))
                seed = int(seed, 16)
                self.assertEqual(xxh3_64(data, seed), int(expected, 16), f"length {n} seed {seed:#x}")
                if n <= 320:
                    self.assertEqual(make_key_hasher(seed)(data), int(expected, 16), f"key hasher, length {n} seed {seed:#x}")
                    self.assertEqual(xxh3_64(memoryview(data), seed), int(expected, 16))
                count += 1
        self.assertGreater(count, 1300)

    def test_inputs_of_any_buffer_type_agree(self):
        data = os.urandom(5000)
        h = xxh3_64(data, 7)
        self.assertEqual(xxh3_64(bytearray(data), 7), h)
        self.assertEqual(xxh3_64(memoryview(data), 7), h)

    def test_seed_is_taken_modulo_2_64(self):
        self.assertEqual(xxh3_64(b"abc", -1), xxh3_64(b"abc", 2**64 - 1))


if __name__ == "__main__":
    unittest.main()
