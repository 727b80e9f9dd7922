"""Atomic file writes: a reader never sees a half-written file, and a failed write leaves the old one intact."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_writer(path: str | os.PathLike, binary: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; rename it over ``path`` only if the block succeeds.

    The temporary file lives in the same folder so that the final ``os.replace`` is atomic on POSIX.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        usual_permissions(temporary)  # mkstemp makes 0600
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def usual_permissions(path: str | os.PathLike) -> None:
    """Give a file made by mkstemp (0600) or a folder made by mkdtemp (0700) the permissions the umask gives."""
    os.chmod(path, (0o777 if Path(path).is_dir() else 0o666) & ~_current_umask())


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a whole text file atomically."""
    with atomic_writer(path) as handle:
        handle.write(text)
