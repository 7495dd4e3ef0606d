"""Orchestration's records: stacks (the desired template and the action under way), their resources and
the events of every transition.

A stack row is the desired state: its template, files, environment and parameters, and the action the
engine is converging it to (``action`` with ``status`` ``IN_PROGRESS``; ``generation`` counts the actions
so that a step of an older one never writes over a newer one).  A resource row is one resource of the
template as it exists: its physical id, the properties it was last made with, its cached attributes.
"""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.db.base import Base, UTCDateTime, utcnow


class Stack(Base):
    __tablename__ = "orchestration_stack"
    __table_args__ = (Index("ix_orchestration_stack_project_name", "project_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(255), default="")
    template: Mapped[dict] = mapped_column(JSON)
    files: Mapped[dict] = mapped_column(JSON, default=dict)
    environment: Mapped[dict] = mapped_column(JSON, default=dict)
    # What the caller passed; defaults come from the template when the stack is resolved.
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    # The definition an UPDATE replaced, kept while it runs: a rollback converges back to it.
    previous: Mapped[dict | None] = mapped_column(JSON)
    # During a ROLLBACK, the action it undoes: CREATE (remove everything) or UPDATE (back to ``previous``).
    rollback_of: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    generation: Mapped[int] = mapped_column(Integer, default=1)
    # When the action under way began: its timeout counts from here.
    action_started_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disable_rollback: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_mins: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # A nested stack's parent stack and the parent's resource it stands for (None for a top-level stack).
    owner_id: Mapped[str | None] = mapped_column(String(36), index=True)
    parent_resource: Mapped[str | None] = mapped_column(String(255))
    # A nested stack's view of that resource (``resource_facade``): its resolved metadata, deletion_policy
    # and update_policy, written when the parent creates or updates the child.
    facade: Mapped[dict | None] = mapped_column(JSON)
    # The owner's delegation to the cloud's orchestration user; the engine acts through it.
    trust_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime, index=True)


class StackResource(Base):
    """One resource of a stack.  During an update that replaces it, the old and the new one are two rows
    of the same name; ``current`` marks the one the template now means."""

    __tablename__ = "orchestration_resource"
    __table_args__ = (Index("ix_orchestration_resource_stack_name", "stack_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stack_id: Mapped[str] = mapped_column(ForeignKey("orchestration_stack.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    physical_id: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16), default="INIT")
    status: Mapped[str] = mapped_column(String(16), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    # The stack generation that last acted on it: a resource is done for an action when it matches.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    # The resolved properties it was last created or updated with (what an update compares against).
    properties: Mapped[dict] = mapped_column(JSON, default=dict)
    # The definition's own parts that are not properties: depends_on, deletion_policy, metadata.
    definition: Mapped[dict] = mapped_column(JSON, default=dict)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    # What a type keeps for itself: a generated value, the physical name it asked for, a signal's data.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    requires: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)


class StackEvent(Base):
    __tablename__ = "orchestration_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    stack_id: Mapped[str] = mapped_column(ForeignKey("orchestration_stack.id", ondelete="CASCADE"), index=True)
    resource_name: Mapped[str] = mapped_column(String(255))
    physical_resource_id: Mapped[str] = mapped_column(String(255), default="")
    resource_type: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StackSnapshot(Base):
    """A stack's data as it was when the snapshot was taken (the abandon data): restore converges the stack
    back to its template, environment, files and parameters."""

    __tablename__ = "orchestration_snapshot"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stack_id: Mapped[str] = mapped_column(ForeignKey("orchestration_stack.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    # IN_PROGRESS while the stack's SNAPSHOT runs, then COMPLETE or FAILED with it.
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftwareConfig(Base):
    """A software config: immutable once made (Heat's configs are replaced, never changed)."""

    __tablename__ = "orchestration_software_config"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    group: Mapped[str] = mapped_column(String(255), default="Heat::Ungrouped")
    config: Mapped[str] = mapped_column(Text, default="")
    # A structured config's config is a map (StructuredConfig): kept here, with ``config`` left empty.
    config_map: Mapped[dict | None] = mapped_column(JSON)
    inputs: Mapped[list] = mapped_column(JSON, default=list)
    outputs: Mapped[list] = mapped_column(JSON, default=list)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftwareDeployment(Base):
    """A config deployed to a server: the server's agent reads its metadata and reports back."""

    __tablename__ = "orchestration_software_deployment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    config_id: Mapped[str] = mapped_column(String(36))
    server_id: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(255), default="INIT")
    status: Mapped[str] = mapped_column(String(255), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    input_values: Mapped[dict] = mapped_column(JSON, default=dict)
    output_values: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
