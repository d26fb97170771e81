"""Reading snapshots: :class:`SharedMap`, one immutable version of a string map.

The bytes are never trusted. Opening makes every check of FORMAT.md "Opening" (O(1)); each read
checks the slot, index entry and record it touches against the validated section limits, so a
corrupt snapshot raises :class:`~shmap.errors.FormatError` instead of reading outside the mapping,
and every loop is bounded by validated header fields. :meth:`SharedMap.verify` checks the rest.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
from typing import Iterator, Optional, Tuple, Union

from . import _format as F
from ._control import ControlView
from ._store import Names, open_directory, open_in
from ._xxh3 import M64, PRIME64_1, PRIME_MX1, PRIME_MX2, K_SECRET, make_key_hasher, xxh3_64, _r64, _bswap32
from .errors import FormatError, NotFoundError

_LITTLE = sys.byteorder == "little"
_u32 = struct.Struct("<I").unpack_from
_u64 = struct.Struct("<Q").unpack_from

Entry = Tuple[str, str]
M32 = 0xFFFFFFFF


def _read_varint(buf, p: int, end: int, record: int) -> Tuple[int, int]:
    """A minimal LEB128 of at most 5 bytes, at most 2**31-1, ending before ``end``: (value, next)."""
    result = 0
    for i in range(F.MAX_VARINT_LENGTH):
        if p + i >= end:
            break
        b = buf[p + i]
        result |= (b & 0x7F) << (7 * i)
        if b < 0x80:
            if result > F.MAX_ITEM_LENGTH or (i > 0 and b == 0):
                raise FormatError("record", record, "a minimal LEB128 length of at most 2^31-1", "bytes that do not fit")
            return result, p + i + 1
    raise FormatError("record", record, "a LEB128 length of at most 5 bytes inside the data section", "bytes that do not fit")


class _Layout:
    """The validated numbers of one snapshot and the views over its sections."""

    __slots__ = ("buf", "view", "slots", "index", "header")

    def __init__(self, buf, header: F.Header) -> None:
        self.buf = buf
        self.header = header
        view = memoryview(buf)
        self.view = view
        if _LITTLE:
            self.slots = view[header.slots_offset: header.index_offset].cast("Q")
            self.index = view[header.index_offset: header.data_offset].cast("I" if header.index_width == 4 else "Q")
        else:  # pragma: no cover - big-endian hosts read through struct
            self.slots = _Words(buf, header.slots_offset, header.slot_count, 8)
            self.index = _Words(buf, header.index_offset, header.count, header.index_width)

    def release(self) -> None:
        for v in (self.slots, self.index, self.view):
            if isinstance(v, memoryview):
                v.release()


class _Words:  # pragma: no cover - big-endian hosts only
    """Little-endian u32/u64 words read through struct (where a native cast would be wrong)."""

    def __init__(self, buf, start: int, count: int, width: int) -> None:
        self._buf, self._start, self._count, self._width = buf, start, count, width
        self._unpack = (_u32 if width == 4 else _u64)

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self._count:
            raise IndexError(i)
        return self._unpack(self._buf, self._start + i * self._width)[0]


# The hash of a key ``kb`` of ``n`` bytes into ``hv``: XXH3-64 with the snapshot's seed, the
# 4-32-byte paths written out with their seed constants precomputed (make_key_hasher for the rest).
# It is pasted into each lookup below (a call and its argument passing cost a lookup more than a
# quarter of the hash's own arithmetic in CPython), so it is kept here once, as text.
_HASH = """
    if 16 < n <= 32:
        w0, w1 = U2(kb)
        w2, w3 = U2(kb, n - 16)
        p = (w0 ^ ml0) * (w1 ^ mh0)
        q = (w2 ^ ml16) * (w3 ^ mh16)
        acc = (NP1[n] + ((p & M64) ^ (p >> 64)) + ((q & M64) ^ (q >> 64))) & M64
        acc ^= acc >> 37
        acc = (acc * MX1) & M64
        hv = acc ^ (acc >> 32)
    elif 8 < n:
        if n <= 16:
            sh = SH9[n]
            x = from_bytes(kb, "little")
            lo = (x & M64) ^ flip1
            hi = (x >> sh) ^ flip2
            p = lo * hi
            acc = (n + ((from_bytes(kb, "big") >> sh) ^ flip1_swapped) + hi + ((p & M64) ^ (p >> 64))) & M64
            acc ^= acc >> 37
            acc = (acc * MX1) & M64
            hv = acc ^ (acc >> 32)
        else:
            hv = hasher(kb)
    elif 4 <= n:
        hv = (from_bytes(kb[n - 4:], "little") | (from_bytes(kb[:4], "little") << 32)) ^ flip48
        hv ^= ((hv << 49) | (hv >> 15)) & M64 ^ ((hv << 24) | (hv >> 40)) & M64
        hv = (hv * MX2) & M64
        hv ^= (hv >> 35) + n
        hv = (hv * MX2) & M64
        hv ^= hv >> 28
    else:
        hv = hasher(kb)
"""

# The probe of FORMAT.md "Lookup": from the home slot, at most max_probe + 1 slots, stopping at an
# empty slot or a larger tag; a tag match reads the record (bounds checked: IndexError from a
# record offset or length byte past the end becomes the format error) and compares the key. An
# empty slot (0) has tag 0, so it is told apart only where the tags compare equal or smaller.
# On a hit it runs ``FOUND`` with the value at buf[vs:ve]; on a miss ``MISSING``.
_PROBE = """
    i = (hv * home_slots) >> 64
    tag = hv >> bits
    end = i + probe_limit
    if end > slot_count:
        end = slot_count
    try:
        while i < end:
            sl = slots[i]
            t = sl >> bits
            if t == tag:
                if not sl:
                    break
                o = sl & mask
                if o < data_offset:
                    raise record_error(o)
                kl = buf[o]
                vl = buf[o + 1]
                if (kl | vl) < 0x80:
                    ks = o + 2
                else:
                    kl, ks = read_varint(buf, o, file_length, o)
                    vl, ks = read_varint(buf, ks, file_length, o)
                vs = ks + kl
                ve = vs + vl
                if ve > file_length:
                    raise record_error(o, ve - o)
                if buf[ks: vs] == kb:
                    FOUND
            elif t > tag or not sl:
                break
            i += 1
    except IndexError:
        raise record_error(o) from None
    MISSING
"""

_TEMPLATES = {
    "get": ("key, default=None", """
    try:
        kb = key.encode()
    except UnicodeEncodeError:  # a lone surrogate: never stored
        return default
    except AttributeError:
        raise TypeError(f"keys are str, not {type(key).__name__}") from None
    n = len(kb)
""", """
                    v = buf[vs: ve]
                    try:
                        return v.decode()
                    except UnicodeDecodeError:  # the snapshot's bytes are not trusted
                        return v.decode("utf-8", "replace")
""", "return default"),
    "get_bytes": ("key, default=None", """
    kb = key if type(key) is bytes else bytes(key)
    n = len(kb)
""", "return view[vs: ve]", "return default"),
    "find": ("kb", """
    n = len(kb)
""", "return (vs << 32) | vl", "return -1"),
    "find_offset": ("kb", """
    n = len(kb)
""", "return o", "return 0"),
}


_FACTORY_ARGS = (
    "buf", "slots", "home_slots", "bits", "mask", "slot_count", "probe_limit", "data_offset",
    "file_length", "hasher", "flip1", "flip2", "flip1_swapped", "ml0", "mh0", "ml16", "mh16",
    "flip48", "record_error", "view",
)


def _factory_source() -> str:
    """Source of ``_lookup_factory(<numbers of one snapshot>) -> (get, find, find_offset)``."""
    out = [f"def _lookup_factory({', '.join(_FACTORY_ARGS)}):"]
    for name, (args, head, found, missing) in _TEMPLATES.items():
        found = found.strip("\n")
        if "\n" not in found:
            found = "                    " + found
        probe = _PROBE.replace("MISSING", missing).replace("                    FOUND", found)
        body = (head + _HASH + probe).rstrip("\n")
        out.append(f"    def {name}({args}):")
        out.extend(("    " + line) if line.strip() else "" for line in body.split("\n"))
    out.append("    return " + ", ".join(_TEMPLATES))
    return "\n".join(out) + "\n"


_lookup_globals = {
    "from_bytes": int.from_bytes, "M64": M64, "MX1": PRIME_MX1, "MX2": PRIME_MX2,
    "NP1": [(n * PRIME64_1) for n in range(33)], "SH17": [max(n - 16, 0) << 3 for n in range(33)],
    "SH9": [max(n - 8, 0) << 3 for n in range(17)], "read_varint": _read_varint,
    "U2": struct.Struct("<QQ").unpack_from,
}
exec(compile(_factory_source(), "<shmap lookups>", "exec"), _lookup_globals)  # noqa: S102 - our own text
_lookup_factory = _lookup_globals["_lookup_factory"]


def _make_lookups(lay: _Layout):
    """The lookups of one snapshot: ``get``, ``find`` and ``find_offset`` from the factory above
    (closures over the snapshot's validated numbers: the fastest variables CPython has), and the
    record readers used by scans and verification."""
    h = lay.header
    buf = lay.buf
    seed = h.seed & M64
    file_length = h.file_length
    data_offset = h.data_offset
    hasher = make_key_hasher(seed)
    s = K_SECRET
    flip1 = ((_r64(s, 24) ^ _r64(s, 32)) + seed) & M64
    read_varint = _read_varint

    def record_error(o: int, found_len: Optional[int] = None):
        if found_len is None:
            return FormatError("record", o, "a record offset inside the data section", "bytes that do not fit")
        return FormatError("record", o, f"a record of {found_len} bytes within the {file_length - o} bytes left", "bytes that do not fit")

    get, get_bytes, find, find_offset = _lookup_factory(
        buf, lay.slots, h.home_slots, h.offset_bits, (1 << h.offset_bits) - 1, h.slot_count,
        h.max_probe + 1, data_offset, file_length, hasher, flip1,
        ((_r64(s, 40) ^ _r64(s, 48)) - seed) & M64,
        int.from_bytes(flip1.to_bytes(8, "little"), "big"),
        (_r64(s, 0) + seed) & M64, (_r64(s, 8) - seed) & M64,
        (_r64(s, 16) + seed) & M64, (_r64(s, 24) - seed) & M64,
        ((_r64(s, 8) ^ _r64(s, 16)) - (seed ^ (_bswap32(seed & M32) << 32))) & M64,
        record_error, lay.view)

    def read_record(o: int) -> Tuple[bytes, bytes]:
        """Key and value bytes of the record at ``o``, every bound checked."""
        if o < data_offset or o >= file_length:
            raise record_error(o)
        kl, q = read_varint(buf, o, file_length, o)
        vl, q = read_varint(buf, q, file_length, o)
        if q + kl + vl > file_length:
            raise record_error(o, q - o + kl + vl)
        return buf[q: q + kl], buf[q + kl: q + kl + vl]

    def record_end(o: int) -> int:
        if o < data_offset or o >= file_length:
            raise record_error(o)
        kl, q = read_varint(buf, o, file_length, o)
        vl, q = read_varint(buf, q, file_length, o)
        if q + kl + vl > file_length:
            raise record_error(o, q - o + kl + vl)
        return q + kl + vl

    return get, get_bytes, find, find_offset, read_record, record_end, hasher


class SharedMap:
    """One immutable snapshot of a string map (the seed's ``sharedmap``), opened by name
    (:func:`shmap.open`), from a file (:func:`shmap.open_file`) or from bytes (:func:`shmap.load`).

    Reads like a read-only ``dict`` whose keys are ordered by their UTF-8 bytes: ``m[key]``,
    ``m.get(key)``, ``key in m``, ``len(m)``, iteration; plus ``range``, ``prefix``, ``at``,
    ``index``, ``get_bytes`` (a ``memoryview`` into the mapping, no copy) and ``verify``. Use it as
    a context manager, or call :meth:`close`, to unmap it.
    """

    def __init__(self, buf, length: int, *, mm: Optional[mmap.mmap] = None, names: Optional[Names] = None,
                 path: Optional[str] = None) -> None:
        header = F.parse_header(buf, length)
        self._mm = mm
        self._names = names
        self._control: Optional[ControlView] = None
        self.path = path
        self._lay = _Layout(buf, header)
        self._header = header
        self._count = header.count
        (self.get, self.get_bytes, self._find, self._find_offset, self._read_record, self._record_end,
         self._key_hash) = _make_lookups(self._lay)

    # ----- opening -----

    @classmethod
    def _from_fd(cls, fd: int, names: Optional[Names], path: str) -> "SharedMap":
        """Maps the snapshot open on ``fd`` (closed here) read-only and checks its header."""
        try:
            size = os.fstat(fd).st_size
            if size < F.HEADER_SIZE:
                # mmap cannot map an empty file; the header check reports the length.
                F.parse_header(os.pread(fd, F.HEADER_SIZE, 0), size)
            mm = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        try:
            return cls(mm, size, mm=mm, names=names, path=path)
        except BaseException:
            mm.close()
            raise

    @classmethod
    def _open_named(cls, names: Names) -> "SharedMap":
        """Opens ``N.shmap`` through the checked directory; ``FileNotFoundError`` when either is missing."""
        dir_fd = open_directory(names)
        if dir_fd is None:
            raise FileNotFoundError(names.directory)
        try:
            fd = open_in(names, dir_fd, names.snapshot_file)
        finally:
            os.close(dir_fd)
        return cls._from_fd(fd, names, names.snapshot)

    @classmethod
    def open(cls, name: str, directory: Optional[str] = None, trusted_owners=()) -> "SharedMap":
        """Opens the map published under ``name``: maps ``N.shmap`` read-only and checks its header
        (O(1) in its size). Raises :class:`NotFoundError` when nothing is published,
        :class:`FormatError` when the file is not a valid snapshot, ``ValueError`` for a bad name,
        :class:`StoreError` when the directory or file is unsafe."""
        names = Names(name, directory, trusted_owners)
        try:
            return cls._open_named(names)
        except FileNotFoundError:
            raise NotFoundError(name, names.snapshot) from None

    @classmethod
    def open_file(cls, path: Union[str, os.PathLike]) -> "SharedMap":
        """Opens a snapshot file (for example one written by :meth:`Builder.write_to`), mapping it read-only."""
        path = os.path.abspath(os.fspath(path))
        return cls._from_fd(os.open(path, os.O_RDONLY | os.O_CLOEXEC), None, path)

    @classmethod
    def load(cls, data) -> "SharedMap":
        """Reads snapshot bytes (what :meth:`Builder.dump` returns) into a private copy."""
        b = bytes(data)
        return cls(b, len(b))

    # ----- properties -----

    @property
    def name(self) -> Optional[str]:
        """The shared name it was opened by, or None."""
        return self._names.name if self._names else None

    @property
    def version(self) -> int:
        """Version stamped at publication (1, 2, ... per name); 0 for bytes never published."""
        return self._header.publish_version

    @property
    def published_at(self) -> Optional[int]:
        """Unix time in milliseconds of the publication, or None for bytes never published."""
        return self._header.published_at or None

    @property
    def byte_length(self) -> int:
        return self._header.file_length

    @property
    def header(self) -> F.Header:
        """The validated header fields."""
        return self._header

    @property
    def is_latest(self) -> bool:
        """False once a newer version of its name has been published (or the name deleted); True
        for maps not opened by name."""
        self._check_open()
        names = self._names
        if names is None:
            return True
        if self._control is None:
            self._control = ControlView.try_open(names)
            if self._control is None:
                return os.path.exists(names.snapshot)
        state, version = self._control.state_and_version()
        return state != 2 and version <= self.version

    # ----- lookups -----

    def get(self, key: str, default=None):  # replaced per instance by the fast closure
        """The value of ``key``, or ``default`` when absent (a str with a lone surrogate is never
        stored: ``default``)."""
        raise NotImplementedError

    def __getitem__(self, key: str) -> str:
        v = self.get(key, _MISSING)
        if v is _MISSING:
            raise KeyError(key)
        return v

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return self.get(key, _MISSING) is not _MISSING

    def get_bytes(self, key: Union[bytes, bytearray, memoryview], default=None):  # replaced per instance
        """The value of a UTF-8 key as a ``memoryview`` into the snapshot, no copy; ``default``
        when absent. The view stays valid while it is referenced: :meth:`close` leaves the mapping
        to the last view (release views with ``mv.release()`` to unmap at once)."""
        raise NotImplementedError

    def contains_bytes(self, key: bytes) -> bool:
        return self._find(bytes(key)) >= 0

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    # ----- order: rank/select and scans -----

    def _offset_at(self, i: int) -> int:
        return self._lay.index[i]

    def _entry_at(self, i: int) -> Entry:
        k, v = self._read_record(self._lay.index[i])
        return k.decode("utf-8", "replace"), v.decode("utf-8", "replace")

    def _key_bytes_at(self, i: int) -> bytes:
        return self._read_record(self._lay.index[i])[0]

    def at(self, i: int) -> Entry:
        """The (key, value) of rank ``i`` in key order (0 is the smallest key; negative counts from
        the end, as for a list). ``IndexError`` when out of range."""
        self._check_open()
        n = self._count
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"rank {i} is out of range for a map of {n} entries")
        return self._entry_at(i)

    def index(self, key: str) -> int:
        """The rank of ``key`` in key order; ``KeyError`` when it is absent."""
        try:
            kb = key.encode()
        except UnicodeEncodeError:
            raise KeyError(key) from None
        offset = self._find_offset(kb)
        if not offset:
            raise KeyError(key)
        return self._rank_of_offset(offset)

    def _rank_of_offset(self, offset: int) -> int:
        index = self._lay.index
        lo, hi = 0, self._count - 1
        while lo <= hi:
            mid = (lo + hi) >> 1
            at = index[mid]
            if at == offset:
                return mid
            if at < offset:
                lo = mid + 1
            else:
                hi = mid - 1
        raise FormatError("record", offset, "an index entry for every record the slots point to", "bytes that do not fit")

    def _lower_bound(self, kb: bytes) -> int:
        lo, hi = 0, self._count
        key_at = self._key_bytes_at
        while lo < hi:
            mid = (lo + hi) >> 1
            if key_at(mid) < kb:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _iter_ranks(self, start: int, end: int) -> Iterator[Tuple[bytes, bytes]]:
        index = self._lay.index
        read = self._read_record
        for i in range(start, end):
            yield read(index[i])

    def items(self) -> Iterator[Entry]:
        """(key, value) pairs in ordinal UTF-8 key order."""
        self._check_open()
        for k, v in self._iter_ranks(0, self._count):
            yield k.decode("utf-8", "replace"), v.decode("utf-8", "replace")

    def keys(self) -> Iterator[str]:
        """Keys in ordinal UTF-8 order."""
        self._check_open()
        for k, _ in self._iter_ranks(0, self._count):
            yield k.decode("utf-8", "replace")

    def values(self) -> Iterator[str]:
        """Values in key order."""
        self._check_open()
        for _, v in self._iter_ranks(0, self._count):
            yield v.decode("utf-8", "replace")

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def range(self, start: Optional[str] = None, stop: Optional[str] = None) -> Iterator[Entry]:
        """Entries with ``start <= key < stop`` in key order (by UTF-8 bytes); None leaves that end open."""
        self._check_open()
        lo = 0 if start is None else self._lower_bound(start.encode())
        hi = self._count if stop is None else self._lower_bound(stop.encode())
        for k, v in self._iter_ranks(lo, hi):
            yield k.decode("utf-8", "replace"), v.decode("utf-8", "replace")

    def prefix(self, prefix: str) -> Iterator[Entry]:
        """Entries whose key starts with ``prefix``, in key order."""
        self._check_open()
        pb = prefix.encode()
        for k, v in self._iter_ranks(self._lower_bound(pb), self._count):
            if not k.startswith(pb):
                return
            yield k.decode("utf-8", "replace"), v.decode("utf-8", "replace")

    def to_dict(self) -> dict:
        return dict(self.items())

    # ----- verification -----

    def verify(self) -> None:
        """Checks the whole snapshot (FORMAT.md "Verification"): the body checksum, every record and
        index entry, the order of the keys, UTF-8 validity and every hash slot. Raises
        :class:`FormatError` naming what does not check out."""
        self._check_open()
        h = self._header
        lay = self._lay
        body = xxh3_64(lay.view[F.HEADER_SIZE: h.file_length])
        if body != h.body_checksum:
            raise FormatError("body_checksum", F.OFF_BODY_CHECKSUM, f"0x{body:016x} (XXH3-64 of the body)", f"0x{h.body_checksum:016x}")
        index = lay.index
        expected = h.data_offset
        previous = None
        keys = []
        for i in range(h.count):
            o = index[i]
            if o != expected:
                raise FormatError("index", h.index_offset + i * h.index_width, f"record offset {expected}", str(o))
            k, v = self._read_record(o)
            if previous is not None and previous >= k:
                raise FormatError("data", o, "keys in strictly rising ordinal UTF-8 order", f"key {i} not above key {i - 1}")
            try:
                k.decode("utf-8")
                v.decode("utf-8")
            except UnicodeDecodeError:
                raise FormatError("data", o, "UTF-8 key and value", "invalid UTF-8") from None
            previous = k
            keys.append(k)
            expected = self._record_end(o)
        if expected != h.file_length:
            raise FormatError("data_length", F.OFF_DATA_LENGTH, f"records ending at {h.file_length}", f"records ending at {expected}")
        slots = lay.slots
        bits = h.offset_bits
        mask = (1 << bits) - 1
        seen = bytearray(h.count)
        used = 0
        previous_hash = 0
        home_slots = h.home_slots
        limit = h.max_probe + 1
        rank_of = self._rank_of_offset
        for i in range(h.slot_count):
            sl = slots[i]
            if not sl:
                continue
            at = h.slots_offset + i * F.SLOT_SIZE
            rank = rank_of(sl & mask)
            if seen[rank]:
                raise FormatError("slots", at, "each record in one slot", f"record {rank} twice")
            seen[rank] = 1
            used += 1
            hv = xxh3_64(keys[rank], h.seed)  # the reference hash, not the inlined one
            home = (hv * home_slots) >> 64
            if sl >> bits != hv >> bits or home > i or i - home >= limit or hv < previous_hash:
                raise FormatError("slots", at, "the key's hash tag, placed in hash order within max_probe of its home",
                                  f"slot 0x{sl:016x} for home {home}")
            if i > home and slots[i - 1] == 0:
                raise FormatError("slots", at, "no empty slot between an entry and its home", "an empty slot before it")
            previous_hash = hv
        if used != h.count:
            raise FormatError("slots", h.slots_offset, f"{h.count} used slots", str(used))

    # ----- lifetime -----

    def _check_open(self) -> None:
        if self._lay is None:
            raise ValueError("the shared map is closed")

    def close(self) -> None:
        """Unmaps the snapshot. Memoryviews from :meth:`get_bytes` still referenced keep the mapping
        alive until they are released; every other call on this map raises ``ValueError``."""
        lay = self._lay
        if lay is None:
            return
        self._lay = None

        def closed(*args, **kwargs):
            raise ValueError("the shared map is closed")

        self.get = self.get_bytes = self._find = self._find_offset = self._read_record = self._record_end = closed  # type: ignore
        lay.release()
        if self._control is not None:
            self._control.close()
            self._control = None
        mm, self._mm = self._mm, None
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                pass  # views handed out still use it: unmapped when the last goes

    def __enter__(self) -> "SharedMap":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.name or self.path or "bytes"
        return f"<shmap.SharedMap {where!r} version={self._header.publish_version} count={self._count}>"


class _Missing:
    __slots__ = ()


_MISSING = _Missing()
