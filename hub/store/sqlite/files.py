"""The SQLite store's files: its owner's only (it holds job messages and results)."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

import structlog

__all__ = ["COMPANIONS", "narrow", "prepare_private_files"]

log = structlog.get_logger("hub.store.sqlite")

# The store holds whole job messages and results (criminal-record extracts): its owner only.
_FILE_MODE = 0o600
_DIR_MODE = 0o700
COMPANIONS = ("-wal", "-shm", "-journal")


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents readable by the owner only (0700);
    directories that exist are left as they are."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=_DIR_MODE)
            os.chmod(created, _DIR_MODE)  # the umask may have taken bits off, never added


def narrow(path: Path) -> None:
    """Make an existing store file owner-only; say so when it was wider."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & ~_FILE_MODE:
        log.warning("store.file_mode_narrowed", path=str(path), mode=oct(mode),
                    now=oct(_FILE_MODE))
        try:
            os.chmod(path, _FILE_MODE)
        except OSError as exc:
            log.warning("store.file_mode_not_narrowed", path=str(path), error=str(exc))


def prepare_private_files(path: Path) -> None:
    """Before SQLite opens ``path``: its directory exists (0700 if we make it), the database
    exists 0600 (SQLite gives its -wal, -shm and -journal files the database's mode), and any
    of them found wider is narrowed."""
    _make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in COMPANIONS)):
        narrow(file)
