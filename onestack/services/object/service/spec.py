"""What a write says about an object besides its bytes."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class ObjectSpec:
    """What a PUT says about the object besides its bytes."""

    content_type: str
    meta: dict[str, str]
    delete_at: int | None = None
    etag: str | None = None
    if_none_match: bool = False  # "If-None-Match: *": only if nothing of that name exists
