"""The resource types a template may use, by name."""

from __future__ import annotations

from onestack.services.orchestration.service.resources import (
    cinder,
    docker,
    glance,
    heat,
    keystone,
    nested,
    neutron,
    nova,
    software,
    structured,
    swift,
    swiftsignal,
)
from onestack.services.orchestration.service.resources.base import ResourceType

TYPES: dict[str, type[ResourceType]] = {
    t.name: t for t in (heat.RandomString, heat.Value, heat.NoneResource, heat.TestResource,
                        *neutron.TYPES, *nova.TYPES, *cinder.TYPES, *nested.TYPES,
                        *software.TYPES, *structured.TYPES, *swift.TYPES, *swiftsignal.TYPES, *keystone.TYPES, *glance.TYPES,
                        *docker.TYPES)}


def known(name: str) -> type[ResourceType] | None:
    return TYPES.get(name)


# Types that only the engine chooses (a provider template's resource), found again by the name a row records.
INTERNAL: dict[str, type[ResourceType]] = {nested.TemplateResource.name: nested.TemplateResource}


def implementation(name: str) -> type[ResourceType] | None:
    """The type that made a resource, by the implementation name its row records."""
    return TYPES.get(name) or INTERNAL.get(name)
