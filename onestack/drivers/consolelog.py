"""Reading a guest's console log, whole or its last lines (``os-getConsoleOutput``'s ``length``)."""

from __future__ import annotations

from pathlib import Path


def read(log: Path, length: int | None = None) -> str | None:
    """The log's text (its last ``length`` lines if given); None when there is no log."""
    try:
        text = log.read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return None
    if length is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-length:]) if length > 0 else ""
    return text
