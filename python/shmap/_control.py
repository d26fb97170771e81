"""The control file ``N.lock`` and the publishers' lock ``N.wlock`` (store protocol v2).

``N.lock`` is 64 bytes: magic ``SHMAPCTL``, u32 ``format`` (2), u32 ``state`` (0 never published,
1 published, 2 deleted), u64 ``sequence`` (odd while a change of ``N.shmap`` is under way), u64
``version``, i64 ``published_at``, 24 reserved bytes. It is a hint, never trusted: a follower
re-validates whatever snapshot it opens. The words are read and written as aligned native 8-byte
words through a ``memoryview`` cast (one load or store each, like the C# side's volatile
accesses), which is little-endian on every host this runs on (checked at import).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import sys
import time
from typing import Optional, Tuple

from ._store import Names, open_directory, open_in
from .errors import StoreError

SIZE = 64
MAGIC = b"SHMAPCTL"
FORMAT = 2
STATE_PUBLISHED = 1
STATE_DELETED = 2

# Word indexes in the u64 / u32 views.
_SEQ = 2  # offset 16
_VERSION = 3  # offset 24
_PUBLISHED_AT = 4  # offset 32
_STATE32 = 3  # offset 12
_FORMAT32 = 2  # offset 8

_NATIVE_OK = sys.byteorder == "little"


class ControlView:
    """A read-only mapping of ``N.lock`` for followers and ``is_latest``."""

    __slots__ = ("_mm", "_words", "_halves")

    def __init__(self, mm: mmap.mmap) -> None:
        self._mm = mm
        view = memoryview(mm)
        self._words = view.cast("Q")
        self._halves = view.cast("I")
        view.release()

    @classmethod
    def try_open(cls, names: Names) -> Optional["ControlView"]:
        """Maps an existing control file read-only; None when there is none (or it is too short).
        Raises ``StoreError`` when the directory or the file is unsafe."""
        dir_fd = open_directory(names)
        if dir_fd is None:
            return None
        try:
            fd = open_in(names, dir_fd, names.control_file)
        except FileNotFoundError:
            return None
        finally:
            os.close(dir_fd)
        try:
            if os.fstat(fd).st_size < SIZE:
                return None
            return cls(mmap.mmap(fd, SIZE, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ))
        finally:
            os.close(fd)

    def sequence(self) -> int:
        return self._words[_SEQ]

    def state_and_version(self) -> Tuple[int, int]:
        return self._halves[_STATE32], self._words[_VERSION]

    def close(self) -> None:
        self._words.release()
        self._halves.release()
        try:
            self._mm.close()
        except BufferError:  # pragma: no cover
            pass


def probe_abandoned(names: Names) -> bool:
    """For a follower that saw an odd sequence: True when no publisher holds ``N.wlock`` (the change
    under way was abandoned by a publisher that died), probed with a non-blocking shared flock
    released at once. False when a publisher holds it, or when the lock file cannot be opened
    (missing, another user's): then nobody can tell, and the change is taken as still under way."""
    try:
        dir_fd = open_directory(names)
        if dir_fd is None:
            return False
        try:
            fd = open_in(names, dir_fd, names.write_lock_file)
        finally:
            os.close(dir_fd)
    except (OSError, StoreError):
        return False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return True
            except InterruptedError:  # pragma: no cover
                continue
            except BlockingIOError:
                return False
    finally:
        os.close(fd)


def lock_holder(path_fd: int) -> Optional[int]:
    """The pid /proc/locks gives for a flock on the file of ``path_fd`` (None when unknown)."""
    try:
        st = os.fstat(path_fd)
        dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks", "r", encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                # "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE START END" (a "->" marks a waiter)
                if "->" in parts:
                    continue
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == dev:
                    return int(parts[4])
    except (OSError, ValueError):
        return None
    return None


class WriteLock:
    """``N.wlock`` held exclusively (mode 0600, empty) for the duration of a publish or delete."""

    def __init__(self, names: Names, dir_fd: int, timeout: float = 5.0) -> None:
        self.fd = open_in(names, dir_fd, names.write_lock_file, write=True, create=True, mode=0o600)
        try:
            deadline = time.monotonic() + timeout
            pause = 0.001
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except InterruptedError:  # pragma: no cover
                    continue
                except BlockingIOError:
                    pass
                now = time.monotonic()
                if now >= deadline:
                    holder = lock_holder(self.fd)
                    who = f"process {holder}" if holder is not None else "another process"
                    raise StoreError(
                        f"Timed out after {timeout:g} s waiting for the publishers' lock {names.write_lock}, "
                        f"held by {who}; wait for it to finish, or stop it, then publish again "
                        "(or pass a longer lock_timeout).")
                time.sleep(min(pause, deadline - now))
                pause = min(pause * 2, 0.05)
        except BaseException:
            os.close(self.fd)
            raise

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the flock
            self.fd = -1


class ControlWriter:
    """``N.lock`` opened read-write by a publisher that holds ``N.wlock``."""

    def __init__(self, names: Names, dir_fd: int, mode: int) -> None:
        if not _NATIVE_OK:  # pragma: no cover
            raise StoreError("shmap's publisher needs a little-endian host (the control words are written natively).")
        self.fd = open_in(names, dir_fd, names.control_file, write=True, create=True, mode=mode)
        try:
            st = os.fstat(self.fd)
            old = os.pread(self.fd, SIZE, 0) if st.st_size == SIZE else b""
            intact = len(old) == SIZE and old[:8] == MAGIC
            if not intact or int.from_bytes(old[8:12], "little") != FORMAT:
                # New, damaged, or of the format before the publishers' lock: lay it out afresh,
                # keeping an intact version word so numbering continues. Under the lock nobody
                # else writes it.
                fresh = bytearray(SIZE)
                fresh[0:8] = MAGIC
                fresh[8:12] = FORMAT.to_bytes(4, "little")
                if intact:
                    fresh[24:32] = old[24:32]
                os.ftruncate(self.fd, SIZE)
                os.pwrite(self.fd, bytes(fresh), 0)
            self._mm = mmap.mmap(self.fd, SIZE, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            view = memoryview(self._mm)
            self._words = view.cast("Q")
            self._halves = view.cast("I")
            view.release()
            if self.sequence & 1:
                # A publisher died mid-change: settle the word (followers look once more).
                self._words[_SEQ] = self.sequence + 1
                self.touch()
        except BaseException:
            self.close()
            raise

    @property
    def sequence(self) -> int:
        return self._words[_SEQ]

    @property
    def version(self) -> int:
        return self._words[_VERSION]

    def begin_change(self) -> None:
        if not self.sequence & 1:
            self._words[_SEQ] = (self.sequence + 1) & 0xFFFFFFFFFFFFFFFF

    def end_change(self) -> None:
        if self.sequence & 1:
            self._words[_SEQ] = (self.sequence + 1) & 0xFFFFFFFFFFFFFFFF

    def record_publish(self, version: int, published_at: int) -> None:
        """published_at, version, state, then the sequence last (even again)."""
        self._words[_PUBLISHED_AT] = published_at & 0xFFFFFFFFFFFFFFFF
        self._words[_VERSION] = version
        self._halves[_STATE32] = STATE_PUBLISHED
        self.begin_change()
        self.end_change()

    def record_delete(self) -> None:
        self._halves[_STATE32] = STATE_DELETED
        self.begin_change()
        self.end_change()

    def touch(self) -> None:
        """Updates the file's times: writes through a mapping raise no inotify event, this does."""
        try:
            os.utime(self.fd)
        except OSError:  # pragma: no cover
            pass

    def close(self) -> None:
        for attr in ("_words", "_halves"):
            v = getattr(self, attr, None)
            if v is not None:
                v.release()
        mm = getattr(self, "_mm", None)
        if mm is not None:
            mm.close()
            self._mm = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

