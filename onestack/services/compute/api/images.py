"""/v2.1/images and /v2.1/images/{id}/metadata: Nova's image proxy to the image service (gone at 2.36, the
metadata at 2.39)."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.listing import parse_limit
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.service.image_proxy import ImageProxy, ImageViews
from onestack.services.compute.versions import IMAGE_METADATA_LAST, PROXY_LAST, served_until


def _proxy(call: Call, last: str = PROXY_LAST) -> ImageProxy:
    served_until(call.version, last)
    return ImageProxy(call.runtime.compute.image)


def _views(call: Call) -> ImageViews:
    return ImageViews(call.url, f"{call.runtime.base_url(call.request)}/image")


def _list(call: Call, detail: bool) -> dict:
    proxy = _proxy(call)
    limit = parse_limit(call.query)
    shown, full = proxy.list(call.ctx, call.query, limit)
    render = _views(call).detail if detail else _views(call).brief
    body = {"images": [render(i) for i in shown]}
    if full:
        body["images_links"] = views.next_link(call.url, "images/detail" if detail else "images", call.query,
                                               shown[-1].id)
    return body


def list_images(call: Call) -> dict:
    return _list(call, detail=False)


def list_images_detail(call: Call) -> dict:
    return _list(call, detail=True)


def show_image(call: Call) -> dict:
    image = _proxy(call).get(call.ctx, call.path["image_id"])
    return {"image": _views(call).detail(image)}


def delete_image(call: Call) -> Reply:
    _proxy(call).delete(call.ctx, call.path["image_id"])
    return Reply(status=204)


# -- metadata ------------------------------------------------------------------------------------
def _metadata_limit(call: Call) -> int:
    svc = call.runtime.compute
    with svc.db.read() as session:
        return svc.quota_limits(session, call.ctx.project_id)["metadata_items"]


def list_metadata(call: Call) -> dict:
    return {"metadata": _proxy(call, IMAGE_METADATA_LAST).metadata(call.ctx, call.path["image_id"])}


def merge_metadata(call: Call) -> dict:
    proxy = _proxy(call, IMAGE_METADATA_LAST)
    schemas.check(call.body, schemas.metadata_all)
    return {"metadata": proxy.change_metadata(call.ctx, call.path["image_id"], call.body["metadata"],
                                              limit=_metadata_limit(call))}


def replace_metadata(call: Call) -> dict:
    proxy = _proxy(call, IMAGE_METADATA_LAST)
    schemas.check(call.body, schemas.metadata_all)
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
    schemas.check(call.body, schemas.metadata_item)
    key = call.path["key"]
    if key not in call.body["meta"]:
        raise BadRequest("Request body and URI mismatch")
    proxy.change_metadata(call.ctx, call.path["image_id"], call.body["meta"], limit=_metadata_limit(call))
    return {"meta": call.body["meta"]}


def delete_item(call: Call) -> Reply:
    _proxy(call, IMAGE_METADATA_LAST).change_metadata(call.ctx, call.path["image_id"], {}, removing=call.path["key"])
    return Reply(status=204)


ROUTES = [
    route("/v2.1/images", "GET", list_images),
    route("/v2.1/images/detail", "GET", list_images_detail),
    route("/v2.1/images/{image_id}", "GET", show_image),
    route("/v2.1/images/{image_id}", "DELETE", delete_image),
    route("/v2.1/images/{image_id}/metadata", "GET", list_metadata),
    route("/v2.1/images/{image_id}/metadata", "POST", merge_metadata),
    route("/v2.1/images/{image_id}/metadata", "PUT", replace_metadata),
    route("/v2.1/images/{image_id}/metadata/{key}", "GET", show_item),
    route("/v2.1/images/{image_id}/metadata/{key}", "PUT", set_item),
    route("/v2.1/images/{image_id}/metadata/{key}", "DELETE", delete_item),
]
