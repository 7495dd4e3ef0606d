"""/v2.1/images and /v2.1/images/{id}/metadata: Nova's image proxy to the image service (gone at 2.36, the
metadata at 2.39)."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import page_links, parse_limit
from onestack.http.resource import summary_and_detail
from onestack.http.routing import Call, Reply, Versioned, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api.servers import compute
from onestack.services.compute.service.image_proxy import ImageProxy
from onestack.services.compute.versions import IMAGE_METADATA_LAST, PROXY_LAST, served_until


def _proxy(call: Call, last: str = PROXY_LAST) -> ImageProxy:
    served_until(call.version, last)
    return compute(call).image_proxy


def _glance(call: Call) -> str:
    return f"{call.runtime.base_url(call.request)}/image"


def _list(call: Call, detail: bool) -> dict:
    proxy = _proxy(call)
    shown, full = proxy.list(call.ctx, call.query, parse_limit(call.query))
    render = views.proxied_image if detail else views.proxied_image_brief
    path = "/v2.1/images/detail" if detail else "/v2.1/images"
    return {"images": [render(i, call.url, _glance(call)) for i in shown],
            **page_links("images", call.url, path, call.query, shown[-1].id if full else None)}


def show_image(call: Call) -> dict:
    return {"image": views.proxied_image(_proxy(call).get(call.ctx, call.path["image_id"]), call.url, _glance(call))}


def delete_image(call: Call) -> Reply:
    _proxy(call).delete(call.ctx, call.path["image_id"])
    return Reply(status=204)


# -- metadata ------------------------------------------------------------------------------------
def _metadata_limit(call: Call) -> int:
    return compute(call).quota_sets.limits(call.ctx.project_id)["metadata_items"]


def list_metadata(call: Call) -> dict:
    return {"metadata": _proxy(call, IMAGE_METADATA_LAST).metadata(call.ctx, call.path["image_id"])}


def merge_metadata(call: Call) -> dict:
    proxy = _proxy(call, IMAGE_METADATA_LAST)
    return {"metadata": proxy.change_metadata(call.ctx, call.path["image_id"], call.body["metadata"],
                                              limit=_metadata_limit(call))}


def replace_metadata(call: Call) -> dict:
    proxy = _proxy(call, IMAGE_METADATA_LAST)
    proxy.change_metadata(call.ctx, call.path["image_id"], call.body["metadata"], replace_all=True,
                          limit=_metadata_limit(call))
    # Nova answers with what was asked for, which is now the whole metadata.
    return {"metadata": call.body["metadata"]}


def show_item(call: Call) -> dict:
    key = call.path["key"]
    found = _proxy(call, IMAGE_METADATA_LAST).metadata(call.ctx, call.path["image_id"])
    if key not in found:
        raise NotFound(f"Image metadata key {key} not found.")
    return {"meta": {key: found[key]}}


def set_item(call: Call) -> dict:
    proxy = _proxy(call, IMAGE_METADATA_LAST)
    key = call.path["key"]
    if key not in call.body["meta"]:
        raise BadRequest("Request body and URI mismatch")
    proxy.change_metadata(call.ctx, call.path["image_id"], call.body["meta"], limit=_metadata_limit(call))
    return {"meta": call.body["meta"]}


def delete_item(call: Call) -> Reply:
    _proxy(call, IMAGE_METADATA_LAST).change_metadata(call.ctx, call.path["image_id"], {}, removing=call.path["key"])
    return Reply(status=204)


# Past the metadata API's last microversion any body is the handler's 404.
_ALL = Versioned({"2.1": schemas.metadata_all, "2.39": schemas.GONE})
_ITEM = Versioned({"2.1": schemas.metadata_item, "2.39": schemas.GONE})
ROUTES = [
    *summary_and_detail("/v2.1/images", _list),
    route("/v2.1/images/{image_id}", "GET", show_image),
    route("/v2.1/images/{image_id}", "DELETE", delete_image),
    route("/v2.1/images/{image_id}/metadata", "GET", list_metadata),
    route("/v2.1/images/{image_id}/metadata", "POST", merge_metadata, schema=_ALL),
    route("/v2.1/images/{image_id}/metadata", "PUT", replace_metadata, schema=_ALL),
    route("/v2.1/images/{image_id}/metadata/{key}", "GET", show_item),
    route("/v2.1/images/{image_id}/metadata/{key}", "PUT", set_item, schema=_ITEM),
    route("/v2.1/images/{image_id}/metadata/{key}", "DELETE", delete_item),
]
