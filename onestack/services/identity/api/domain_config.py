"""/v3/domains/{id}/config: a domain's own identity configuration, whole, by group or by option
(what may be set, and why nothing reads it, is in ``service/domain_config.py``)."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Reply, route
from onestack.services.identity import schemas
from onestack.services.identity.api.common import identity
from onestack.services.identity.policies import authorize
from onestack.services.identity.service.domain_config import default
from onestack.services.identity.views import domain_config


def create_config(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_domain_config")
    rows, existed = identity(call).domain_configs.replace(call.path["domain_id"], call.body["config"])
    return Reply({"config": domain_config(rows)}, 200 if existed else 201)


def get_config(call: Call) -> dict:
    authorize(call.ctx, "identity:get_domain_config")
    group, option = call.path.get("group"), call.path.get("option")
    domain_id, rows = identity(call).domain_configs.get(call.path["domain_id"], group, option)
    config = domain_config(rows)
    if not config:
        raise NotFound(f"Could not find config for domain {domain_id}" + (f", group {group}" if group else "")
                       + (f", option {option}" if option else "") + ".")
    return {"config": config[group] if option is not None else config}


def update_config(call: Call) -> dict:
    authorize(call.ctx, "identity:manage_domain_config")
    rows = identity(call).domain_configs.merge(call.path["domain_id"], call.path.get("group"),
                                               call.path.get("option"), call.body["config"])
    return {"config": domain_config(rows)}


def delete_config(call: Call) -> Reply:
    authorize(call.ctx, "identity:manage_domain_config")
    identity(call).domain_configs.delete(call.path["domain_id"], call.path.get("group"), call.path.get("option"))
    return Reply(status=204)


def get_default(call: Call) -> dict:
    authorize(call.ctx, "identity:get_domain_config_default")
    return {"config": default(call.path.get("group"), call.path.get("option"))}


BASE = "/v3/domains/{domain_id}/config"
ROUTES = [
    route("/v3/domains/config/default", "GET", get_default),
    route("/v3/domains/config/{group}/default", "GET", get_default),
    route("/v3/domains/config/{group}/{option}/default", "GET", get_default),
    route(BASE, "PUT", create_config, schema=schemas.domain_config),
    route(BASE, "GET", get_config),
    route(BASE, "PATCH", update_config, schema=schemas.domain_config),
    route(BASE, "DELETE", delete_config),
    route(BASE + "/{group}", "GET", get_config),
    route(BASE + "/{group}", "PATCH", update_config, schema=schemas.domain_config),
    route(BASE + "/{group}", "DELETE", delete_config),
    route(BASE + "/{group}/{option}", "GET", get_config),
    route(BASE + "/{group}/{option}", "PATCH", update_config, schema=schemas.domain_config_option),
    route(BASE + "/{group}/{option}", "DELETE", delete_config),
]
