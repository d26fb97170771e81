"""Errors raised by shmap, with the same facts as the C# exceptions (src/Shmap/Exceptions.cs)."""

from __future__ import annotations


class ShmapError(Exception):
    """Base of every error shmap raises about snapshots and shared names (C# ``ShmapException``)."""


class FormatError(ShmapError):
    """The bytes are not a valid Shmap snapshot: truncated, corrupt or hostile (C#
    ``SnapshotFormatException``). ``field`` is the docs/FORMAT.md field that failed its check,
    ``offset`` its byte offset in the snapshot, ``expected`` what a valid snapshot has there and
    ``found`` what was found."""

    def __init__(self, field: str, offset: int, expected: str, found: str) -> None:
        self.field = field
        self.offset = offset
        self.expected = expected
        self.found = found
        super().__init__(
            f"Invalid Shmap snapshot: field '{field}' at byte offset {offset}: expected {expected}, "
            f"found {found}. The snapshot is truncated or corrupt; rebuild it or publish it again."
        )

    def __reduce__(self):  # keep the facts through pickling (multiprocessing)
        return (type(self), (self.field, self.offset, self.expected, self.found))


class VersionError(ShmapError):
    """The snapshot has a format version this library does not read (C# ``SnapshotVersionException``)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Unsupported Shmap snapshot format version {actual}; this library reads version {expected}. "
            f"Rebuild the snapshot with format {expected}, or upgrade shmap to read format {actual}."
        )

    def __reduce__(self):
        return (type(self), (self.expected, self.actual))


class ExistsError(ShmapError):
    """A name is already published and the call did not ask to replace it (C# ``SharedMapExistsException``)."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        super().__init__(
            f"A shared map named '{name}' already exists ({path}). Pass force=True to replace it, "
            "or use publish() to add a new version."
        )

    def __reduce__(self):
        return (type(self), (self.name, self.path))


class NotFoundError(ShmapError, LookupError):
    """No shared map is published under the name (C# ``SharedMapNotFoundException``)."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        self.path = path
        super().__init__(
            f"No shared map named '{name}' is published ({path} does not exist). Share or publish it "
            "first, or check SHMAP_DIR / the directory argument."
        )

    def __reduce__(self):
        return (type(self), (self.name, self.path))


class StoreError(ShmapError):
    """A directory or file of the store is unsafe or unusable (wrong type, owner or mode), a lock
    could not be taken in time, or the name's version numbers are impossible. The message names the
    path, what is wrong and the fix."""
