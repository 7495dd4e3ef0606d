"""POST /servers/{id}/action: one key names the action, its value carries the arguments.

Power actions are a task and a state check (``TASKS``); the others have a handler each (``HANDLERS``)
that calls its module (resize, rebuild, snapshots, shelving, rescue) and shapes Nova's reply.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from onestack.drivers.compute import DriverError
from onestack.drivers.remote.wire import LinkError
from onestack.http.errors import BadRequest, Conflict
from onestack.http.microversion import at_least
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import schemas, views
from onestack.services.compute.api import consoles
from onestack.services.compute.api.security_group_actions import EXTRA_ACTIONS
from onestack.services.compute.api.servers import _full_reply, _render, compute, request_id
from onestack.services.compute.models import Instance
from onestack.services.compute.models import states as st
from onestack.services.compute.service import rebuild, rescue, resize, shelving, snapshots
from onestack.services.compute.service.servers import authorize

# action -> (policy, task to start, vm_states that allow it, action record name)
TASKS = {
    "os-start": ("os_compute_api:servers:start", st.POWERING_ON, (st.STOPPED,), "start"),
    "os-stop": ("os_compute_api:servers:stop", st.POWERING_OFF, (st.ACTIVE, st.PAUSED, st.SUSPENDED, st.RESCUED, st.ERROR), "stop"),
    "pause": ("os_compute_api:os-pause-server:pause", st.PAUSING, (st.ACTIVE,), "pause"),
    "unpause": ("os_compute_api:os-pause-server:pause", st.UNPAUSING, (st.PAUSED,), "unpause"),
    "suspend": ("os_compute_api:os-suspend-server:suspend", st.SUSPENDING, (st.ACTIVE,), "suspend"),
    "resume": ("os_compute_api:os-suspend-server:suspend", st.RESUMING, (st.SUSPENDED,), "resume"),
}


def server_action(call: Call) -> Reply | dict:
    body = call.body
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is no such action: the body must hold exactly one action.")
    (name, args), = body.items()
    svc = compute(call)
    if name == "os-getConsoleOutput":
        return console_output(call, args)
    if name in EXTRA_ACTIONS:  # the proxy APIs' actions (security groups, floating IPs)
        return EXTRA_ACTIONS[name](call, args)
    if name in schemas.ACTIONS:
        schemas.check(body, schemas.ACTIONS[name])
    if name in HANDLERS:
        return HANDLERS[name](call, args or {})
    if name in schemas.CONSOLE_ACTIONS:
        return consoles.console_action(call, name, args)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        if name in TASKS:
            policy, task, allowed, record = TASKS[name]
            authorize(call.ctx, policy, instance)
            svc.servers.start_task(session, call.ctx, instance, name, task, request_id(call), allowed, record)
        elif name == "reboot":
            authorize(call.ctx, "os_compute_api:servers:reboot", instance)
            kind = (args or {}).get("type") if isinstance(args, dict) else None
            if kind not in ("SOFT", "HARD"):
                raise BadRequest("Invalid input for field/attribute type. Value should be 'SOFT' or 'HARD'.")
            allowed = (st.ACTIVE,) if kind == "SOFT" else (st.ACTIVE, st.STOPPED, st.PAUSED, st.SUSPENDED,
                                                           st.ERROR)
            task = st.REBOOTING if kind == "SOFT" else st.REBOOTING_HARD
            svc.servers.start_task(session, call.ctx, instance, "reboot", task, request_id(call), allowed)
        elif name == "lock":
            # a reason is taken from 2.73
            reason = args.get("locked_reason") if isinstance(args, dict) and at_least(call.version, "2.73") else None
            svc.servers.lock(session, call.ctx, instance, reason)
            svc.servers.record(session, call.ctx, instance, "lock", request_id(call))
        elif name == "unlock":
            svc.servers.unlock(session, call.ctx, instance)
            svc.servers.record(session, call.ctx, instance, "unlock", request_id(call))
        else:
            raise BadRequest(f"There is no such action: {name}")
    svc.engine.wake(instance.id)
    return Reply(status=202)


def console_output(call: Call, args) -> Reply:
    svc = compute(call)
    length = (args or {}).get("length") if isinstance(args, dict) else None
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise BadRequest("Invalid input for field/attribute length.") from None
        if length < -1:
            raise BadRequest("Invalid input for field/attribute length.")
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-console-output", instance)
    try:
        driver = svc.hosts.driver(instance.host)
    except LinkError:
        raise Conflict(f"Instance {instance.id} is not ready to show its console.") from None
    try:
        output = driver.console_output(instance.id, None if length in (None, -1) else length)
    except DriverError as error:
        raise Conflict(f"Instance {instance.id} cannot show its console now: {error}") from None
    return Reply({"output": output}, 200)  # the one action that answers 200 with a body


# -- actions with a handler of their own ------------------------------------------------------------------
def _task(call: Call, policy: str, start: Callable, reply: Reply | None = None) -> Reply:
    """Find the server, check ``policy``, let ``start(svc, session, ctx, instance)`` write the task, wake
    the engine."""
    svc = compute(call)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, policy, instance)
        start(svc, session, call.ctx, instance)
    svc.engine.wake(instance.id)
    return reply or Reply(status=202)


def _resize(call: Call, args: dict) -> Reply:
    return _task(call, "os_compute_api:servers:resize", lambda svc, session, ctx, instance: resize.request(
        svc, session, ctx, instance, args["flavorRef"], request_id(call)))


def _confirm_resize(call: Call, args) -> Reply:
    return _task(call, "os_compute_api:servers:confirm_resize", lambda svc, session, ctx, instance: resize.confirm(
        svc, session, ctx, instance, request_id(call)), Reply(status=204))


def _revert_resize(call: Call, args) -> Reply:
    return _task(call, "os_compute_api:servers:revert_resize", lambda svc, session, ctx, instance: resize.revert(
        svc, session, ctx, instance, request_id(call)))


def _rebuild(call: Call, args: dict) -> Reply:
    schemas.check(call.body, schemas.rebuild(call.version))
    svc = compute(call)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:servers:rebuild", instance)
        rebuild.request(svc, session, call.ctx, instance, args, request_id(call))
    svc.engine.wake(instance.id)
    body = views.rebuilt(_render(call, [instance], detail=_full_reply(call), single=True)[0], instance, call.version)
    body["adminPass"] = args.get("adminPass") or secrets.token_urlsafe(9)
    return Reply({"server": body}, 202)


def _create_image(call: Call, args: dict) -> Reply:
    svc = compute(call)
    _, image_id = snapshots.request(svc, call.ctx, call.path["server_id"], "os_compute_api:servers:create_image",
                                    "createImage", st.IMAGE_SNAPSHOT, snapshots.SNAPSHOT_STATES, args["name"],
                                    args.get("metadata") or {}, request_id(call))
    return views.image_created(image_id, call.runtime.base_url(call.request), call.version)


def _create_backup(call: Call, args: dict) -> Reply:
    """A snapshot marked as a backup of its type; once stored, only the ``rotation`` newest of that type
    stay.  Rotation 0 keeps none, so Nova names no image in its reply."""
    svc = compute(call)
    rotation = int(args["rotation"])
    metadata = {**(args.get("metadata") or {}), "image_type": "backup", "backup_type": args["backup_type"]}
    _, image_id = snapshots.request(svc, call.ctx, call.path["server_id"], "os_compute_api:os-create-backup",
                                    "createBackup", st.IMAGE_SNAPSHOT, snapshots.SNAPSHOT_STATES, args["name"],
                                    metadata, request_id(call),
                                    {snapshots.ROTATION: rotation, snapshots.BACKUP_TYPE: args["backup_type"]})
    if rotation == 0:
        return Reply(status=202)
    return views.image_created(image_id, call.runtime.base_url(call.request), call.version)


def _change_password(call: Call, args: dict) -> Reply:
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-admin-password", instance)
        svc.servers.check_lock(call.ctx, instance)
        st.require(instance, "changePassword", (st.ACTIVE,))
    try:
        driver = svc.hosts.driver(instance.host)
    except LinkError:
        raise Conflict(f"Instance {instance.id} is not on a host of this cloud that can set its password.") from None
    try:
        driver.set_admin_password(instance.id, args["adminPass"])
    except DriverError as error:
        raise Conflict(f"Unable to set password on instance: {error}") from None
    with svc.db.write() as session:
        svc.servers.record(session, call.ctx, session.get(Instance, instance.id), "changePassword", request_id(call))
    return Reply(status=202)


def _reset_state(call: Call, args: dict) -> Reply:
    """An admin's repair: the server's vm_state written as given, its task dropped; nothing on the host
    changes (Nova's os-resetState)."""
    svc = compute(call)
    with svc.db.write() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-admin-actions:reset_state", instance)
        instance.vm_state = st.ACTIVE if args["state"] == "active" else st.ERROR
        instance.task_state = None
        svc.servers.record(session, call.ctx, instance, "resetState", request_id(call))
    return Reply(status=202)


def _inject_network_info(call: Call, args) -> Reply:
    """Re-assert the server's network on its host: its ports made or claimed and bound again (guests take
    their addresses by DHCP and the config drive, so nothing is written inside them)."""
    svc = compute(call)
    with svc.db.read() as session:
        instance = svc.servers.get(session, call.ctx, call.path["server_id"])
        authorize(call.ctx, "os_compute_api:os-admin-actions:inject_network_info", instance)
    if instance.host is not None:
        svc.networking.ensure_ports(instance)
    return Reply(status=202)


def _soft_deleted_only(action: str, policy: str):
    """restore and forceDelete act on soft-deleted servers; onestack deletes at once (Nova's default
    reclaim_instance_interval of 0), so no server is ever in that state and both answer Nova's 409."""
    def handler(call: Call, args) -> Reply:
        svc = compute(call)
        with svc.db.read() as session:
            instance = svc.servers.get(session, call.ctx, call.path["server_id"])
            authorize(call.ctx, policy, instance)
            st.require(instance, action, (st.SOFT_DELETED,))
        return Reply(status=202)
    return handler


def _shelve(call: Call, args) -> Reply:
    snapshots.request(compute(call), call.ctx, call.path["server_id"], "os_compute_api:os-shelve:shelve", "shelve",
                      st.SHELVING, shelving.SHELVE_STATES, shelving.shelved_name, {}, request_id(call))
    return Reply(status=202)


def _shelve_offload(call: Call, args) -> Reply:
    return _task(call, "os_compute_api:os-shelve:shelve_offload", lambda svc, session, ctx, instance: shelving.offload(
        svc, session, ctx, instance, request_id(call)))


def _unshelve(call: Call, args) -> Reply:
    schemas.check(call.body, schemas.unshelve(call.version))
    where = args if at_least(call.version, "2.77") else {}
    return _task(call, "os_compute_api:os-shelve:unshelve", lambda svc, session, ctx, instance: shelving.unshelve(
        svc, session, ctx, instance, request_id(call), where))


def _rescue(call: Call, args: dict) -> Reply:
    password = args.get("adminPass") or secrets.token_urlsafe(9)
    return _task(call, "os_compute_api:os-rescue", lambda svc, session, ctx, instance: rescue.rescue(
        svc, session, ctx, instance, args.get("rescue_image_ref"), request_id(call)),
        Reply({"adminPass": password}, 200))


def _unrescue(call: Call, args) -> Reply:
    return _task(call, "os_compute_api:os-unrescue", lambda svc, session, ctx, instance: rescue.unrescue(
        svc, session, ctx, instance, request_id(call)))


HANDLERS: dict[str, Callable[[Call, dict], Reply]] = {
    "resize": _resize, "confirmResize": _confirm_resize, "revertResize": _revert_resize, "rebuild": _rebuild,
    "createImage": _create_image, "createBackup": _create_backup, "changePassword": _change_password,
    "os-resetState": _reset_state, "injectNetworkInfo": _inject_network_info,
    "restore": _soft_deleted_only("restore", "os_compute_api:os-deferred-delete:restore"),
    "forceDelete": _soft_deleted_only("forceDelete", "os_compute_api:os-deferred-delete:force"),
    "shelve": _shelve, "shelveOffload": _shelve_offload, "unshelve": _unshelve,
    "rescue": _rescue, "unrescue": _unrescue,
}


ROUTES = [route("/v2.1/servers/{server_id}/action", "POST", server_action, status=202)]
