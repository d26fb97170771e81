"""Building and publishing snapshots: :class:`Builder` (the seed's ``rbtree``).

The layout is the C# builder's (src/Shmap/Building/SnapshotWriter.cs), step for step, so the same
entries give the same bytes in both languages: keys in ordinal UTF-8 order; ``home_slots =
ceil(count / 0.75)`` (IEEE double division, as in C#); entries placed in increasing (hash, key)
order, each at ``max(home, previous + 1)``; ``slot_count = max(home_slots, last + 1)``; 4-byte
index entries when the snapshot with them is at most 2**32 bytes, else 8; ``offset_bits`` from
the file length; seed 0; both checksums XXH3-64 with seed 0.
"""

from __future__ import annotations

import errno
import math
import os
import sys
import time
from array import array
from itertools import accumulate, chain
from operator import add
from typing import BinaryIO, Dict, Iterator, List, Optional, Tuple, Union

from . import _format as F
from ._control import ControlWriter, WriteLock
from ._store import Names, directory_mode_for, is_temp_of, open_directory, open_in
from ._xxh3 import make_key_hasher, xxh3_64
from .errors import ExistsError, FormatError, StoreError, VersionError

# A control version or snapshot version above this is "impossible" (store protocol v2): no
# publisher could have reached it, so the publish fails instead of obeying it.
MAX_SANE_VERSION = 1 << 48

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

_HEADS: Dict[int, bytes] = {}


def _record_head(key_length: int, value_length: int) -> bytes:
    """LEB128(key_length) LEB128(value_length), shared per pair when both are under 128."""
    if key_length < 0x80 and value_length < 0x80:
        pair = (key_length << 7) | value_length
        head = _HEADS.get(pair)
        if head is None:
            head = _HEADS[pair] = bytes((key_length, value_length))
        return head
    return F.encode_varint(key_length) + F.encode_varint(value_length)


def _record_ends(heads: List[int], keys: List[bytes], values: List[bytes]):
    """Record lengths (head + key + value), for the running sum of offsets."""
    return map(add, map(add, heads, map(len, keys)), map(len, values))


def _encode(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__} (use set_bytes for UTF-8 bytes)")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            f"The {what} has an unpaired surrogate at index {e.start} and cannot be stored as UTF-8; "
            "fix the string or store its bytes with set_bytes.") from None


def _validate(data, what: str) -> bytes:
    b = bytes(data)
    try:
        b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"The {what} bytes are not valid UTF-8 (first invalid byte at offset {e.start}); keys and values are UTF-8 text.") from None
    return b


class _Plan:
    """The laid-out snapshot of some entries: its body (slots, index, data) and header fields."""

    __slots__ = ("body", "header")

    def __init__(self, keys: List[bytes], values: List[bytes], seed: int = 0) -> None:
        # seed: writers of format 1 write 0; tests lay out other seeds to check readers use the header's.
        n = len(keys)
        hasher = make_key_hasher(seed)
        hashes = list(map(hasher, keys))
        home_slots = 0 if n == 0 else math.ceil(n / F.LOAD_FACTOR)
        # (hash, key order): the sort is stable and keys are already in order.
        order = sorted(range(n), key=hashes.__getitem__)
        positions = [0] * n
        nxt = 0
        max_probe = 0
        for i in order:
            home = (hashes[i] * home_slots) >> 64
            pos = home if home > nxt else nxt
            positions[i] = pos
            if pos - home > max_probe:
                max_probe = pos - home
            nxt = pos + 1
        slot_count = max(home_slots, nxt)
        # Records: LEB128(key length) LEB128(value length) key value. The two length bytes of
        # short records are shared bytes objects (one per length pair), so the data section is one
        # join over (lengths, key, value) triples.
        heads = list(map(_record_head, map(len, keys), map(len, values)))
        lengths = list(map(len, heads))
        data_length = sum(lengths) + sum(map(len, keys)) + sum(map(len, values))
        narrow = F.HEADER_SIZE + slot_count * F.SLOT_SIZE + n * 4 + data_length
        index_width = 4 if narrow <= (1 << 32) else 8
        index_offset = F.HEADER_SIZE + slot_count * F.SLOT_SIZE
        data_offset = index_offset + n * index_width
        file_length = data_offset + data_length
        bits = F.offset_bits_for(file_length)
        tag_mask = ((1 << 64) - 1) ^ ((1 << bits) - 1)
        offsets = list(accumulate(_record_ends(lengths, keys, values), initial=data_offset))[:-1]
        slots = array("Q", bytes(8 * slot_count))
        for i, pos in enumerate(positions):
            slots[pos] = (hashes[i] & tag_mask) | offsets[i]
        index = array("I" if index_width == 4 else "Q", offsets)
        if sys.byteorder != "little":  # pragma: no cover
            slots.byteswap()
            index.byteswap()
        parts = [slots.tobytes(), index.tobytes()]
        del slots, index
        parts.append(b"".join(chain.from_iterable(zip(heads, keys, values))))
        body = b"".join(parts)
        del parts, heads, lengths, offsets, positions, hashes
        assert len(body) == file_length - F.HEADER_SIZE
        self.body = body
        self.header = F.Header(
            file_length=file_length, count=n, seed=seed, offset_bits=bits, index_width=index_width,
            max_probe=max_probe, home_slots=home_slots, slot_count=slot_count,
            slots_offset=F.HEADER_SIZE, index_offset=index_offset, data_offset=data_offset,
            data_length=data_length, publish_version=0, published_at=0,
            body_checksum=xxh3_64(body))

    def header_bytes(self, version: int = 0, published_at: int = 0) -> bytes:
        return bytes(F.write_header(self.header._replace(publish_version=version, published_at=published_at)))


def _check_mode(mode: int) -> int:
    if mode & ~0o644 or (mode & 0o600) != 0o600:
        raise ValueError(
            f"File mode {mode:04o} is not allowed: it must include user read and write (0600) and may add "
            "only group/other read (0040, 0004); readers refuse files that group or others can write.")
    return mode


def _current_version(names: Names, dir_fd: int) -> int:
    """publish_version of the existing N.shmap: -1 when there is none, 0 when it does not validate.
    A file that fails the file checks (a link, a FIFO, a foreign owner...) fails the publish."""
    try:
        fd = open_in(names, dir_fd, names.snapshot_file)
    except FileNotFoundError:
        return -1
    try:
        size = os.fstat(fd).st_size
        return F.parse_header(os.pread(fd, F.HEADER_SIZE, 0), size).publish_version
    except (FormatError, VersionError):
        return 0  # a damaged file is replaced like any other; numbering continues from the control file
    finally:
        os.close(fd)


def _remove_stale_temps(names: Names, dir_fd: int) -> None:
    """Temp files of this name left by a killed publisher: publishers hold N.wlock while theirs
    exists, so under the lock every one found is stale."""
    for file_name in os.listdir(dir_fd):
        if is_temp_of(names.name, file_name):
            try:
                os.unlink(file_name, dir_fd=dir_fd)
            except FileNotFoundError:
                pass


def _write_temp(names: Names, dir_fd: int, mode: int, header: bytes, body: bytes) -> str:
    """Writes the snapshot to a fresh temp file, created exclusively and owner-only while written,
    given its final mode (fchmod: exact, whatever the umask) just before the rename."""
    temp = names.new_temp_file()
    fd = open_in(names, dir_fd, temp, write=True, create=True, exclusive=True, mode=0o600)
    try:
        try:
            total = len(header) + len(body)
            try:
                os.posix_fallocate(fd, 0, total)  # a full tmpfs fails here, not half-way
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise OSError(errno.ENOSPC, f"No space left to write the {total}-byte snapshot "
                                  f"'{os.path.join(names.directory, temp)}' (tmpfs full?); nothing was published.") from None
                if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
            _write_all(fd, header, 0)
            _write_all(fd, body, len(header))
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise
    return temp


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done: done + (1 << 24)], offset + done)


def _impossible(what: str, value: int, names: Names) -> StoreError:
    return StoreError(
        f"{what} of shared map '{names.name}' claims version {value}, which no publisher could have reached "
        f"(the limit is 2^48); refusing to continue from it: delete the name's files ({names.control}, "
        f"{names.snapshot}) to start again at version 1.")


def publish_bytes(names: Names, header_for, file_mode: int = 0o600, create_new: bool = False,
                  lock_timeout: float = 5.0, body: bytes = b"") -> int:
    """The publishing protocol (FORMAT.md "Publishing protocol" with store protocol v2):
    ``header_for(version, published_at)`` gives the header bytes to write before ``body``."""
    mode = _check_mode(file_mode)
    dir_fd = open_directory(names, directory_mode_for(mode))
    try:
        lock = WriteLock(names, dir_fd, lock_timeout)
        try:
            control = ControlWriter(names, dir_fd, mode)
            try:
                _remove_stale_temps(names, dir_fd)
                current = _current_version(names, dir_fd)
                if create_new and current >= 0:
                    raise ExistsError(names.name, names.snapshot)
                hinted = control.version
                if hinted > MAX_SANE_VERSION:
                    raise _impossible(f"The control file {names.control}", hinted, names)
                if current > MAX_SANE_VERSION:
                    raise _impossible(f"The snapshot {names.snapshot}", current, names)
                version = max(current, hinted, 0) + 1
                now = int(time.time() * 1000)
                temp = _write_temp(names, dir_fd, mode, header_for(version, now), body)
                try:
                    control.begin_change()
                    os.rename(temp, names.snapshot_file, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                except BaseException:
                    try:
                        os.unlink(temp, dir_fd=dir_fd)
                    except FileNotFoundError:
                        pass
                    control.end_change()  # no-op unless the rename itself failed: followers look once more
                    raise
                control.record_publish(version, now)
                control.touch()
                return version
            finally:
                control.close()
        finally:
            lock.close()
    finally:
        os.close(dir_fd)


def _exists_in(dir_fd: int, file_name: str) -> bool:
    try:
        os.stat(file_name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except FileNotFoundError:
        return False


def delete(name: str, directory: Optional[str] = None, trusted_owners=(), lock_timeout: float = 5.0) -> bool:
    """Removes the map published under ``name`` (the seed's static ``remove``), from any process.
    Maps already open keep working; new opens fail until it is published again. ``N.lock`` stays,
    so version numbers keep rising. Returns whether there was a map to remove."""
    names = Names(name, directory, trusted_owners)
    dir_fd = open_directory(names)
    if dir_fd is None:
        return False
    try:
        if not _exists_in(dir_fd, names.control_file) and not _exists_in(dir_fd, names.snapshot_file):
            return False
        lock = WriteLock(names, dir_fd, lock_timeout)
        try:
            control = ControlWriter(names, dir_fd, 0o600)
            try:
                if not _exists_in(dir_fd, names.snapshot_file):
                    return False
                control.begin_change()
                try:
                    os.unlink(names.snapshot_file, dir_fd=dir_fd)
                except FileNotFoundError:
                    control.end_change()
                    return False
                control.record_delete()
                control.touch()
                return True
            finally:
                control.close()
        finally:
            lock.close()
    finally:
        os.close(dir_fd)


class Builder:
    """A mutable string map that writes immutable snapshots (the seed's ``rbtree``): to a shared
    name (:meth:`share`, :meth:`publish`), to bytes (:meth:`dump`) or to a file (:meth:`write_to`).
    Keys are ordered by their UTF-8 bytes; the same entries give the same bytes as the C#
    ``SharedMapBuilder``. Not thread-safe."""

    def __init__(self, entries=None) -> None:
        self._d: Dict[bytes, bytes] = {}
        self._sorted: Optional[List[bytes]] = None
        self._changes = 0
        if entries is not None:
            items = entries.items() if hasattr(entries, "items") else entries
            for k, v in items:
                self.set(k, v)

    # ----- entries -----

    def set(self, key: str, value: str) -> None:
        """Sets ``key`` to ``value``; the last set wins. ``ValueError`` for a string with a lone surrogate."""
        self._set(_encode(key, "key"), _encode(value, "value"))

    def set_bytes(self, key, value) -> None:
        """Sets a key to a value given as UTF-8 bytes (validated)."""
        self._set(_validate(key, "key"), _validate(value, "value"))

    def _set(self, kb: bytes, vb: bytes) -> None:
        d = self._d
        if kb not in d:
            if len(d) >= F.MAX_COUNT:
                raise ValueError(f"A snapshot holds at most {F.MAX_COUNT} entries.")
            self._sorted = None
        if len(vb) > F.MAX_ITEM_LENGTH or len(kb) > F.MAX_ITEM_LENGTH:
            raise ValueError("Keys and values are at most 2^31-1 UTF-8 bytes.")
        d[kb] = vb
        self._changes += 1

    def get(self, key: str, default=None):
        """The value of ``key``, or ``default`` when absent."""
        try:
            kb = key.encode("utf-8")
        except UnicodeEncodeError:
            return default
        vb = self._d.get(kb)
        return default if vb is None else vb.decode("utf-8")

    def remove(self, key: str) -> bool:
        """Removes ``key``; returns whether it was present."""
        try:
            kb = key.encode("utf-8")
        except UnicodeEncodeError:
            return False
        if kb in self._d:
            del self._d[kb]
            self._sorted = None
            self._changes += 1
            return True
        return False

    def clear(self) -> None:
        self._d.clear()
        self._sorted = None
        self._changes += 1

    def __len__(self) -> int:
        return len(self._d)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            return key.encode("utf-8") in self._d
        except UnicodeEncodeError:
            return False

    def __getitem__(self, key: str) -> str:
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __setitem__(self, key: str, value: str) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        if not self.remove(key):
            raise KeyError(key)

    def _ordered(self) -> List[bytes]:
        if self._sorted is None:
            self._sorted = sorted(self._d)
        return self._sorted

    def items(self) -> Iterator[Tuple[str, str]]:
        """(key, value) pairs in ordinal UTF-8 key order; ``RuntimeError`` if the builder changes meanwhile."""
        changes = self._changes
        d = self._d
        for kb in self._ordered():
            if changes != self._changes:
                raise RuntimeError("The builder was changed during iteration.")
            yield kb.decode("utf-8"), d[kb].decode("utf-8")

    def keys(self) -> Iterator[str]:
        for k, _ in self.items():
            yield k

    def values(self) -> Iterator[str]:
        for _, v in self.items():
            yield v

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    # ----- output -----

    def _plan(self) -> _Plan:
        keys = self._ordered()
        d = self._d
        return _Plan(keys, list(map(d.__getitem__, keys)))

    def dump(self) -> bytes:
        """The snapshot as bytes: exactly what :meth:`share` writes, with version and time 0.
        :func:`shmap.load` reads it back (unlike the seed's ``dump``)."""
        plan = self._plan()
        return plan.header_bytes() + plan.body

    def write_to(self, file: Union[str, os.PathLike, BinaryIO]) -> None:
        """Writes the snapshot (the bytes :meth:`dump` returns) to a path or a binary file object."""
        plan = self._plan()
        if isinstance(file, (str, os.PathLike)):
            with open(file, "wb") as f:
                f.write(plan.header_bytes())
                f.write(plan.body)
        else:
            file.write(plan.header_bytes())
            file.write(plan.body)

    def share(self, name: str, force: bool = False, directory: Optional[str] = None, *,
              file_mode: int = 0o600, lock_timeout: float = 5.0, trusted_owners=()) -> int:
        """Publishes a snapshot of the current entries under ``name``. Atomic: readers see the old
        snapshot or the new one, never a part. Raises :class:`ExistsError` when the name exists and
        ``force`` is False (nothing changed); with ``force`` it is replaced as its next version.
        Returns the version published."""
        return self._publish(name, directory, not force, file_mode, lock_timeout, trusted_owners)

    def publish(self, name: str, directory: Optional[str] = None, *, file_mode: int = 0o600,
                lock_timeout: float = 5.0, trusted_owners=()) -> int:
        """Publishes the current entries as the next version of ``name`` (creating it if needed);
        returns the version number: 1 for a new name, then +1 each publish."""
        return self._publish(name, directory, False, file_mode, lock_timeout, trusted_owners)

    def _publish(self, name, directory, create_new, file_mode, lock_timeout, trusted_owners) -> int:
        names = Names(name, directory, trusted_owners)
        _check_mode(file_mode)
        plan = self._plan()
        return publish_bytes(names, plan.header_bytes, file_mode, create_new, lock_timeout, plan.body)

    def __repr__(self) -> str:
        return f"<shmap.Builder count={len(self._d)}>"
