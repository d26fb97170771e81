"""The seed's API (pysharedmap, ``pip install sharedmap``) on top of shmap.

A pysharedmap program runs unchanged with its import changed::

    from shmap.compat import rbtree, sharedmap

    m = rbtree()
    m.set("aaa", "323"); m.set("zb", "1233"); m.set("tes", "32z"); m.set("红", "32是")
    print(m.get("tes"))
    m.share("test:3325", True)

    print(sharedmap("test:3325").get("红"))   # 32是

Where the seed was buggy, this layer does the right thing instead:

- ``rbtree.dump()`` returned bytes nothing could read back; here it returns a Shmap snapshot that
  :func:`shmap.load` (and the C# ``SharedMap.Load``) reads.
- ``share`` created world-writable shared-memory segments that any local user could alter; here
  the files are created owner-only (0600) in an owner-only directory (0700), and every file is
  checked (type, owner, mode) before it is used.
- ``share(name, force=True)`` deleted the segment and rebuilt it, so a reader opening in between
  found nothing; here it publishes the next version atomically (rename), and readers that have the
  old one keep it.
- A reader of a name that was rewritten stayed on its private, detached copy forever; here
  :func:`shmap.follow` gives a reader that switches to each new version (``sharedmap`` keeps the
  seed's one-version semantics).
- ``get`` of a missing key returns None here (the seed's README does not say what it did);
  ``m[key]`` raises ``KeyError``.

Names are used as file names in the shmap directory (``$SHMAP_DIR``, else
``$XDG_RUNTIME_DIR/shmap``, else ``/dev/shm/shmap-<uid>``): any string of 1-200 UTF-8 bytes without
``/``, ``\\``, NUL or control characters, so the seed's ``"test:3325"`` works as is.
"""

from __future__ import annotations

from typing import Optional

from ._builder import Builder, delete
from ._reader import SharedMap

__all__ = ["rbtree", "sharedmap"]


class rbtree(Builder):  # noqa: N801 - the seed's name
    """The seed's writer: a string dictionary that can write a ``sharedmap`` into shared memory."""

    def set(self, key: str, val: str) -> bool:  # type: ignore[override]
        """Sets ``key`` to ``val``; True on success, raises on failure (as the seed)."""
        super().set(key, val)
        return True

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        """The value of ``key``, or None when absent."""
        return super().get(key, default)

    def share(self, name: str, force: bool = False, directory: Optional[str] = None, **kwargs) -> bool:  # type: ignore[override]
        """Snapshots the current state under ``name``. With ``force``, an existing map of that name is
        replaced (atomically, as its next version: the seed deleted and rebuilt it). Without it, an
        existing name raises :class:`shmap.ExistsError`. True on success."""
        super().share(name, force, directory, **kwargs)
        return True

    def dump(self) -> bytes:
        """The snapshot as bytes -- loadable with :func:`shmap.load` (the seed's dump was not)."""
        return super().dump()

    @staticmethod
    def remove(name: str, directory: Optional[str] = None) -> bool:
        """Deletes the map ``share`` created, from any process. Maps already opened stay valid; new
        opens fail until it is shared again. True when there was one (the seed returned True on
        success; here False means there was nothing to remove)."""
        return delete(name, directory)


class sharedmap:  # noqa: N801 - the seed's name
    """The seed's reader: opens a shared dictionary by name (written by ``rbtree.share`` or by any
    Shmap publisher, C# included). It reads the version current at open; use
    :func:`shmap.follow` for a reader that follows new versions."""

    def __init__(self, name: str, directory: Optional[str] = None) -> None:
        self._map = SharedMap.open(name, directory)

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """The value of ``key``, or None when absent."""
        return self._map.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self._map[key]

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __len__(self) -> int:
        return len(self._map)

    def close(self) -> None:
        self._map.close()

    def __enter__(self) -> "sharedmap":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
