"""OS-EP-FILTER: which endpoints a project's catalog shows.

A project with endpoints or endpoint groups associated sees only those; a
project with none sees the whole catalog (Keystone's
``return_all_endpoints_if_no_filter``, on by default).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.services.identity.models import Endpoint, EndpointGroup, ProjectEndpoint, ProjectEndpointGroup


def matches(endpoint: Endpoint, filters: dict) -> bool:
    return all(getattr(endpoint, key, None) == value for key, value in filters.items())


def group_endpoints(session: Session, group: EndpointGroup) -> list[Endpoint]:
    return [e for e in session.scalars(select(Endpoint).order_by(Endpoint.id)) if matches(e, group.filters or {})]


def project_endpoint_ids(session: Session, project_id: str) -> set[str] | None:
    """The endpoints a project may see, or None when nothing narrows its catalog."""
    direct = set(session.scalars(select(ProjectEndpoint.endpoint_id).where(ProjectEndpoint.project_id == project_id)))
    groups = session.scalars(select(EndpointGroup).join(
        ProjectEndpointGroup, ProjectEndpointGroup.endpoint_group_id == EndpointGroup.id).where(
        ProjectEndpointGroup.project_id == project_id)).all()
    for group in groups:
        direct |= {e.id for e in group_endpoints(session, group)}
    return direct or None
