"""What other services may ask of Volume: the only module of it they import."""

from __future__ import annotations

from typing import Protocol


class Volume(Protocol):
    """The calls other services make (none yet)."""
