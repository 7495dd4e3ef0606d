"""The Block Storage service's routes (Cinder v3 with microversions) under /volume."""

from onestack.http.errors import nova_fault
from onestack.http.routing import Service
from onestack.services.volume.api import (
    actions,
    attachments,
    backups,
    discovery,
    encryption,
    groups,
    info,
    messages,
    qos,
    quotas,
    services,
    snapshots,
    transfers,
    types,
    volumes,
)
from onestack.services.volume.versions import MICROVERSIONS


def service() -> Service:
    # Cinder's fault bodies have Nova's shape: {"itemNotFound": {"code": 404, "message": ...}}.
    return Service("block-storage", "/volume", nova_fault, [
        *discovery.ROUTES, *volumes.ROUTES, *actions.ROUTES, *snapshots.ROUTES, *types.ROUTES, *quotas.ROUTES,
        *services.ROUTES, *attachments.ROUTES, *backups.ROUTES, *transfers.ROUTES, *qos.ROUTES,
        *messages.ROUTES, *info.ROUTES, *encryption.ROUTES,
        *groups.ROUTES], microversions=MICROVERSIONS)
