"""Data files readable by their owner only: the journal, access.db (key digests, password
hashes, session digests), keys.yaml and the generated admin key hold what an attacker on
the same host wants, so the directory is 0700 and every file in it 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

UMASK = 0o077  # files 0600, directories 0700, whatever creates them (SQLite -wal/-shm too)


def restrict(data_dir: str | Path) -> None:
    """Set the owner-only umask for this process and tighten a data directory that an older
    version (or a lax umask) left readable by others: the directory, its files, its models.

    Only group and other bits are dropped, and only inside ``data_dir`` (its top level
    and the ``models`` folder), so pointing it at a shared folder cannot chmod a tree."""
    os.umask(UMASK)
    root = Path(data_dir)
    if not root.is_dir():
        return
    _tighten(root)
    for entry in root.iterdir():
        _tighten(entry)
    models = root / "models"
    if models.is_dir():
        for entry in models.rglob("*"):
            _tighten(entry)


def _tighten(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or not mode & 0o077:
            return
        os.chmod(path, stat.S_IMODE(mode) & ~0o077)
    except OSError:  # a file we do not own, or gone meanwhile: nothing to tighten here
        return


def private_file(path: str | Path) -> None:
    """Create ``path`` 0600 (and its folder 0700) if missing, so SQLite opening it next
    keeps that mode and gives its -wal/-shm/-journal files the same one."""
    path = Path(path)
    if str(path) == ":memory:" or path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)


def write_secret(path: str | Path, text: str) -> None:
    """Write a new file only its owner can read; refuse to overwrite one."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
