"""Names, the directory they live in, and safe opening of their files (store protocol v2).

A name N is a file name stem used verbatim: ``N.shmap`` (snapshot), ``N.lock`` (control file),
``N.wlock`` (publishers' lock), ``.N.<pid>.<32 hex>.tmp`` (a snapshot being written). Files in
a directory other users may touch are opened, never resolved then opened: ``O_NOFOLLOW |
O_NONBLOCK | O_CLOEXEC``, then ``fstat`` of the descriptor decides (type, owner, mode).
"""

from __future__ import annotations

import errno
import os
import stat
from unicodedata import category as _category
from typing import Iterable, Optional, Tuple

from .errors import StoreError

DIRECTORY_VARIABLE = "SHMAP_DIR"
MAX_NAME_BYTES = 200
SNAPSHOT_SUFFIX = ".shmap"
CONTROL_SUFFIX = ".lock"
WRITE_LOCK_SUFFIX = ".wlock"
TEMP_SUFFIX = ".tmp"

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def default_directory() -> str:
    """The directory in effect when none is given: ``$SHMAP_DIR`` when set and non-empty, else
    ``$XDG_RUNTIME_DIR/shmap`` when that is set, non-empty and absolute, else
    ``/dev/shm/shmap-<euid>``. Read at each call, so a changed environment takes effect."""
    d = os.environ.get(DIRECTORY_VARIABLE)
    if d:
        return d
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "shmap")
    return f"/dev/shm/shmap-{os.geteuid()}"


def resolve_directory(directory: Optional[str]) -> str:
    return directory if directory else default_directory()


def validate_name(name: str) -> None:
    """Raises ``ValueError`` saying what is wrong when ``name`` is not a usable shared name: 1-200
    UTF-8 bytes, not ``.`` or ``..``, no ``/``, ``\\``, NUL, control character (Unicode category Cc)
    lone surrogate or BMP format character (Cf) -- exactly the C# library's rule."""
    if not isinstance(name, str):
        raise TypeError(f"A shared map name is a str, not {type(name).__name__}.")
    if not name:
        raise ValueError("A shared map name cannot be empty.")
    if name in (".", ".."):
        raise ValueError(f"'{name}' cannot be a shared map name: it would name a directory.")
    for c in name:
        if c == "/" or c == "\\":
            raise ValueError(f"Shared map name '{name}' contains '{c}'; names are single file names (no directory separators).")
        o = ord(c)
        if o < 0x20 or 0x7F <= o <= 0x9F:
            raise ValueError(f"Shared map name contains the control character U+{o:04X}; use printable characters.")
        # Format characters (bidi overrides and isolates such as U+202E, zero-width joiners, BOM)
        # make a name display as another one. The C# rule tests UTF-16 units, so it sees only the
        # BMP's (an astral character is two surrogates there): the same set here.
        if o <= 0xFFFF and _category(c) == "Cf":
            raise ValueError(
                f"Shared map name contains the invisible format character U+{o:04X} (Unicode category Cf, e.g. a "
                "bidirectional override), which can make it display as another name; use visible characters.")
    try:
        n = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("Shared map name has an unpaired surrogate; names must be valid Unicode.") from None
    if n > MAX_NAME_BYTES:
        raise ValueError(f"Shared map name is {n} UTF-8 bytes long; the limit is {MAX_NAME_BYTES}.")


class Names:
    """The files of one validated name in one directory."""

    __slots__ = ("name", "directory", "trusted")

    def __init__(self, name: str, directory: Optional[str] = None, trusted_owners: Iterable[int] = ()) -> None:
        validate_name(name)
        self.name = name
        self.directory = resolve_directory(directory)
        self.trusted: Tuple[int, ...] = tuple(trusted_owners)

    @property
    def snapshot(self) -> str:
        return os.path.join(self.directory, self.name + SNAPSHOT_SUFFIX)

    @property
    def control(self) -> str:
        return os.path.join(self.directory, self.name + CONTROL_SUFFIX)

    @property
    def write_lock(self) -> str:
        return os.path.join(self.directory, self.name + WRITE_LOCK_SUFFIX)

    @property
    def snapshot_file(self) -> str:
        return self.name + SNAPSHOT_SUFFIX

    @property
    def control_file(self) -> str:
        return self.name + CONTROL_SUFFIX

    @property
    def write_lock_file(self) -> str:
        return self.name + WRITE_LOCK_SUFFIX

    def new_temp_file(self) -> str:
        """A fresh temp file name: ``.N.<pid>.<32 lowercase hex>.tmp``."""
        return f".{self.name}.{os.getpid()}.{os.urandom(16).hex()}{TEMP_SUFFIX}"

    def owner_ok(self, uid: int) -> bool:
        return uid == os.geteuid() or uid == 0 or uid in self.trusted


def _fix_for_owner(uid: int) -> str:
    return (f"if user {uid} is meant to publish for you, pass {uid} in trusted_owners; "
            "otherwise remove it or choose another directory")


_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _describe(mode: int) -> str:
    for test, what in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "of an unknown type"


def _check_directory_stat(names: Names, st: os.stat_result) -> None:
    path = names.directory
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"The shmap directory '{path}' is {_describe(st.st_mode)}, not a directory; remove it, or choose another directory (directory argument or SHMAP_DIR).")
    if not names.owner_ok(st.st_uid):
        raise StoreError(f"The shmap directory '{path}' belongs to user {st.st_uid}, not to this user ({os.geteuid()}) or root; {_fix_for_owner(st.st_uid)}.")
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise StoreError(
            f"The shmap directory '{path}' is writable by group or other users (mode {stat.S_IMODE(st.st_mode):04o}) without the sticky bit, "
            f"so they could replace its files; run 'chmod go-w {path}' (or 'chmod +t' for a shared directory), or choose another directory.")


def _open_directory_fd(path: str) -> int:
    return os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)


def open_directory(names: Names, create_mode: Optional[int] = None) -> Optional[int]:
    """Opens the directory of ``names`` (``O_DIRECTORY | O_NOFOLLOW``) and checks the descriptor: a
    directory owned by the effective uid, root or a trusted owner, not writable by group/other
    unless sticky. Every file of the name is then opened relative to it. Returns None when it does
    not exist and ``create_mode`` is None (readers); publishers pass the mode to create it with
    (set exactly with fchmod: the umask may have narrowed it). Raises ``StoreError`` when unsafe."""
    path = names.directory
    try:
        fd = _open_directory_fd(path)
    except FileNotFoundError:
        if create_mode is None:
            return None
        parent = os.path.dirname(os.path.abspath(path))
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, exist_ok=True)
        try:
            os.mkdir(path, create_mode)
        except FileExistsError:
            pass
        fd = _open_directory_fd(path)
        try:
            st = os.fstat(fd)
            _check_directory_stat(names, st)
            if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != create_mode:
                os.fchmod(fd, create_mode)
        except BaseException:
            os.close(fd)
            raise
        return fd
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise StoreError(f"The shmap directory '{path}' is a symbolic link; use the directory it points to, if it is yours, or remove the link.") from None
        if e.errno == errno.ENOTDIR and os.path.islink(path):
            raise StoreError(f"The shmap directory '{path}' is a symbolic link; use the directory it points to, if it is yours, or remove the link.") from None
        if e.errno == errno.ENOTDIR:
            raise StoreError(f"The shmap directory '{path}' is not a directory; remove it, or choose another directory (directory argument or SHMAP_DIR).") from None
        raise
    try:
        _check_directory_stat(names, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_directory(names: Names) -> bool:
    """Whether the directory of ``names`` exists; raises ``StoreError`` when it is unsafe."""
    fd = open_directory(names)
    if fd is None:
        return False
    os.close(fd)
    return True


def directory_mode_for(file_mode: int) -> int:
    """0700, plus group/other r-x when the files get group/other read."""
    mode = 0o700
    if file_mode & 0o040:
        mode |= 0o050
    if file_mode & 0o004:
        mode |= 0o005
    return mode


def open_in(names: Names, dir_fd: int, file_name: str, write: bool = False, create: bool = False,
            exclusive: bool = False, mode: int = 0o600) -> int:
    """Opens ``file_name`` in the checked directory ``dir_fd`` with ``O_NOFOLLOW | O_NONBLOCK |
    O_CLOEXEC`` and checks the descriptor: a regular file, owned by the effective uid, root or a
    trusted owner, not writable by group or others. Raises ``FileNotFoundError`` when missing and
    ``StoreError`` when unsafe (a symbolic link, a FIFO or device, a foreign owner, group/other write)."""
    path = os.path.join(names.directory, file_name)
    flags = (os.O_RDWR if write else os.O_RDONLY) | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC
    if create:
        flags |= os.O_CREAT
    if exclusive:
        flags |= os.O_EXCL
    try:
        fd = os.open(file_name, flags, mode, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise StoreError(f"'{path}' is a symbolic link; remove it: the files of a name are never links.") from None
        if e.errno == errno.ENXIO:
            raise StoreError(f"'{path}' is a FIFO or socket; remove it: only a publisher creates the files of a name.") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"'{path}' is {_describe(st.st_mode)}, not a regular file; remove it: only a publisher creates the files of a name.")
        if not names.owner_ok(st.st_uid):
            raise StoreError(f"'{path}' belongs to user {st.st_uid}, not to this user ({os.geteuid()}) or root; {_fix_for_owner(st.st_uid)}.")
        if st.st_mode & 0o022:
            raise StoreError(
                f"'{path}' is writable by group or other users (mode {stat.S_IMODE(st.st_mode):04o}), who could change or truncate "
                "it under its readers; delete the name and publish it again (shmap never creates such files).")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def is_temp_of(name: str, file_name: str) -> bool:
    """Whether ``file_name`` is ``.name.<digits>.<32 lowercase hex>.tmp`` (so name ``a`` never
    claims name ``a.1``'s temp files)."""
    prefix = "." + name + "."
    if not file_name.startswith(prefix) or not file_name.endswith(TEMP_SUFFIX):
        return False
    tail = file_name[len(prefix): len(file_name) - len(TEMP_SUFFIX)]
    dot = tail.find(".")
    if dot <= 0:
        return False
    pid, rest = tail[:dot], tail[dot + 1:]
    return pid.isascii() and pid.isdigit() and len(rest) == 32 and all(c in "0123456789abcdef" for c in rest)
