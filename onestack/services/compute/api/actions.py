"""POST /servers/{id}/action: one key names the action, its value carries the arguments.

The body is checked against the named action's schema (``schemas.SERVER_ACTION``); each action has a
handler (``HANDLERS``) that asks the compute service and shapes Nova's reply.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from onestack.http.errors import BadRequest
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api import consoles, floating_ips, security_groups
from onestack.services.compute.api.servers import compute, full_reply, render, request_id
from onestack.services.compute.models import states as st
from onestack.services.compute.service import shelving, snapshots
from onestack.services.compute.service.server_actions import POWER


def server_action(call: Call) -> Reply | dict:
    body = call.body
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is no such action: the body must hold exactly one action.")
    (name, args), = body.items()
    if name in HANDLERS:
        return HANDLERS[name](call, args if name in PASSED_AS_GIVEN else args or {})
    if name in schemas.CONSOLE_ACTIONS:
        return consoles.console_action(call, name, args)
    # Nova finds the server before it reads the action: a missing server is a 404 whatever the body names.
    compute(call).servers.show(call.ctx, _server_id(call), "os_compute_api:servers:show")
    raise BadRequest(f"There is no such action: {name}")


def _server_id(call: Call) -> str:
    return call.path["server_id"]


def _power(action: str):
    def handler(call: Call, args) -> Reply:
        compute(call).actions.power(call.ctx, _server_id(call), action, request_id(call))
        return Reply(status=202)
    return handler


def _reboot(call: Call, args) -> Reply:
    kind = args.get("type") if isinstance(args, dict) else None
    compute(call).actions.reboot(call.ctx, _server_id(call), kind, request_id(call))
    return Reply(status=202)


def _lock(call: Call, args) -> Reply:
    # a reason is taken from 2.73
    reason = args.get("locked_reason") if isinstance(args, dict) and at_least(call.version, "2.73") else None
    compute(call).actions.lock(call.ctx, _server_id(call), reason, request_id(call))
    return Reply(status=202)


def _unlock(call: Call, args) -> Reply:
    compute(call).actions.unlock(call.ctx, _server_id(call), request_id(call))
    return Reply(status=202)


def _console_output(call: Call, args) -> Reply:
    length = args.get("length") if isinstance(args, dict) else None
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise BadRequest("Invalid input for field/attribute length.") from None
        if length < -1:
            raise BadRequest("Invalid input for field/attribute length.")
    output = compute(call).guest_calls.console_output(call.ctx, _server_id(call),
                                                      None if length in (None, -1) else length)
    return Reply({"output": output}, 200)  # the one action that answers 200 with a body


def _resize(call: Call, args: dict) -> Reply:
    compute(call).actions.resize(call.ctx, _server_id(call), args, request_id(call))
    return Reply(status=202)


def _migrate(call: Call, args) -> Reply:
    host = args.get("host") if at_least(call.version, "2.56") else None  # named from 2.56
    compute(call).actions.migrate(call.ctx, _server_id(call), host, request_id(call))
    return Reply(status=202)


def _live_migrate(call: Call, args: dict) -> Reply:
    asked = args.get("block_migration")  # a Nova boolean (the schema allows only those words), or "auto"
    block_migration = asked if asked in (None, "auto") else schemas.as_bool(asked)
    compute(call).actions.live_migrate(call.ctx, _server_id(call), args.get("host"), request_id(call),
                                       block_migration)
    return Reply(status=202)


def _evacuate(call: Call, args: dict) -> Reply:
    """Nova answers the admin password until 2.14, and nothing after."""
    compute(call).actions.evacuate(call.ctx, _server_id(call), args.get("host"), at_least(call.version, "2.95"),
                                   request_id(call))
    if at_least(call.version, "2.14"):
        return Reply(status=200)
    return Reply({"adminPass": args.get("adminPass") or secrets.token_urlsafe(9)}, 200)


def _confirm_resize(call: Call, args) -> Reply:
    compute(call).actions.confirm_resize(call.ctx, _server_id(call), request_id(call))
    return Reply(status=204)


def _revert_resize(call: Call, args) -> Reply:
    compute(call).actions.revert_resize(call.ctx, _server_id(call), request_id(call))
    return Reply(status=202)


def _rebuild(call: Call, args: dict) -> Reply:
    instance = compute(call).actions.rebuild(call.ctx, _server_id(call), args, request_id(call), call.version)
    body = views.rebuilt(render(call, [instance], detail=full_reply(call), single=True)[0], instance, call.version)
    body["adminPass"] = args.get("adminPass") or secrets.token_urlsafe(9)
    return Reply({"server": body}, 202)


def _create_image(call: Call, args: dict) -> Reply:
    _, image_id = compute(call).snapshots.request(
        call.ctx, _server_id(call), "os_compute_api:servers:create_image", "createImage", st.IMAGE_SNAPSHOT,
        snapshots.SNAPSHOT_STATES, args["name"], args.get("metadata") or {}, request_id(call))
    return views.image_created(image_id, call.runtime.base_url(call.request), call.version)


def _create_backup(call: Call, args: dict) -> Reply:
    """A snapshot marked as a backup of its type; once stored, only the ``rotation`` newest of that type
    stay.  Rotation 0 keeps none, so Nova names no image in its reply."""
    rotation = int(args["rotation"])
    metadata = {**(args.get("metadata") or {}), "image_type": "backup", "backup_type": args["backup_type"]}
    _, image_id = compute(call).snapshots.request(
        call.ctx, _server_id(call), "os_compute_api:os-create-backup", "createBackup", st.IMAGE_SNAPSHOT,
        snapshots.SNAPSHOT_STATES, args["name"], metadata, request_id(call),
        {snapshots.ROTATION: rotation, snapshots.BACKUP_TYPE: args["backup_type"]})
    if rotation == 0:
        return Reply(status=202)
    return views.image_created(image_id, call.runtime.base_url(call.request), call.version)


def _change_password(call: Call, args: dict) -> Reply:
    compute(call).guest_calls.set_admin_password(call.ctx, _server_id(call), args["adminPass"], request_id(call))
    return Reply(status=202)


def _reset_state(call: Call, args: dict) -> Reply:
    compute(call).actions.reset_state(call.ctx, _server_id(call), args["state"], request_id(call))
    return Reply(status=202)


def _inject_network_info(call: Call, args) -> Reply:
    compute(call).actions.inject_network_info(call.ctx, _server_id(call))
    return Reply(status=202)


def _soft_deleted_only(action: str, policy: str):
    def handler(call: Call, args) -> Reply:
        compute(call).actions.require_soft_deleted(call.ctx, _server_id(call), action, policy)
        return Reply(status=202)
    return handler


def _shelve(call: Call, args) -> Reply:
    compute(call).snapshots.request(call.ctx, _server_id(call), "os_compute_api:os-shelve:shelve", "shelve",
                                    st.SHELVING, shelving.SHELVE_STATES, shelving.shelved_name, {}, request_id(call))
    return Reply(status=202)


def _shelve_offload(call: Call, args) -> Reply:
    compute(call).actions.shelve_offload(call.ctx, _server_id(call), request_id(call))
    return Reply(status=202)


def _unshelve(call: Call, args) -> Reply:
    where = args if at_least(call.version, "2.77") else {}
    compute(call).actions.unshelve(call.ctx, _server_id(call), where, request_id(call))
    return Reply(status=202)


def _rescue(call: Call, args: dict) -> Reply:
    password = args.get("adminPass") or secrets.token_urlsafe(9)
    compute(call).actions.rescue(call.ctx, _server_id(call), args.get("rescue_image_ref"), request_id(call),
                                 call.version)
    return Reply({"adminPass": password}, 200)


def _unrescue(call: Call, args) -> Reply:
    compute(call).actions.unrescue(call.ctx, _server_id(call), request_id(call))
    return Reply(status=202)


HANDLERS: dict[str, Callable[[Call, dict], Reply]] = {
    **{action: _power(action) for action in POWER}, "reboot": _reboot, "lock": _lock, "unlock": _unlock,
    "os-getConsoleOutput": _console_output,
    "resize": _resize, "migrate": _migrate, "os-migrateLive": _live_migrate, "evacuate": _evacuate, "confirmResize": _confirm_resize, "revertResize": _revert_resize, "rebuild": _rebuild,
    "createImage": _create_image, "createBackup": _create_backup, "changePassword": _change_password,
    "os-resetState": _reset_state, "injectNetworkInfo": _inject_network_info,
    "restore": _soft_deleted_only("restore", "os_compute_api:os-deferred-delete:restore"),
    "forceDelete": _soft_deleted_only("forceDelete", "os_compute_api:os-deferred-delete:force"),
    "shelve": _shelve, "shelveOffload": _shelve_offload, "unshelve": _unshelve,
    "rescue": _rescue, "unrescue": _unrescue,
    # the proxy APIs' actions
    "addSecurityGroup": security_groups.add_security_group,
    "removeSecurityGroup": security_groups.remove_security_group,
    "addFloatingIp": floating_ips.add_floating_ip,
    "removeFloatingIp": floating_ips.remove_floating_ip,
}
# Handlers that read their arguments as sent (the others get ``{}`` for a null).
PASSED_AS_GIVEN = {*POWER, "reboot", "lock", "unlock", "os-getConsoleOutput", "addSecurityGroup",
                   "removeSecurityGroup", "addFloatingIp", "removeFloatingIp"}


ROUTES = [route("/v2.1/servers/{server_id}/action", "POST", server_action, schema=schemas.SERVER_ACTION,
                status=202)]
