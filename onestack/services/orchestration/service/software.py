"""Software configs and deployments, as Heat's API keeps them: a config is immutable (made, read, deleted);
a deployment ties a config to a server and carries the state its agent reports back.  A server's
deployments' configs, with their input values, are what ``/software_deployments/metadata/{server}`` gives
the agent on the guest."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from onestack.db.base import utcnow
from onestack.db.engine import Database
from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.services.orchestration.models import SoftwareConfig, SoftwareDeployment
from onestack.services.orchestration.policies import authorize

UNGROUPED = "Heat::Ungrouped"


def _string(body: dict, key: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    return value


def _typed(body: dict, key: str, kind: type, default):
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise BadRequest(f"{key} must be a {'list' if kind is list else 'map'}")
    return value


def _owned(session, model, row_id: str, project_id: str):
    """The config or deployment ``row_id`` of ``project_id``; another project's is as missing as none."""
    row = session.get(model, row_id)
    if row is None or row.project_id != project_id:
        what = "Software config" if model is SoftwareConfig else "Deployment"
        raise NotFound(f"{what} with id {row_id} not found", kind="NotFound")
    return row


class Software:
    def __init__(self, db: Database):
        self.db = db

    # -- configs -------------------------------------------------------------------------------------------
    def create_config(self, ctx: Context, project_id: str, body: dict) -> SoftwareConfig:
        authorize(ctx, "software_configs:create", project_id)
        return self.make_config(project_id, body)

    def make_config(self, project_id: str, body: dict) -> SoftwareConfig:
        """A config as a request or a SoftwareConfig resource describes it."""
        # A map is a structured config's (StructuredConfig); anything else must be text.
        structured = body.get("config") if isinstance(body.get("config"), dict) else None
        row = SoftwareConfig(id=str(uuid.uuid4()), project_id=project_id, name=_string(body, "name"),
                             group=_string(body, "group", UNGROUPED) or UNGROUPED,
                             config="" if structured is not None else _string(body, "config"),
                             config_map=structured,
                             inputs=_typed(body, "inputs", list, []), outputs=_typed(body, "outputs", list, []),
                             options=_typed(body, "options", dict, {}), created_at=utcnow())
        with self.db.write() as session:
            session.add(row)
        return row

    def configs(self, ctx: Context, project_id: str) -> list[SoftwareConfig]:
        authorize(ctx, "software_configs:index", project_id)
        with self.db.read() as session:
            return list(session.scalars(select(SoftwareConfig).where(SoftwareConfig.project_id == project_id)
                                        .order_by(SoftwareConfig.created_at)))

    def config(self, ctx: Context | None, project_id: str, config_id: str) -> SoftwareConfig:
        if ctx is not None:
            authorize(ctx, "software_configs:show", project_id)
        with self.db.read() as session:
            return _owned(session, SoftwareConfig, config_id, project_id)

    def delete_config(self, ctx: Context | None, project_id: str, config_id: str) -> None:
        if ctx is not None:
            authorize(ctx, "software_configs:delete", project_id)
        with self.db.write() as session:
            session.delete(_owned(session, SoftwareConfig, config_id, project_id))

    # -- deployments -----------------------------------------------------------------------------------------
    def create_deployment(self, ctx: Context, project_id: str, body: dict) -> SoftwareDeployment:
        authorize(ctx, "software_deployments:create", project_id)
        config_id, server_id = body.get("config_id"), body.get("server_id")
        if not isinstance(server_id, str) or not server_id:
            raise BadRequest("server_id is required")
        if not isinstance(config_id, str) or not config_id:
            raise BadRequest("config_id is required")
        self.config(None, project_id, config_id)
        row = SoftwareDeployment(id=str(uuid.uuid4()), project_id=project_id, config_id=config_id,
                                 server_id=server_id, action=_string(body, "action", "INIT"),
                                 status=_string(body, "status", "COMPLETE"),
                                 status_reason=_string(body, "status_reason"),
                                 input_values=_typed(body, "input_values", dict, {}),
                                 output_values={}, created_at=utcnow())
        with self.db.write() as session:
            session.add(row)
        return row

    def deployments(self, ctx: Context, project_id: str, server_id: str | None = None
                    ) -> list[SoftwareDeployment]:
        authorize(ctx, "software_deployments:index", project_id)
        with self.db.read() as session:
            stmt = select(SoftwareDeployment).where(SoftwareDeployment.project_id == project_id)
            if server_id:
                stmt = stmt.where(SoftwareDeployment.server_id == server_id)
            return list(session.scalars(stmt.order_by(SoftwareDeployment.created_at)))

    def deployment(self, ctx: Context, project_id: str, deployment_id: str) -> SoftwareDeployment:
        authorize(ctx, "software_deployments:show", project_id)
        with self.db.read() as session:
            return _owned(session, SoftwareDeployment, deployment_id, project_id)

    def update_deployment(self, ctx: Context, project_id: str, deployment_id: str, body: dict
                          ) -> SoftwareDeployment:
        authorize(ctx, "software_deployments:update", project_id)
        if body.get("config_id") is not None:
            self.config(None, project_id, body["config_id"])
        with self.db.write() as session:
            row = _owned(session, SoftwareDeployment, deployment_id, project_id)
            for key in ("action", "status", "status_reason", "config_id"):
                if body.get(key) is not None:
                    setattr(row, key, _string(body, key))
            for key in ("input_values", "output_values"):
                if body.get(key) is not None:
                    setattr(row, key, _typed(body, key, dict, {}))
            row.updated_at = utcnow()
        return row

    def delete_deployment(self, ctx: Context, project_id: str, deployment_id: str) -> None:
        authorize(ctx, "software_deployments:delete", project_id)
        with self.db.write() as session:
            session.delete(_owned(session, SoftwareDeployment, deployment_id, project_id))

    def metadata(self, ctx: Context, project_id: str, server_id: str) -> list[tuple[SoftwareDeployment,
                                                                                     SoftwareConfig]]:
        """A server's deployments with their configs, oldest first (what its agent applies)."""
        authorize(ctx, "software_deployments:metadata", project_id)
        with self.db.read() as session:
            pairs = session.execute(
                select(SoftwareDeployment, SoftwareConfig)
                .join(SoftwareConfig, SoftwareConfig.id == SoftwareDeployment.config_id)
                .where(SoftwareDeployment.project_id == project_id, SoftwareDeployment.server_id == server_id)
                .order_by(SoftwareDeployment.created_at)).all()
        return [(d, c) for d, c in pairs]
