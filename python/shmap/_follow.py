"""Following a name: :func:`shmap.follow` answers every call from the newest published version
(FORMAT.md "Following", with the store protocol v2 probe on ``N.wlock``)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import threading
import time
from typing import Iterator, Optional, Tuple

from ._control import ControlView, probe_abandoned
from ._reader import SharedMap
from ._store import Names
from .errors import NotFoundError, ShmapError

_CONTROL_RETRY = 0.1  # seconds between attempts to map a control file that is not there yet

# inotify (linux/inotify.h)
_IN_MODIFY = 0x00000002
_IN_ATTRIB = 0x00000004
_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080
_IN_CREATE = 0x00000100
_IN_DELETE = 0x00000200
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000


class _Inotify:
    """An inotify descriptor watching one directory, through ctypes; None where unavailable."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def create(cls, directory: str) -> Optional["_Inotify"]:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            init1 = libc.inotify_init1
            add = libc.inotify_add_watch
        except (OSError, AttributeError):
            return None
        init1.argtypes = [ctypes.c_int]
        init1.restype = ctypes.c_int
        add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        add.restype = ctypes.c_int
        fd = init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return None
        mask = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
        if add(fd, os.fsencode(directory), mask) < 0:
            os.close(fd)
            return None
        return cls(fd)

    def wait(self, timeout: float) -> None:
        """Returns when an event arrived or ``timeout`` seconds passed; drains the events."""
        try:
            ready, _, _ = select.select([self.fd], [], [], max(timeout, 0.0))
        except InterruptedError:  # pragma: no cover
            return
        if ready:
            try:
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Follower:
    """Follows a shared name: every call answers from the newest published version, and each call
    sees one complete version. Checking for a new version costs one read of the control word
    (``N.lock``, mapped read-only): no system call, no lock, nothing written to shared memory.

    Old versions are not unmapped under anyone: a version stays mapped while a :meth:`snapshot` of
    it or a ``memoryview`` from :meth:`get_bytes` is referenced, and goes when the last reference
    does. Thread-safe: switches happen under a lock; a call reads one version throughout.
    """

    def __init__(self, name: str, directory: Optional[str] = None, trusted_owners=(),
                 notifications: bool = True) -> None:
        names = Names(name, directory, trusted_owners)
        self._names = names
        self._gate = threading.Lock()
        self._notifications = notifications
        self._inotify: Optional[_Inotify] = None
        self._inotify_failed = not notifications
        self._next_control_attempt = 0.0
        self._deleted = False
        # The sequence is read before the snapshot is opened: a publish in between is seen at the first call.
        self._control = ControlView.try_open(names)
        self._seen = (self._control.sequence() if self._control else 0) & ~1
        try:
            self._current: Optional[SharedMap] = SharedMap._open_named(names)
        except FileNotFoundError:
            if self._control:
                self._control.close()
            raise NotFoundError(name, names.snapshot) from None
        except BaseException:
            if self._control:
                self._control.close()
            raise

    # ----- the version served -----

    def _map(self) -> SharedMap:
        c = self._control
        if c is None or c._words[2] != self._seen:
            self._refresh()
        m = self._current
        if m is None:
            raise ValueError("the follower is closed")
        return m

    def _refresh(self) -> None:
        with self._gate:
            if self._current is None:
                return
            control = self._control
            if control is None:
                now = time.monotonic()
                if now < self._next_control_attempt:
                    return
                self._next_control_attempt = now + _CONTROL_RETRY
                control = self._control = ControlView.try_open(self._names)
                if control is None:
                    return
            seq = control.sequence()
            if seq == self._seen:
                return
            # An odd sequence is a change under way: unless its publisher is gone, the next call
            # looks again. The probe comes before the open, so an abandoned change is complete in
            # what the open finds.
            settled = not seq & 1 or probe_abandoned(self._names)
            try:
                self._switch_to_newest()
            finally:
                self._seen = seq if settled else seq & ~1

    def _switch_to_newest(self) -> None:
        names = self._names
        try:
            nxt = SharedMap._open_named(names)
        except FileNotFoundError:
            self._deleted = True
            return
        except (ShmapError, OSError):
            return  # a snapshot that does not validate is never served
        self._deleted = False
        current = self._current
        if current is None or nxt.version <= current.version:
            nxt.close()
            return
        self._current = nxt  # the old version goes when its last reference does

    # ----- reads -----

    @property
    def name(self) -> str:
        return self._names.name

    @property
    def version(self) -> int:
        """The version that answers now (after checking for a newer one)."""
        return self._map().version

    @property
    def published_at(self) -> Optional[int]:
        return self._map().published_at

    @property
    def is_deleted(self) -> bool:
        """True when the name has been deleted: the follower keeps answering from the last version
        it had, until the name is published again."""
        self._map()
        return self._deleted

    def snapshot(self) -> SharedMap:
        """The newest version as a :class:`SharedMap` of its own, for several reads from one version."""
        return self._map()

    def get(self, key: str, default=None):
        return self._map().get(key, default)

    def get_bytes(self, key, default=None):
        return self._map().get_bytes(key, default)

    def __getitem__(self, key: str) -> str:
        return self._map()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._map()

    def __len__(self) -> int:
        return len(self._map())

    def __iter__(self) -> Iterator[str]:
        return self._map().keys()

    def keys(self) -> Iterator[str]:
        return self._map().keys()

    def values(self) -> Iterator[str]:
        return self._map().values()

    def items(self) -> Iterator[Tuple[str, str]]:
        return self._map().items()

    def range(self, start: Optional[str] = None, stop: Optional[str] = None):
        return self._map().range(start, stop)

    def prefix(self, prefix: str):
        return self._map().prefix(prefix)

    def at(self, i: int) -> Tuple[str, str]:
        return self._map().at(i)

    def index(self, key: str) -> int:
        return self._map().index(key)

    # ----- waiting -----

    def wait_for_new_version(self, timeout: Optional[float] = None) -> Optional[int]:
        """Blocks until a version newer than the one answering now is published and returns its
        number; None when ``timeout`` seconds pass first. Woken by inotify on the name's directory
        (through ctypes) with a 1 s re-check as a fallback; polls every 20 ms where inotify is
        unavailable."""
        start = self.version
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._inotify is None and not self._inotify_failed:
            self._inotify = _Inotify.create(self._names.directory)
            self._inotify_failed = self._inotify is None
        interval = 1.0 if self._inotify is not None else 0.02
        while True:
            now_version = self.version
            if now_version > start:
                return now_version
            wait = interval
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                wait = min(wait, left)
            if self._inotify is not None:
                self._inotify.wait(wait)
            else:
                time.sleep(wait)

    # ----- lifetime -----

    def close(self) -> None:
        """Lets go of the version served (snapshots taken keep theirs) and the control mapping."""
        with self._gate:
            self._current = None
            if self._control is not None:
                self._control.close()
                self._control = None
            if self._inotify is not None:
                self._inotify.close()
                self._inotify = None

    def __enter__(self) -> "Follower":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<shmap.Follower {self._names.name!r}>"


def follow(name: str, directory: Optional[str] = None, trusted_owners=(), notifications: bool = True) -> Follower:
    """Follows ``name``: the returned :class:`Follower` answers every call from the newest
    published version. Raises :class:`NotFoundError` when nothing is published."""
    return Follower(name, directory, trusted_owners, notifications)
