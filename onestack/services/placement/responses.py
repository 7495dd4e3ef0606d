"""What Placement's bodies promise, as JSON Schema: the routes' ``response=``, published in the OpenAPI
description and checked by the fuzzer against every success.

Tempest ships no response schemas for Placement; the facts are Placement's API reference.  Required are the
keys every microversion shows; ``parent_provider_uuid`` and ``root_provider_uuid`` (1.14) are optional, and
other keys may follow.
"""

from __future__ import annotations

from onestack.http.shapes import INTEGER, LINKS, NUMBER, STRING, array, nullable, obj

_PROVIDER = obj({"uuid": STRING, "name": STRING, "generation": INTEGER, "links": LINKS},
                {"parent_provider_uuid": nullable(STRING), "root_provider_uuid": STRING})
PROVIDER = _PROVIDER
PROVIDERS = obj({"resource_providers": array(_PROVIDER)})

_INVENTORY = {"total": INTEGER, "reserved": INTEGER, "min_unit": INTEGER, "max_unit": INTEGER,
              "step_size": INTEGER, "allocation_ratio": NUMBER}
_GENERATION = {"resource_provider_generation": INTEGER}
INVENTORIES = obj({**_GENERATION, "inventories": {"type": "object", "additionalProperties": obj(_INVENTORY)}})
INVENTORY = obj({**_GENERATION, **_INVENTORY})
# a class -> the amount used
_AMOUNTS = {"type": "object", "additionalProperties": INTEGER}
PROVIDER_USAGES = obj({**_GENERATION, "usages": _AMOUNTS})
TRAITS = obj({"traits": array(STRING)})
PROVIDER_TRAITS = obj({**_GENERATION, "traits": array(STRING)})
_CLASS = obj({"name": STRING, "links": LINKS})
RESOURCE_CLASS = _CLASS
RESOURCE_CLASSES = obj({"resource_classes": array(_CLASS)})
