"""Volume transfers: /v3/{project_id}/os-volume-transfer (every version) and /volume-transfers (3.55+,
with no_snapshots; 3.57 shows who gave and who took)."""

from __future__ import annotations

from onestack.http.errors import NotFound
from onestack.http.routing import Call, Endpoint, Reply
from onestack.services.volume import schemas, views
from onestack.services.volume.api.paths import flag, next_links, v3
from onestack.services.volume.service.transfers import Transfers


def routes(base: str, since: str | None) -> list[Endpoint]:
    """The transfer API under ``base``, answering from microversion ``since`` (None: always)."""

    def transfers(call: Call) -> Transfers:
        if since is not None and not call.version.at_least(since):
            raise NotFound(f"{base} needs microversion {since} or later.")
        return call.runtime.volume.transfers

    def create(call: Call) -> Reply:
        asked = call.body["transfer"]
        service = transfers(call)
        no_snapshots = flag(asked.get("no_snapshots", False)) and call.version.at_least("3.55")
        row, key = service.create(call.ctx, asked["volume_id"], asked.get("name"), no_snapshots)
        return Reply({"transfer": views.transfer(row, call.url, call.version, auth_key=key)}, 202)

    def listing(call: Call, detail: bool) -> dict:
        found = transfers(call).listing(call.ctx, call.query, call.version)
        body = {"transfers": [views.transfer(r, call.url, call.version, detail) for r in found.rows]}
        body.update(next_links(call, "transfers", found.next_marker))
        return body

    def show(call: Call) -> dict:
        return {"transfer": views.transfer(transfers(call).show(call.ctx, call.path["transfer_id"]), call.url,
                                           call.version)}

    def delete(call: Call) -> Reply:
        transfers(call).delete(call.ctx, call.path["transfer_id"])
        return Reply(status=202)

    def accept(call: Call) -> Reply:
        row = transfers(call).accept(call.ctx, call.path["transfer_id"], call.body["accept"]["auth_key"])
        return Reply({"transfer": views.transfer(row, call.url, call.version, detail=False)}, 202)

    return [
        *v3(base, "POST", create, schema=schemas.TRANSFER_CREATE),
        *v3(base, "GET", lambda call: listing(call, detail=False)),
        *v3(f"{base}/detail", "GET", lambda call: listing(call, detail=True)),
        *v3(f"{base}/{{transfer_id}}", "GET", show),
        *v3(f"{base}/{{transfer_id}}", "DELETE", delete),
        *v3(f"{base}/{{transfer_id}}/accept", "POST", accept, schema=schemas.TRANSFER_ACCEPT),
    ]


ROUTES = [*routes("/os-volume-transfer", None), *routes("/volume-transfers", "3.55")]
