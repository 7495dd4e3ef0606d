"""What a request may carry: Swift's constraints (the limits ``/info`` publishes) and their checks."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.services.object.models import SYSMETA

MAX_FILE_SIZE = 5368709122
MAX_META_NAME_LENGTH = 128
MAX_META_VALUE_LENGTH = 256
MAX_META_COUNT = 90
MAX_META_OVERALL_SIZE = 4096
MAX_HEADER_SIZE = 8192
MAX_OBJECT_NAME_LENGTH = 1024
MAX_CONTAINER_NAME_LENGTH = 256
MAX_ACCOUNT_NAME_LENGTH = 256
CONTAINER_LISTING_LIMIT = 10000
ACCOUNT_LISTING_LIMIT = 10000

CONSTRAINTS = {
    "max_file_size": MAX_FILE_SIZE,
    "max_meta_name_length": MAX_META_NAME_LENGTH,
    "max_meta_value_length": MAX_META_VALUE_LENGTH,
    "max_meta_count": MAX_META_COUNT,
    "max_meta_overall_size": MAX_META_OVERALL_SIZE,
    "max_header_size": MAX_HEADER_SIZE,
    "max_object_name_length": MAX_OBJECT_NAME_LENGTH,
    "max_container_name_length": MAX_CONTAINER_NAME_LENGTH,
    "max_account_name_length": MAX_ACCOUNT_NAME_LENGTH,
    "container_listing_limit": CONTAINER_LISTING_LIMIT,
    "account_listing_limit": ACCOUNT_LISTING_LIMIT,
    "extra_header_count": 0,
}

# Headers an object keeps besides its user metadata, replaced as a whole by each POST (Swift's
# object server ``allowed_headers``).
OBJECT_HEADERS = frozenset({"Content-Disposition", "Content-Encoding", "X-Object-Manifest", "Cache-Control",
                            "Content-Language", "Expires", "X-Robots-Tag"})
# Kept across a POST and never set by a client: what makes the object what it is.
SYSTEM_META = frozenset({"X-Static-Large-Object"})
# Container settings stored with its metadata.
CONTAINER_HEADERS = frozenset({"X-Container-Read", "X-Container-Write", "X-Versions-Location",
                               "X-History-Location", "X-Versions-Enabled"})


def check_name(kind: str, name: str, limit: int) -> None:
    try:
        size = len(name.encode())
    except UnicodeEncodeError:  # a name decoded with surrogateescape (a tar member's): its bytes were not UTF-8
        raise BadRequest(f"{kind} name is not valid UTF-8") from None
    if size > limit:
        raise BadRequest(f"{kind} name length of {size} longer than {limit}")


def check_meta(meta: dict[str, str], kind: str) -> dict[str, str]:
    """``meta`` if its user metadata (``X-<Kind>-Meta-*``) is within Swift's limits, else 400."""
    prefix = f"X-{kind.title()}-Meta-"
    count = size = 0
    for key, value in meta.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        if not name:
            raise BadRequest("Metadata name cannot be empty")
        if len(name.encode()) > MAX_META_NAME_LENGTH:
            raise BadRequest(f"Metadata name too long; max {MAX_META_NAME_LENGTH}")
        if len(value.encode()) > MAX_META_VALUE_LENGTH:
            raise BadRequest(f"Metadata value longer than {MAX_META_VALUE_LENGTH}")
        count += 1
        size += len(name.encode()) + len(value.encode())
    if count > MAX_META_COUNT:
        raise BadRequest(f"Too many metadata items; max {MAX_META_COUNT}")
    if size > MAX_META_OVERALL_SIZE:
        raise BadRequest(f"Total metadata too large; max {MAX_META_OVERALL_SIZE}")
    return meta


def is_system(key: str) -> bool:
    """Whether an object's metadata key is the service's own (kept across POST, not copied, not shown
    when it is sysmeta)."""
    return key in SYSTEM_META or key.startswith(SYSMETA)
