"""Account and container quotas: a write that would take an account or a container past its quota is a 413.

``X-Account-Meta-Quota-Bytes`` and ``X-Account-Quota-Count`` (Swift 2.34's object-count quota) are the
reseller's to set (only ``ResellerAdmin`` may change them); ``X-Container-Meta-Quota-Bytes`` and
``-Quota-Count`` are the container owner's.
"""

from __future__ import annotations

from onestack.http import errors
from onestack.http.numbers import decimal
from onestack.services.object.models import Account, Container

ACCOUNT_BYTES = "X-Account-Meta-Quota-Bytes"
ACCOUNT_COUNT = "X-Account-Quota-Count"
RESELLER_ONLY = (ACCOUNT_BYTES, ACCOUNT_COUNT)
CONTAINER_BYTES = "X-Container-Meta-Quota-Bytes"
CONTAINER_COUNT = "X-Container-Meta-Quota-Count"
EXCEEDED = "Upload exceeds quota."


def check(changes: dict[str, str | None]) -> None:
    """400 when a quota the request sets is not a count of bytes or objects."""
    for key, what in ((ACCOUNT_BYTES, "quota"), (ACCOUNT_COUNT, "count quota"), (CONTAINER_BYTES, "bytes quota"),
                      (CONTAINER_COUNT, "count quota")):
        value = changes.get(key)
        if value and not value.strip().isdecimal():
            raise errors.BadRequest(f"Invalid {what}.")


def _limit(meta: dict, key: str) -> int | None:
    value = meta.get(key, "")
    return decimal(value)


def applies(account_meta: dict | None, container_meta: dict) -> bool:
    """Whether a write into the container is checked against any quota (its account's or its own)."""
    return any(key in (account_meta or {}) for key in RESELLER_ONLY) or \
        CONTAINER_BYTES in container_meta or CONTAINER_COUNT in container_meta


def room(account: Account, container: Container) -> int | None:
    """The bytes the quotas leave for one more write (None: no quota); 413 when a count quota is full."""
    for limit, used in ((_limit(container.meta, CONTAINER_COUNT), container.object_count),
                        (_limit(account.meta, ACCOUNT_COUNT), account.object_count)):
        if limit is not None and used + 1 > limit:
            raise errors.PayloadTooLarge(EXCEEDED)
    left = [limit - used for limit, used in ((_limit(account.meta, ACCOUNT_BYTES), account.bytes_used),
                                             (_limit(container.meta, CONTAINER_BYTES), container.bytes_used))
            if limit is not None]
    return max(min(left), 0) if left else None
