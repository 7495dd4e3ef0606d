"""/v3/{project_id}/qos-specs: QoS specs, their keys, and the volume types they are associated with."""

from __future__ import annotations

from onestack.http.routing import Call, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import flag, project, v3
from onestack.services.volume.service.qos import Qos


def qos(call: Call) -> Qos:
    return call.runtime.volume.qos


def _specs(values: dict) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


def create(call: Call) -> dict:
    asked = dict(call.body["qos_specs"])
    name, consumer = asked.pop("name").strip(), asked.pop("consumer", "back-end")
    row = qos(call).create(call.ctx, name, consumer, _specs(asked))
    return {"qos_specs": views.qos_specs(row), "links": views.qos_links(call.url, project(call), row)}


def index(call: Call) -> dict:
    return {"qos_specs": [views.qos_specs(r) for r in qos(call).listing(call.ctx)]}


def show(call: Call) -> dict:
    row = qos(call).show(call.ctx, call.path["qos_id"])
    return {"qos_specs": views.qos_specs(row), "links": views.qos_links(call.url, project(call), row)}


def update(call: Call) -> dict:
    return {"qos_specs": qos(call).set_keys(call.ctx, call.path["qos_id"], _specs(call.body["qos_specs"]))}


def delete_keys(call: Call) -> Reply:
    qos(call).unset_keys(call.ctx, call.path["qos_id"], call.body["keys"])
    return Reply(status=202)


def delete(call: Call) -> Reply:
    qos(call).delete(call.ctx, call.path["qos_id"], flag(call.query.get("force", False)))
    return Reply(status=202)


def associations(call: Call) -> dict:
    return {"qos_associations": [{"association_type": "volume_type", "name": t.name, "id": t.id}
                                 for t in qos(call).associations(call.ctx, call.path["qos_id"])]}


def associate(call: Call) -> Reply:
    qos(call).associate(call.ctx, call.path["qos_id"], call.query.get("vol_type_id"))
    return Reply(status=202)


def disassociate(call: Call) -> Reply:
    qos(call).associate(call.ctx, call.path["qos_id"], call.query.get("vol_type_id"), associate=False)
    return Reply(status=202)


def disassociate_all(call: Call) -> Reply:
    qos(call).disassociate_all(call.ctx, call.path["qos_id"])
    return Reply(status=202)


ROUTES = [
    *v3("/qos-specs", "POST", create, schema=schemas.QOS_CREATE),
    *v3("/qos-specs", "GET", index),
    *v3("/qos-specs/{qos_id}", "GET", show),
    *v3("/qos-specs/{qos_id}", "PUT", update, schema=schemas.QOS_SET),
    *v3("/qos-specs/{qos_id}", "DELETE", delete),
    *v3("/qos-specs/{qos_id}/delete_keys", "PUT", delete_keys, schema=schemas.QOS_UNSET),
    *v3("/qos-specs/{qos_id}/associations", "GET", associations),
    *v3("/qos-specs/{qos_id}/associate", "GET", associate),
    *v3("/qos-specs/{qos_id}/disassociate", "GET", disassociate),
    *v3("/qos-specs/{qos_id}/disassociate_all", "GET", disassociate_all),
]
