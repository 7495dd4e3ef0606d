"""POST /servers/{id}/action: one key names the action, its value carries the arguments."""

from __future__ import annotations

from onestack.http.errors import BadRequest, Conflict
from onestack.http.routing import Call, Reply, route
from onestack.services.compute import states as st
from onestack.services.compute.api.security_group_actions import EXTRA_ACTIONS
from onestack.services.compute.api.servers import compute, request_id
from onestack.services.compute.servers import authorize

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
            reason = (args or {}).get("locked_reason") if isinstance(args, dict) else None
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
    if instance.host is None or instance.host not in svc.hosts.names():
        raise Conflict(f"Instance {instance.id} is not ready to show its console.")
    output = svc.hosts.driver(instance.host).console_output(instance.id, None if length in (None, -1) else length)
    return Reply({"output": output}, 200)  # the one action that answers 200 with a body


ROUTES = [route("/v2.1/servers/{server_id}/action", "POST", server_action, status=202)]
