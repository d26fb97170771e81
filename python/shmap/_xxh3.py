"""XXH3-64 (xxHash 0.8, ``XXH3_64bits_withSeed``) in pure Python.

Written from the xxHash specification (doc/xxhash_spec.md, "XXH3 algorithm"): the same value as
``System.IO.Hashing.XxHash3.HashToUInt64(data, seed)`` and ``xxhash.xxh3_64_intdigest(data, seed)``
for every length and seed. Keys use the short paths (0 to 240 bytes); checksums of whole snapshot
bodies use the long path, which is written to do its per-lane arithmetic in C-level loops
(``struct.unpack``, ``map``, ``sum``) over many stripes at once rather than one Python operation
per lane.
"""

from __future__ import annotations

import struct
from itertools import accumulate
from operator import mul, sub
from typing import Callable, List, Sequence, Union

Buffer = Union[bytes, bytearray, memoryview]

M64 = 0xFFFFFFFFFFFFFFFF
M32 = 0xFFFFFFFF

PRIME32_1 = 0x9E3779B1
PRIME32_2 = 0x85EBCA77
PRIME32_3 = 0xC2B2AE3D
PRIME64_1 = 0x9E3779B185EBCA87
PRIME64_2 = 0xC2B2AE3D27D4EB4F
PRIME64_3 = 0x165667B19E3779F9
PRIME64_4 = 0x85EBCA77C2B2AE63
PRIME64_5 = 0x27D4EB2F165667C5
PRIME_MX1 = 0x165667919E3779F9
PRIME_MX2 = 0x9FB21C651E98DF25

# kSecret: the 192-byte default secret of XXH3.
K_SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d3165526 29d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e".replace(" ", "")
)
SECRET_SIZE = len(K_SECRET)
assert SECRET_SIZE == 192

_u32 = struct.Struct("<I").unpack_from
_u64 = struct.Struct("<Q").unpack_from
_q2 = struct.Struct("<QQ").unpack_from


def _r64(buf: Buffer, offset: int) -> int:
    return _u64(buf, offset)[0]


def _r32(buf: Buffer, offset: int) -> int:
    return _u32(buf, offset)[0]


def _fold(a: int, b: int) -> int:
    """XXH3_mul128_fold64: the halves of the 128-bit product, xored."""
    p = a * b
    return (p & M64) ^ (p >> 64)


def _avalanche(h: int) -> int:
    """XXH3_avalanche."""
    h &= M64
    h ^= h >> 37
    h = (h * PRIME_MX1) & M64
    return h ^ (h >> 32)


def _xxh64_avalanche(h: int) -> int:
    h &= M64
    h ^= h >> 33
    h = (h * PRIME64_2) & M64
    h ^= h >> 29
    h = (h * PRIME64_3) & M64
    return h ^ (h >> 32)


def _rrmxmx(h: int, length: int) -> int:
    h &= M64
    h ^= ((h << 49) | (h >> 15)) & M64 ^ ((h << 24) | (h >> 40)) & M64
    h = (h * PRIME_MX2) & M64
    h ^= (h >> 35) + length
    h = (h * PRIME_MX2) & M64
    return h ^ (h >> 28)


def _bswap32(x: int) -> int:
    return int.from_bytes(x.to_bytes(4, "little"), "big")


def _bswap64(x: int) -> int:
    return int.from_bytes(x.to_bytes(8, "little"), "big")


def _mix16(data: Buffer, offset: int, secret: bytes, s_offset: int, seed: int) -> int:
    lo, hi = _q2(data, offset)
    slo, shi = _q2(secret, s_offset)
    return _fold(lo ^ ((slo + seed) & M64), hi ^ ((shi - seed) & M64))


def _hash_short(data: Buffer, length: int, seed: int) -> int:
    """Lengths 0..240 with the default secret (the seed is applied inline, as the spec does)."""
    s = K_SECRET
    if length <= 16:
        if length > 8:
            flip1 = ((_r64(s, 24) ^ _r64(s, 32)) + seed) & M64
            flip2 = ((_r64(s, 40) ^ _r64(s, 48)) - seed) & M64
            lo = _r64(data, 0) ^ flip1
            hi = _r64(data, length - 8) ^ flip2
            return _avalanche(length + _bswap64(lo) + hi + _fold(lo, hi))
        if length >= 4:
            seed ^= _bswap32(seed & M32) << 32
            in1 = _r32(data, 0)
            in2 = _r32(data, length - 4)
            flip = ((_r64(s, 8) ^ _r64(s, 16)) - seed) & M64
            return _rrmxmx((in2 + (in1 << 32)) ^ flip, length)
        if length > 0:
            c1 = data[0]
            c2 = data[length >> 1]
            c3 = data[length - 1]
            combined = (c1 << 16) | (c2 << 24) | c3 | (length << 8)
            flip = ((_r32(s, 0) ^ _r32(s, 4)) + seed) & M64
            return _xxh64_avalanche(combined ^ flip)
        return _xxh64_avalanche(seed ^ _r64(s, 56) ^ _r64(s, 64))
    if length <= 128:
        acc = length * PRIME64_1
        if length > 32:
            if length > 64:
                if length > 96:
                    acc += _mix16(data, 48, s, 96, seed)
                    acc += _mix16(data, length - 64, s, 112, seed)
                acc += _mix16(data, 32, s, 64, seed)
                acc += _mix16(data, length - 48, s, 80, seed)
            acc += _mix16(data, 16, s, 32, seed)
            acc += _mix16(data, length - 32, s, 48, seed)
        acc += _mix16(data, 0, s, 0, seed)
        acc += _mix16(data, length - 16, s, 16, seed)
        return _avalanche(acc)
    # 129..240
    acc = length * PRIME64_1
    rounds = length // 16
    for i in range(8):
        acc += _mix16(data, 16 * i, s, 16 * i, seed)
    acc = _avalanche(acc)
    for i in range(8, rounds):
        acc += _mix16(data, 16 * i, s, 16 * (i - 8) + 3, seed)
    acc += _mix16(data, length - 16, s, 136 - 17, seed)
    return _avalanche(acc)


def _custom_secret(seed: int) -> bytes:
    """XXH3_initCustomSecret: the default secret with the seed added to even words, subtracted from odd ones."""
    if seed == 0:
        return K_SECRET
    words = struct.unpack("<24Q", K_SECRET)
    out = [((w + seed) if i % 2 == 0 else (w - seed)) & M64 for i, w in enumerate(words)]
    return struct.pack("<24Q", *out)


STRIPE = 64
STRIPES_PER_BLOCK = (SECRET_SIZE - STRIPE) // 8  # 16
BLOCK = STRIPE * STRIPES_PER_BLOCK  # 1024
_SCRAMBLE_AT = SECRET_SIZE - STRIPE  # 128
_LAST_STRIPE_AT = SECRET_SIZE - STRIPE - 7  # 121
_MERGE_AT = 11

# Blocks processed per batch by the long hash: 64 KiB of input per C-level pass.
_BATCH_BLOCKS = 64


class _LongState:
    """Per-secret tables for the long hash: the xor key of a whole block as one integer."""

    __slots__ = ("secret", "block_key", "batch_key", "scramble", "last_words", "merge")

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        # Stripe n of a block is xored with secret[8n : 8n+64]: concatenate those windows.
        key = b"".join(secret[8 * n: 8 * n + STRIPE] for n in range(STRIPES_PER_BLOCK))
        self.block_key = key
        self.batch_key = int.from_bytes(key * _BATCH_BLOCKS, "little")
        self.scramble = struct.unpack_from("<8Q", secret, _SCRAMBLE_AT)
        self.last_words = struct.unpack_from("<8Q", secret, _LAST_STRIPE_AT)
        self.merge = struct.unpack_from("<8Q", secret, _MERGE_AT)


_states: dict = {}


def _state(seed: int) -> _LongState:
    st = _states.get(seed)
    if st is None:
        st = _LongState(_custom_secret(seed))
        if len(_states) < 16:
            _states[seed] = st
    return st


def _stripes_sums(data: Buffer, start: int, nstripes: int, key_int: int, acc: List[int]) -> None:
    """Adds to acc the contributions of nstripes consecutive stripes at data[start:] whose
    per-stripe secret windows are concatenated in key_int (one stripe's key per 64 bytes)."""
    nbytes = nstripes * STRIPE
    chunk = bytes(data[start: start + nbytes]) if not isinstance(data, bytes) else data[start: start + nbytes]
    x = int.from_bytes(chunk, "little") ^ (key_int & ((1 << (8 * nbytes)) - 1))
    halves = struct.unpack("<%dI" % (nstripes * 16), x.to_bytes(nbytes, "little"))
    products = list(map(mul, halves[0::2], halves[1::2]))
    words = struct.unpack("<%dQ" % (nstripes * 8), chunk)
    for i in range(8):
        acc[i] += sum(products[i::8])
        acc[i ^ 1] += sum(words[i::8])


def _scramble(acc: List[int], keys: Sequence[int]) -> None:
    for i in range(8):
        a = acc[i] & M64
        a ^= a >> 47
        a ^= keys[i]
        acc[i] = (a * PRIME32_1) & M64


def _hash_long(data: Buffer, length: int, seed: int) -> int:
    st = _state(seed)
    acc = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1]
    nblocks = (length - 1) // BLOCK
    block_key = int.from_bytes(st.block_key, "little")
    b = 0
    while b < nblocks:
        # A batch of blocks: the xor and the 32x32 products of all of them in C-level passes,
        # then the per-block sums and scrambles (the only sequential part).
        n = min(_BATCH_BLOCKS, nblocks - b)
        start = b * BLOCK
        chunk = data[start: start + n * BLOCK]
        if not isinstance(chunk, bytes):
            chunk = bytes(chunk)
        nbytes = n * BLOCK
        key = st.batch_key if n == _BATCH_BLOCKS else st.batch_key & ((1 << (8 * nbytes)) - 1)
        x = int.from_bytes(chunk, "little") ^ key
        halves = struct.unpack("<%dI" % (nbytes // 4), x.to_bytes(nbytes, "little"))
        products = list(map(mul, halves[0::2], halves[1::2]))
        words = struct.unpack("<%dQ" % (nbytes // 8), chunk)
        # Per lane, the sums of each block's 16 stripes: running sums over the batch's lane
        # values (C-level accumulate), differenced at block boundaries.
        lanes = []
        for seq in (products, words):
            for i in range(8):
                pre = list(accumulate(seq[i::8], initial=0))
                lanes.append(list(map(sub, pre[16::16], pre[:-16:16])))
        k0, k1, k2, k3, k4, k5, k6, k7 = st.scramble
        a0, a1, a2, a3, a4, a5, a6, a7 = acc
        # Block k: acc[i] += products of lane i + words of lane i^1, then the scramble.
        for p0, p1, p2, p3, p4, p5, p6, p7, w0, w1, w2, w3, w4, w5, w6, w7 in zip(*lanes):
            a0 = (a0 + p0 + w1) & M64
            a1 = (a1 + p1 + w0) & M64
            a2 = (a2 + p2 + w3) & M64
            a3 = (a3 + p3 + w2) & M64
            a4 = (a4 + p4 + w5) & M64
            a5 = (a5 + p5 + w4) & M64
            a6 = (a6 + p6 + w7) & M64
            a7 = (a7 + p7 + w6) & M64
            a0 = (((a0 ^ (a0 >> 47)) ^ k0) * PRIME32_1) & M64
            a1 = (((a1 ^ (a1 >> 47)) ^ k1) * PRIME32_1) & M64
            a2 = (((a2 ^ (a2 >> 47)) ^ k2) * PRIME32_1) & M64
            a3 = (((a3 ^ (a3 >> 47)) ^ k3) * PRIME32_1) & M64
            a4 = (((a4 ^ (a4 >> 47)) ^ k4) * PRIME32_1) & M64
            a5 = (((a5 ^ (a5 >> 47)) ^ k5) * PRIME32_1) & M64
            a6 = (((a6 ^ (a6 >> 47)) ^ k6) * PRIME32_1) & M64
            a7 = (((a7 ^ (a7 >> 47)) ^ k7) * PRIME32_1) & M64
        acc = [a0, a1, a2, a3, a4, a5, a6, a7]
        del lanes
        b += n
        del x, halves, products, words, chunk
    # The last partial block, then the last stripe (which may overlap it).
    start = nblocks * BLOCK
    nstripes = ((length - 1) - start) // STRIPE
    if nstripes:
        _stripes_sums(data, start, nstripes, block_key, acc)
    last = struct.unpack_from("<8Q", data, length - STRIPE)
    lw = st.last_words
    for i in range(8):
        v = last[i]
        k = v ^ lw[i]
        acc[i ^ 1] += v
        acc[i] += (k & M32) * (k >> 32)
    m = st.merge
    result = length * PRIME64_1
    for i in range(4):
        result += _fold((acc[2 * i] & M64) ^ m[2 * i], (acc[2 * i + 1] & M64) ^ m[2 * i + 1])
    return _avalanche(result)


def xxh3_64(data: Buffer, seed: int = 0) -> int:
    """XXH3-64 of ``data`` (any bytes-like object) with a 64-bit ``seed`` (taken modulo 2**64)."""
    seed &= M64
    length = len(data) if not isinstance(data, memoryview) else data.nbytes
    if length <= 240:
        return _hash_short(data, length, seed)
    return _hash_long(data, length, seed)


def make_key_hasher(seed: int) -> Callable[[bytes], int]:
    """A hash function of ``bytes`` keys for one seed, with the short-length paths' seed-dependent
    constants computed once (as the C# ``KeyHasher`` does). Equal to ``xxh3_64(key, seed)``."""
    seed &= M64
    s = K_SECRET
    flip1 = ((_r64(s, 24) ^ _r64(s, 32)) + seed) & M64
    flip2 = ((_r64(s, 40) ^ _r64(s, 48)) - seed) & M64
    ml0 = (_r64(s, 0) + seed) & M64
    mh0 = (_r64(s, 8) - seed) & M64
    ml16 = (_r64(s, 16) + seed) & M64
    mh16 = (_r64(s, 24) - seed) & M64
    seed48 = seed ^ (_bswap32(seed & M32) << 32)
    flip48 = ((_r64(s, 8) ^ _r64(s, 16)) - seed48) & M64
    from_bytes = int.from_bytes
    general = xxh3_64

    def key_hash(key: bytes) -> int:
        n = len(key)
        if 8 < n <= 32:
            x = from_bytes(key, "little")
            if n <= 16:
                lo = (x & M64) ^ flip1
                hi = (x >> ((n - 8) << 3)) ^ flip2
                p = lo * hi
                # bswap(lo) = big-endian read of the first 8 bytes, xored with the swapped flip.
                acc = (n + from_bytes(lo.to_bytes(8, "little"), "big") + hi + ((p & M64) ^ (p >> 64))) & M64
            else:
                p = ((x & M64) ^ ml0) * (((x >> 64) & M64) ^ mh0)
                shift = (n - 16) << 3
                q = (((x >> shift) & M64) ^ ml16) * ((x >> (shift + 64)) ^ mh16)
                acc = (n * PRIME64_1 + ((p & M64) ^ (p >> 64)) + ((q & M64) ^ (q >> 64))) & M64
            acc ^= acc >> 37
            acc = (acc * PRIME_MX1) & M64
            return acc ^ (acc >> 32)
        if 4 <= n <= 8:
            in1 = from_bytes(key[:4], "little")
            in2 = from_bytes(key[n - 4:], "little")
            h = (in2 + (in1 << 32)) ^ flip48
            h ^= ((h << 49) | (h >> 15)) & M64 ^ ((h << 24) | (h >> 40)) & M64
            h = (h * PRIME_MX2) & M64
            h ^= (h >> 35) + n
            h = (h * PRIME_MX2) & M64
            return h ^ (h >> 28)
        return general(key, seed)

    return key_hash
