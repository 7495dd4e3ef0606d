"""User messages (3.3): what went wrong with a project's volume, snapshot or backup, in words the project
may read, kept for 30 days (Cinder's ``message_ttl``).  The reconcilers write them when a task fails."""

from __future__ import annotations

import datetime
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.microversion import Version
from onestack.services.volume.models import Message
from onestack.services.volume.policies import authorize
from onestack.services.volume.service.access import load, scoped
from onestack.services.volume.service.lists import Page, listing

TTL = datetime.timedelta(days=30)
# Cinder's message actions: (id, what was being done).
ACTIONS = {
    "create": ("001", "schedule allocate volume"), "upload": ("003", "copy volume to image"),
    "image": ("005", "copy image to volume"), "extend": ("007", "extend volume"),
    "snapshot_create": ("009", "create snapshot"), "snapshot_delete": ("010", "delete snapshot"),
    "delete": ("024", "delete volume"), "backup_create": ("013", "create backup"),
    "backup_delete": ("014", "delete backup"), "backup_restore": ("015", "restore backup"),
    "reimage": ("022", "reimage volume"),
}
# Cinder's detail for a failure the words of which follow it.
DETAIL = ("001", "An unknown error occurred.")
FILTERS = {"event_id": "event_id", "resource_type": "resource_type", "resource_uuid": "resource_uuid",
           "request_id": "request_id", "id": "id"}
SORTABLE = {"id": "id", "event_id": "event_id", "created_at": "created_at", "resource_type": "resource_type",
            "resource_uuid": "resource_uuid"}


def record(session: Session, project_id: str, resource_type: str, resource_uuid: str, action: str,
           reason: str, request_id: str | None = None) -> None:
    """Tell the project that ``action`` on the resource failed, and why (expired messages go meanwhile).
    ``request_id``: the request that asked for it, else one of the task's own (Cinder's messages always
    name one)."""
    if action not in ACTIONS:
        return  # a task Cinder has no user message for (a revert's failure is the volume's fault)
    action_id, doing = ACTIONS[action]
    now = utcnow()
    session.execute(delete(Message).where(Message.expires_at <= now))
    session.add(Message(id=str(uuid.uuid4()), project_id=project_id, resource_type=resource_type,
                        resource_uuid=resource_uuid, event_id=f"VOLUME_{resource_type}_{action_id}_{DETAIL[0]}",
                        user_message=f"{doing}: {reason}", created_at=now, expires_at=now + TTL,
                        request_id=request_id or f"req-{uuid.uuid4()}"))


class Messages:
    def __init__(self, db: Database):
        self.db = db

    def show(self, ctx: Context, message_id: str) -> Message:
        with self.db.read() as session:
            message = load(session, Message, message_id, ctx, "Message")
            authorize(ctx, "message:get", message.project_id)
            return message

    def listing(self, ctx: Context, query, version: Version | None) -> Page:
        authorize(ctx, "message:get_all")
        with self.db.read() as session:
            stmt = scoped(select(Message), Message, ctx).where(Message.expires_at > utcnow())
            return listing(session, stmt, Message, query, version, filters=FILTERS, sortable=SORTABLE,
                           metadata=False)

    def delete(self, ctx: Context, message_id: str) -> None:
        with self.db.write() as session:
            message = load(session, Message, message_id, ctx, "Message")
            authorize(ctx, "message:delete", message.project_id)
            session.delete(message)
