"""Where a Unix socket can live: a socket address holds at most 108 bytes, and data dirs can be deep."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

SOCKET_PATH_MAX = 108


def socket_dir(folder: Path, longest: str, kind: str) -> Path:
    """``folder`` when ``folder/longest`` fits a socket address, else a short private directory under the
    temporary directory named from ``folder`` (so the next process finds the same one)."""
    if len(str(folder / longest).encode()) < SOCKET_PATH_MAX:
        return folder
    short = Path(tempfile.gettempdir()) / kind / hashlib.sha1(str(folder).encode()).hexdigest()[:16]
    short.mkdir(mode=0o700, parents=True, exist_ok=True)
    return short
