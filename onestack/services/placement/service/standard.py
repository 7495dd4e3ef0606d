"""The standard resource classes and traits (from ``os-resource-classes`` and ``os-traits``, which
Placement itself reads) and the rules for custom names."""

from __future__ import annotations

import re

import os_resource_classes
import os_traits

CUSTOM_NAME = re.compile(r"^CUSTOM_[A-Z0-9_]+$")
RESOURCE_CLASSES: frozenset[str] = frozenset(os_resource_classes.STANDARDS)
# Placement serves standard classes in the library's order, then custom ones by name.
RESOURCE_CLASS_ORDER: tuple[str, ...] = tuple(os_resource_classes.STANDARDS)
TRAITS: frozenset[str] = frozenset(os_traits.get_traits())


def is_custom(name: str) -> bool:
    return bool(CUSTOM_NAME.match(name))
