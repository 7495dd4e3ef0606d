"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6), the ``os-get*Console`` actions before it,
and ``GET /os-console-auth-tokens/{token}`` (admins)."""

from __future__ import annotations

from onestack.http.errors import BadRequest, NotFound
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, Versioned, route
from onestack.services.compute import schemas
from onestack.services.compute.api.servers import compute
from onestack.services.compute.policies import authorize


def _url(call: Call, protocol: str, console_type: str) -> str:
    return compute(call).consoles.url(call.ctx, call.path["server_id"], protocol, console_type,
                                      call.runtime.base_url(call.request))


def remote_console(call: Call) -> dict:
    if not at_least(call.version, "2.6"):
        raise NotFound("The resource could not be found.")
    protocol, console_type = call.body["remote_console"]["protocol"], call.body["remote_console"]["type"]
    return {"remote_console": {"protocol": protocol, "type": console_type,
                               "url": _url(call, protocol, console_type)}}


def console_action(call: Call, name: str, args: dict) -> Reply:
    """``os-getVNCConsole`` and its kin, until 2.5: ``{"console": {"type", "url"}}``."""
    if at_least(call.version, "2.6"):
        raise NotFound("The resource could not be found.")
    protocol, _ = schemas.CONSOLE_ACTIONS[name]
    return Reply({"console": {"type": args["type"], "url": _url(call, protocol, args["type"])}}, 200)


def show_token(call: Call) -> dict:
    authorize(call.ctx, "os_compute_api:os-console-auth-tokens")
    consoles = compute(call).consoles
    found = consoles.find(call.path["token"])
    if found is None:
        raise NotFound("The token is invalid or has expired.")
    if not at_least(call.version, "2.31") and found.console_type != "rdp-html5":
        raise BadRequest("The requested console type details are not accessible")
    target = consoles.connect(call.path["token"])
    # the console is a Unix socket on the host, not a TCP port: its path is the internal access path
    return {"console": {"instance_uuid": found.instance_uuid, "host": found.host, "port": 0,
                        "internal_access_path": target.access_path if target else None}}


ROUTES = [
    # the route came at 2.6: a body sent before it is the handler's 404
    route("/v2.1/servers/{server_id}/remote-consoles", "POST", remote_console,
          schema=Versioned({"2.6": schemas.REMOTE_CONSOLE})),
    route("/v2.1/os-console-auth-tokens/{token}", "GET", show_token),
]
