"""The object expirer: objects past their X-Delete-At really go (rows, counters and bytes).

Keys are ``account NUL container NUL object`` (NUL is the one character no name holds); a key re-reads
the object, so an object rewritten without an expiry since it was listed is left alone.
"""

from __future__ import annotations

from onestack.services.object.service import ObjectService

SEP = "\x00"


def due(svc: ObjectService) -> list[str]:
    return [SEP.join(names) for names in svc.expired()]


def handle(svc: ObjectService, key: str) -> None:
    account, container, name = key.split(SEP, 2)
    svc.expire(account, container, name)
