"""The metadata API volumes and snapshots share: /{collection}/{id}/metadata and /metadata/{key}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from onestack.http.context import Context
from onestack.http.errors import BadRequest, NotFound
from onestack.http.routing import Call, Endpoint, Reply
from onestack.services.volume import schemas
from onestack.services.volume.api.paths import v3


class Owners(Protocol):
    """Volumes or snapshots, as the service holds them."""

    def metadata(self, ctx: Context, ident: str) -> dict[str, str]: ...

    def set_metadata(self, ctx: Context, ident: str, values: dict[str, str], *, replace: bool) -> dict: ...

    def unset_metadata(self, ctx: Context, ident: str, key: str) -> None: ...


def routes(collection: str, what: str, owners: Callable[[Call], Owners]) -> list[Endpoint]:
    """``what`` names one of the collection's resources in a 404 (``Volume``, ``Snapshot``)."""
    base = f"/{collection}/{{ident}}/metadata"

    def show_all(call: Call) -> dict:
        return {"metadata": owners(call).metadata(call.ctx, call.path["ident"])}

    def add(call: Call) -> dict:
        return {"metadata": owners(call).set_metadata(call.ctx, call.path["ident"], call.body["metadata"],
                                                      replace=False)}

    def replace(call: Call) -> dict:
        return {"metadata": owners(call).set_metadata(call.ctx, call.path["ident"], call.body["metadata"],
                                                      replace=True)}

    def show(call: Call) -> dict:
        found, key = owners(call).metadata(call.ctx, call.path["ident"]), call.path["key"]
        if key not in found:
            raise NotFound(f"{what} {call.path['ident']} has no metadata with key {key}.")
        return {"meta": {key: found[key]}}

    def update(call: Call) -> dict:
        key = call.path["key"]
        ((given, value),) = call.body["meta"].items()
        if given != key:
            raise BadRequest("Request body and URI mismatch")
        owners(call).set_metadata(call.ctx, call.path["ident"], {key: value}, replace=False)
        return {"meta": {key: value}}

    def delete(call: Call) -> Reply:
        owners(call).unset_metadata(call.ctx, call.path["ident"], call.path["key"])
        return Reply(status=200)

    return [*v3(base, "GET", show_all), *v3(base, "POST", add, schema=schemas.METADATA_BODY),
            *v3(base, "PUT", replace, schema=schemas.METADATA_BODY), *v3(f"{base}/{{key}}", "GET", show),
            *v3(f"{base}/{{key}}", "PUT", update, schema=schemas.META_ITEM),
            *v3(f"{base}/{{key}}", "DELETE", delete)]
