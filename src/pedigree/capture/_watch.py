"""Linux inotify through ctypes: "has any of these files changed since I last looked?"

Re-checking a checkout by ``lstat`` of every tracked file costs a few microseconds per
file, which in a repository of a few hundred files is already more than an empty
captured run may cost. An inotify watch on the directories that hold tracked files
answers the same question with one non-blocking ``read``. Events on names that do not
matter (untracked outputs written next to the code, editor swap files) are ignored.

Only a hint for the caller: whenever it cannot be sure (no inotify, a watch limit, a
queue overflow, a watched directory moved or deleted, a forked child) it says
"changed", and the caller falls back to the ``lstat`` snapshot.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from collections.abc import Mapping

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = 0o2000000

MASK = (
    IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
)
WATCH_LOST = IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF

MAX_DIRECTORIES = 2_000
"""More directories than this: no watch (the per-user inotify limit is shared)."""

_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
_libc: ctypes.CDLL | None = None


def available() -> bool:
    return sys.platform.startswith("linux")


def _inotify() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        _libc = libc
    return _libc


class Watch:
    """A watch on ``{directory: names that matter in it}`` (all ``bytes`` paths)."""

    def __init__(self, names_by_directory: Mapping[bytes, set[bytes]]) -> None:
        """Raises ``OSError`` when inotify is unavailable or a limit is reached."""
        if not available():
            raise OSError("inotify is Linux-only")
        if len(names_by_directory) > MAX_DIRECTORIES:
            raise OSError(f"more than {MAX_DIRECTORIES} directories to watch")
        libc = _inotify()
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._fd = fd
        self._pid = os.getpid()
        self.lost = False
        self._names: dict[int, set[bytes]] = {}
        try:
            for directory, names in names_by_directory.items():
                wd = libc.inotify_add_watch(fd, directory, MASK)
                if wd < 0:
                    raise OSError(ctypes.get_errno(), "inotify_add_watch failed", directory)
                self._names.setdefault(wd, set()).update(names)
        except BaseException:
            self.close()
            raise

    def changed(self) -> bool:
        """Whether a name that matters changed since the last call (drains the queue)."""
        if self.lost or os.getpid() != self._pid:
            return True
        changed = False
        while True:
            try:
                buffer = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return changed
            except OSError:
                self.lost = True
                return True
            offset = 0
            while offset < len(buffer):
                wd, mask, _cookie, length = _EVENT.unpack_from(buffer, offset)
                start = offset + _EVENT.size
                name = buffer[start : start + length].rstrip(b"\0")
                offset = start + length
                if mask & WATCH_LOST:
                    self.lost = True
                    changed = True
                elif name in self._names.get(wd, ()):
                    changed = True

    def close(self) -> None:
        if self._fd >= 0:
            # also in a forked child: that drops only the child's reference to the queue
            os.close(self._fd)
            self._fd = -1
        self.lost = True
