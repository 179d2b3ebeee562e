"""The data directory is private to the service's user: 0700, its files 0600."""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# No group or other bits on anything this process creates. A umask, not a chmod after
# the fact: SQLite, the file store and the lock files create their files themselves,
# and a file is never readable by others, not even for a moment.
PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700


def private_files() -> None:
    """Every file and directory this process creates from now on is its user's only."""
    os.umask(PRIVATE_UMASK)


def prepare(path: Path) -> Path:
    """Create the data directory 0700 (and tighten one an older version made 0755)."""
    private_files()
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    # Someone else's directory (a shared mount) is left as it is.
    with contextlib.suppress(PermissionError):
        if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR:
            path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read, also when it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        file.write(text)
