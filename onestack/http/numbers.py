"""Integers spelled in text a client sent: query parameters, headers, path segments, form fields.

``int()`` refuses text of more than 4,300 digits with a ValueError (Python's guard against quadratic
conversion), which a check like ``text.isdecimal() and int(text) < bound`` turns into a 500.  No bound a cloud
checks has more than a few dozen digits, so a longer number saturates instead: it is beyond every bound.
"""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"-?[0-9]+")
SATURATED = 10**40  # beyond every bound onestack checks (the largest is 2**64)


def decimal(text: str, *, signed: bool = False) -> int | None:
    """The integer ``text`` spells in ASCII digits (with a leading ``-`` when ``signed``), None when it is not
    one; a number of more than 40 digits is ``±SATURATED``."""
    if not _DECIMAL.fullmatch(text) or (text.startswith("-") and not signed):
        return None
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("-").lstrip("0")
    return sign * SATURATED if len(digits) > 40 else sign * int(digits or "0")
