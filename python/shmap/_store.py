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
    or lone surrogate -- exactly the C# library's rule."""
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

    def new_temp(self) -> str:
        return os.path.join(self.directory, f".{self.name}.{os.getpid()}.{os.urandom(16).hex()}{TEMP_SUFFIX}")

    def owner_ok(self, uid: int) -> bool:
        return uid == os.geteuid() or uid == 0 or uid in self.trusted


def _fix_for_owner(path: str) -> str:
    return f"make it owned by uid {os.geteuid()} (chown), or pass its owner in trusted_owners if you trust it"


def check_directory(names: Names) -> bool:
    """Checks the directory of ``names`` (lstat, not following a final symlink): a directory, owned
    by the effective uid, root or a trusted owner, with no group/other write unless sticky. Returns
    False when it does not exist; raises ``StoreError`` when it is unsafe."""
    path = names.directory
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise StoreError(f"The shmap directory '{path}' is a symbolic link; point SHMAP_DIR (or the directory argument) at the real directory.")
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(f"The shmap directory '{path}' is not a directory; remove it or choose another directory.")
    if not names.owner_ok(st.st_uid):
        raise StoreError(f"The shmap directory '{path}' is owned by uid {st.st_uid}, not by this user ({os.geteuid()}) or root; {_fix_for_owner(path)}.")
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        raise StoreError(f"The shmap directory '{path}' is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}) without the sticky bit; chmod go-w '{path}'.")
    return True


def ensure_directory(names: Names, file_mode: int) -> None:
    """Creates the directory when missing (mode 0700, plus group/other r-x when the files get
    group/other read), then checks it."""
    if check_directory(names):
        return
    mode = 0o700
    if file_mode & 0o040:
        mode |= 0o050
    if file_mode & 0o004:
        mode |= 0o005
    parent = os.path.dirname(os.path.abspath(names.directory))
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, 0o700, exist_ok=True)
    try:
        os.mkdir(names.directory, mode)
    except FileExistsError:
        pass
    if not check_directory(names):
        raise StoreError(f"Could not create the shmap directory '{names.directory}'.")


def open_checked(names: Names, path: str, write: bool = False, create: bool = False, mode: int = 0o600) -> int:
    """Opens ``path`` with ``O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`` and checks the descriptor: a
    regular file, owned by the effective uid, root or a trusted owner, not writable by group or
    others. Returns the descriptor; raises ``FileNotFoundError`` when missing (or a symlink's
    ``ELOOP`` turned into ``StoreError``) and ``StoreError`` when unsafe."""
    flags = (os.O_RDWR if write else os.O_RDONLY) | _O_NOFOLLOW | _O_NONBLOCK | _O_CLOEXEC
    if create:
        flags |= os.O_CREAT
    try:
        fd = os.open(path, flags, mode)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise StoreError(f"'{path}' is a symbolic link; shmap never follows links in its directory. Remove it.") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise StoreError(f"'{path}' is not a regular file (mode {st.st_mode:o}); remove it.")
        if not names.owner_ok(st.st_uid):
            raise StoreError(f"'{path}' is owned by uid {st.st_uid}, not by this user ({os.geteuid()}) or root; {_fix_for_owner(path)}.")
        if st.st_mode & 0o022:
            raise StoreError(f"'{path}' is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); chmod go-w '{path}' or publish again.")
        if _O_NONBLOCK:
            # Reads of a regular file never block; clear the flag so that nothing later depends on it.
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
