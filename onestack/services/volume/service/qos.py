"""QoS specs: named limits (``total_iops_sec``, ``read_bytes_sec``...) for a consumer (``front-end``: the
hypervisor; ``back-end``: the storage; ``both``), associated with volume types.

They are kept and shown as Cinder does.  A ``front-end`` (or ``both``) spec of a volume's type goes into the
connection compute is given (``front_end_limits``), whose host makes it a QEMU throttle group on the guest's
disk; the file backend has no back-end limits.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, Conflict, NotFound
from onestack.services.volume.models import QosSpecs, VolumeType
from onestack.services.volume.policies import authorize
from onestack.services.volume.service import types

CONSUMERS = ("front-end", "back-end", "both")
# A per-GB key's limit is its value times the volume's size, and at least its ``_min`` key when there is one.
PER_GB, PER_GB_MIN = "_per_gb", "_per_gb_min"


def front_end_limits(session: Session, volume_type: VolumeType, size_gb: int) -> dict[str, str] | None:
    """The QoS keys the guest's host enforces on a volume of the type and size (Cinder's ``qos_specs`` of a
    connection): the type's spec when it is for the front end, each ``<key>_per_gb`` turned into ``<key>``;
    None when the type has none."""
    row = session.get(QosSpecs, volume_type.qos_specs_id) if volume_type.qos_specs_id else None
    if row is None or row.consumer not in ("front-end", "both"):
        return None
    limits: dict[str, str] = {}
    for key, value in row.specs.items():
        if key.endswith(PER_GB_MIN):
            continue
        if key.endswith(PER_GB):
            base = key.removesuffix(PER_GB)
            try:
                found = int(value) * size_gb
                floor = int(row.specs.get(base + PER_GB_MIN, 0))
            except ValueError:
                continue  # not a number: no limit (Cinder keeps keys as strings and checks none)
            limits.setdefault(base, str(max(found, floor)))
        else:
            limits[key] = str(value)
    return limits or None


def _consumer(value) -> str:
    if value not in CONSUMERS:
        raise BadRequest(f"Invalid input received: consumer must be one of {', '.join(CONSUMERS)}, not {value!r}.")
    return value


class Qos:
    def __init__(self, db: Database, changed: Callable[[set[str]], None] = lambda type_ids: None):
        """``changed``: told the types whose front-end limits a change may have moved, after it is written."""
        self.db = db
        self.changed = changed

    @staticmethod
    def _types_of(session: Session, row: QosSpecs) -> set[str]:
        return set(session.scalars(select(VolumeType.id).where(VolumeType.qos_specs_id == row.id)))

    @staticmethod
    def _load(session: Session, ident: str) -> QosSpecs:
        row = session.get(QosSpecs, ident) if isinstance(ident, str) else None
        if row is None:
            raise NotFound(f"QoS Specs {ident} could not be found.")
        return row

    def create(self, ctx: Context, name: str, consumer: str, specs: dict[str, str]) -> QosSpecs:
        authorize(ctx, "volume_extension:qos_specs_manage:create")
        with self.db.write() as session:
            if session.scalars(select(QosSpecs.id).where(QosSpecs.name == name)).first() is not None:
                raise Conflict(f"QoS Specs {name} already exists.")
            row = QosSpecs(id=str(uuid.uuid4()), name=name, consumer=_consumer(consumer), specs=dict(specs))
            session.add(row)
            session.flush()
            return row

    def show(self, ctx: Context, ident: str) -> QosSpecs:
        authorize(ctx, "volume_extension:qos_specs_manage:get")
        with self.db.read() as session:
            return self._load(session, ident)

    def listing(self, ctx: Context) -> list[QosSpecs]:
        authorize(ctx, "volume_extension:qos_specs_manage:get_all")
        with self.db.read() as session:
            return list(session.scalars(select(QosSpecs).order_by(QosSpecs.created_at, QosSpecs.id)))

    def set_keys(self, ctx: Context, ident: str, specs: dict[str, str]) -> dict[str, str]:
        """Set keys (``consumer`` among them changes the consumer); the keys as set."""
        authorize(ctx, "volume_extension:qos_specs_manage:update")
        keys = dict(specs)
        with self.db.write() as session:
            row = self._load(session, ident)
            if "consumer" in keys:
                row.consumer = _consumer(keys.pop("consumer"))
            row.specs = {**row.specs, **keys}
            moved = self._types_of(session, row)
        self.changed(moved)
        return dict(specs)

    def unset_keys(self, ctx: Context, ident: str, keys: list[str]) -> None:
        authorize(ctx, "volume_extension:qos_specs_manage:update")
        with self.db.write() as session:
            row = self._load(session, ident)
            missing = [k for k in keys if k not in row.specs]
            if missing:
                raise NotFound(f"QoS spec {', '.join(missing)} not found in QoS Specs {row.id}.")
            row.specs = {k: v for k, v in row.specs.items() if k not in keys}
            moved = self._types_of(session, row)
        self.changed(moved)

    def delete(self, ctx: Context, ident: str, force: bool) -> None:
        authorize(ctx, "volume_extension:qos_specs_manage:delete")
        with self.db.write() as session:
            row = self._load(session, ident)
            associated = list(session.scalars(select(VolumeType).where(VolumeType.qos_specs_id == row.id)))
            if associated and not force:
                raise BadRequest(f"QoS Specs {row.id} is still associated with entities.")
            for volume_type in associated:
                volume_type.qos_specs_id = None
            session.delete(row)
        self.changed({t.id for t in associated})

    def associations(self, ctx: Context, ident: str) -> list[VolumeType]:
        authorize(ctx, "volume_extension:qos_specs_manage:get")
        with self.db.read() as session:
            row = self._load(session, ident)
            return list(session.scalars(select(VolumeType).where(VolumeType.qos_specs_id == row.id)
                                        .order_by(VolumeType.name)))

    def associate(self, ctx: Context, ident: str, type_id: str | None, *, associate: bool = True) -> None:
        authorize(ctx, "volume_extension:qos_specs_manage:update")
        if not type_id:
            raise BadRequest("Invalid input received: vol_type_id is required to associate or disassociate.")
        with self.db.write() as session:
            row = self._load(session, ident)
            volume_type = types.find(session, ctx, type_id)
            if not associate:
                if volume_type.qos_specs_id == row.id:
                    volume_type.qos_specs_id = None
                moved = {volume_type.id}
            elif volume_type.qos_specs_id not in (None, row.id):
                raise BadRequest(f"Invalid input received: Type {volume_type.id} is already associated with "
                                 f"another qos specs: {volume_type.qos_specs_id}.")
            else:
                volume_type.qos_specs_id = row.id
                moved = {volume_type.id}
        self.changed(moved)

    def disassociate_all(self, ctx: Context, ident: str) -> None:
        authorize(ctx, "volume_extension:qos_specs_manage:update")
        with self.db.write() as session:
            row = self._load(session, ident)
            moved = set()
            for volume_type in session.scalars(select(VolumeType).where(VolumeType.qos_specs_id == row.id)):
                volume_type.qos_specs_id = None
                moved.add(volume_type.id)
        self.changed(moved)
