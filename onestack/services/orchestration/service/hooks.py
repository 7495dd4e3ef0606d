"""Breakpoints: an environment's ``resource_registry.resources.<name>.hooks`` (``pre-create``,
``pre-update``, ``pre-delete``) pause a resource just before the engine would create, update (in place or
by replacement) or delete it, and ``post-create``, ``post-update``, ``post-delete`` once its service has
done so but before the resource is COMPLETE (so its dependents still wait), until a signal
``{"unset_hook": "<hook>"}`` clears the hook.

Where a resource waits is its own row's data, never memory, so a stack paused at a hook stays paused
across a restart: ``{"hook": {"type": ..., "generation": ...}}`` while it waits (a resource not yet made
waits as a row in ``INIT_COMPLETE``, as Heat shows it), ``{"hooks_cleared": {type: generation}}`` once
cleared, so the same action does not stop there again.  A newer action (a delete, a cancel) has another
generation: the hook no longer holds it.  Events say it in Heat's words, which ``openstack stack hook
poll`` reads: ``CREATE paused until Hook pre-create is cleared``, then ``Hook pre-create is cleared``.
"""

from __future__ import annotations

import fnmatch

from onestack.http.errors import BadRequest

PRE = ("pre-create", "pre-update", "pre-delete")
POST = ("post-create", "post-update", "post-delete")
PAUSING = PRE + POST
# The stack actions whose resources stop at hooks (a rollback, a check or an adopt never does).
ACTIONS = {"CREATE", "UPDATE", "DELETE", "RESTORE"}


def _named(entry) -> list[str]:
    hooks = entry.get("hooks") if isinstance(entry, dict) else None
    if hooks is None:
        return []
    return [hooks] if isinstance(hooks, str) else list(hooks) if isinstance(hooks, list) else [hooks]


def _entries(env: dict) -> dict:
    registry = env.get("resource_registry") if isinstance(env, dict) else None
    resources = registry.get("resources") if isinstance(registry, dict) else None
    return resources if isinstance(resources, dict) else {}


def check(env: dict) -> None:
    """Refuse (400) a hook that is not a breakpoint type anywhere in the registry's ``resources`` (nested
    stacks' entries too)."""

    def walk(entries: dict, where: str) -> None:
        for pattern, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            for hook in _named(entry):
                known(hook)
            walk({k: v for k, v in entry.items() if k != "hooks"}, f"{where}.{pattern}")

    walk(_entries(env), "resource_registry.resources")


def matches(env: dict, name: str, hook: str) -> bool:
    """Whether the environment sets ``hook`` on resource ``name`` (registry keys may be fnmatch
    patterns: ``"*_server"``)."""
    return any(fnmatch.fnmatchcase(name, pattern) and hook in _named(entry)
               for pattern, entry in _entries(env).items())


def for_child(env: dict, resource_name: str) -> dict:
    """The registry ``resources`` a nested stack of resource ``resource_name`` takes: the entries under
    that resource's own entry (``resources: {group: {"0": {hooks: pre-create}}}``)."""
    inner: dict = {}
    for pattern, entry in _entries(env).items():
        if isinstance(entry, dict) and fnmatch.fnmatchcase(resource_name, pattern):
            inner.update({k: v for k, v in entry.items() if isinstance(v, dict)})
    return inner


def waiting(data: dict | None, generation: int) -> str | None:
    """The hook a resource's row waits at in this generation, if any."""
    hook = (data or {}).get("hook")
    if isinstance(hook, dict) and hook.get("generation") == generation:
        return hook.get("type")
    return None


def cleared(data: dict | None, hook: str, generation: int) -> bool:
    return ((data or {}).get("hooks_cleared") or {}).get(hook) == generation


def pause(data: dict | None, hook: str, generation: int) -> dict:
    return {**(data or {}), "hook": {"type": hook, "generation": generation}}


def known(hook) -> None:
    """Refuse (400) what is not a breakpoint type at all."""
    if not isinstance(hook, str) or hook not in PAUSING:
        raise BadRequest(f'Invalid hook type "{hook}" for resource breakpoint, acceptable hook types are: '
                         f"{', '.join(PAUSING)}", kind="InvalidBreakPointHook")


def clear(data: dict | None, hook: str) -> dict:
    """The row's data with the ``hook`` it waits at cleared."""
    current = (data or {}).get("hook") or {}
    out = {k: v for k, v in (data or {}).items() if k != "hook"}
    out["hooks_cleared"] = {**(out.get("hooks_cleared") or {}), hook: current.get("generation")}
    return out


def action_of(hook: str) -> str:
    """The action a hook pauses: ``CREATE`` for pre-create and post-create."""
    return hook.split("-", 1)[1].upper()


def paused_reason(action: str, hook: str) -> str:
    return f"{action} paused until Hook {hook} is cleared"


def cleared_reason(hook: str) -> str:
    return f"Hook {hook} is cleared"
