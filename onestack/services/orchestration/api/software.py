"""Software configs and deployments (Heat's ``/software_configs`` and ``/software_deployments``)."""

from __future__ import annotations

from onestack.http.errors import BadRequest
from onestack.http.listing import page, parse_limit
from onestack.http.routing import Call, Reply
from onestack.services.orchestration import responses, views
from onestack.services.orchestration.api.paths import orchestration, project, v1


def _body(call: Call) -> dict:
    body = call.body
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    return body


def create_config(call: Call) -> dict:
    row = orchestration(call).software.create_config(call.ctx, project(call), _body(call))
    return {"software_config": views.software_config(row)}


def list_configs(call: Call) -> dict:
    rows = orchestration(call).software.configs(call.ctx, project(call))
    rows, _ = page(rows, call.query, parse_limit(call.query))
    return {"software_configs": [views.software_config(r, summary=True) for r in rows]}


def show_config(call: Call) -> dict:
    row = orchestration(call).software.config(call.ctx, project(call), call.path["config_id"])
    return {"software_config": views.software_config(row)}


def delete_config(call: Call) -> Reply:
    orchestration(call).software.delete_config(call.ctx, project(call), call.path["config_id"])
    return Reply(None, 204)


def create_deployment(call: Call) -> dict:
    row = orchestration(call).software.create_deployment(call.ctx, project(call), _body(call))
    return {"software_deployment": views.software_deployment(row)}


def list_deployments(call: Call) -> dict:
    rows = orchestration(call).software.deployments(call.ctx, project(call), call.query.get("server_id"))
    return {"software_deployments": [views.software_deployment(r) for r in rows]}


def show_deployment(call: Call) -> dict:
    row = orchestration(call).software.deployment(call.ctx, project(call), call.path["deployment_id"])
    return {"software_deployment": views.software_deployment(row)}


def update_deployment(call: Call) -> dict:
    row = orchestration(call).software.update_deployment(call.ctx, project(call), call.path["deployment_id"],
                                                         _body(call))
    return {"software_deployment": views.software_deployment(row)}


def delete_deployment(call: Call) -> Reply:
    orchestration(call).software.delete_deployment(call.ctx, project(call), call.path["deployment_id"])
    return Reply(None, 204)


def deployment_metadata(call: Call) -> dict:
    pairs = orchestration(call).software.metadata(call.ctx, project(call), call.path["server_id"])
    return {"metadata": [views.deployed_config(d, c) for d, c in pairs]}


ROUTES = [
    v1("/software_configs", "POST", create_config, response=responses.SOFTWARE_CONFIG),
    v1("/software_configs", "GET", list_configs, response=responses.SOFTWARE_CONFIGS),
    v1("/software_configs/{config_id}", "GET", show_config, response=responses.SOFTWARE_CONFIG),
    v1("/software_configs/{config_id}", "DELETE", delete_config, status=204),
    v1("/software_deployments", "POST", create_deployment, response=responses.SOFTWARE_DEPLOYMENT),
    v1("/software_deployments", "GET", list_deployments, response=responses.SOFTWARE_DEPLOYMENTS),
    v1("/software_deployments/metadata/{server_id}", "GET", deployment_metadata,
       response=responses.DEPLOYMENT_METADATA),
    v1("/software_deployments/{deployment_id}", "GET", show_deployment,
       response=responses.SOFTWARE_DEPLOYMENT),
    v1("/software_deployments/{deployment_id}", "PUT", update_deployment,
       response=responses.SOFTWARE_DEPLOYMENT),
    v1("/software_deployments/{deployment_id}", "DELETE", delete_deployment, status=204),
]
