"""shmap: read, follow and publish Shmap shared string maps from Python.

A pure-Python (standard library only) implementation of docs/FORMAT.md and the store protocol,
interoperable byte for byte with the C# library: maps published by either side are read, followed
and replaced by the other.

>>> import shmap
>>> b = shmap.Builder(); b["红"] = "32是"
>>> with shmap.load(b.dump()) as m: m["红"]
'32是'
"""

from __future__ import annotations

from ._builder import Builder, delete
from ._follow import Follower, follow
from ._reader import SharedMap
from ._store import default_directory, validate_name
from ._xxh3 import xxh3_64
from .errors import ExistsError, FormatError, NotFoundError, ShmapError, StoreError, VersionError

__version__ = "0.1.0"


def open(name: str, directory=None, trusted_owners=()) -> SharedMap:  # noqa: A001 - mirrors io.open
    """Opens the map published under ``name`` (see :meth:`SharedMap.open`)."""
    return SharedMap.open(name, directory, trusted_owners)


def open_file(path) -> SharedMap:
    """Opens a snapshot file read-only (see :meth:`SharedMap.open_file`)."""
    return SharedMap.open_file(path)


def load(data) -> SharedMap:
    """Reads snapshot bytes into a private copy (see :meth:`SharedMap.load`)."""
    return SharedMap.load(data)


__all__ = [
    "Builder", "delete", "Follower", "follow", "SharedMap", "open", "open_file", "load", "xxh3_64", "default_directory", "validate_name",
    "ShmapError", "FormatError", "VersionError", "ExistsError", "NotFoundError", "StoreError",
]
