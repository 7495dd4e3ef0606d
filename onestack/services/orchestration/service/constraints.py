"""Parameters' ``custom_constraint``s (``nova.flavor``, ``glance.image``, ``neutron.network``...), checked
when a stack is created or updated: each value must name a thing the stack's owner can see, asked of the
service that keeps it over its public API with the stack's trust (the owner's own rights), so a wrong
image or flavor is a 400 naming the parameter before anything is made."""

from __future__ import annotations

from collections.abc import Callable

from onestack.http.errors import BadRequest
from onestack.services.orchestration.service.cloud import CloudError, Session
from onestack.services.orchestration.service.definition import Definition
from onestack.services.orchestration.service.hot.functions import UNKNOWN


def _by_id_or_name(get_one: Callable[[], object], list_named: Callable[[], list], missing: str,
                   many: str | None = None) -> str | None:
    """None when the value names one thing (by id, else by name); otherwise what is wrong."""
    try:
        get_one()
        return None
    except CloudError as exc:
        if exc.status not in (400, 404):
            raise
    found = list_named()
    if not found:
        return missing
    if len(found) > 1 and many:
        return many
    return None


def _neutron(collection: str, singular: str) -> Callable[[Session, str], str | None]:
    def check(s: Session, v: str) -> str | None:
        return _by_id_or_name(
            lambda: s.get("network", f"/v2.0/{collection}/{v}"),
            lambda: s.get("network", f"/v2.0/{collection}", params={"name": v, "fields": "id"})[
                collection.replace("-", "_")],
            f"Unable to find {singular} with name or id '{v}'",
            f"Multiple {collection.replace('-', '_')} match the name '{v}', use an ID to be more specific.")
    return check


def _flavor(s: Session, v: str) -> str | None:
    if any(v in (f["id"], f["name"]) for f in s.get("compute", "/flavors")["flavors"]):
        return None
    return _by_id_or_name(lambda: s.get("compute", f"/flavors/{v}"), list, f"The Flavor ID ({v}) could not be "
                          "found.")


CHECKS: dict[str, Callable[[Session, str], str | None]] = {
    "nova.flavor": _flavor,
    "nova.keypair": lambda s, v: _by_id_or_name(lambda: s.get("compute", f"/os-keypairs/{v}"), list,
                                                f"The Key ({v}) could not be found."),
    "nova.server": lambda s, v: _by_id_or_name(
        lambda: s.get("compute", f"/servers/{v}"),
        lambda: [x for x in s.get("compute", "/servers", params={"name": f"^{v}$"})["servers"] if x["name"] == v],
        f"No server with a name or ID of '{v}' exists."),
    "glance.image": lambda s, v: _by_id_or_name(
        lambda: s.get("image", f"/v2/images/{v}"),
        lambda: s.get("image", "/v2/images", params={"name": v})["images"],
        f"No images matching {{'name': '{v}'}}.", f"Multiple images matching {{'name': '{v}'}}."),
    "neutron.network": _neutron("networks", "network"),
    "neutron.subnet": _neutron("subnets", "subnet"),
    "neutron.port": _neutron("ports", "port"),
    "neutron.router": _neutron("routers", "router"),
    "neutron.security_group": _neutron("security-groups", "security_group"),
    "neutron.subnetpool": _neutron("subnetpools", "subnetpool"),
    "cinder.volume": lambda s, v: _by_id_or_name(
        lambda: s.get("block-storage", f"/volumes/{v}"),
        lambda: s.get("block-storage", "/volumes", params={"name": v})["volumes"],
        f"The Volume ({v}) could not be found."),
    "cinder.vtype": lambda s, v: None if any(
        v in (t["id"], t["name"]) for t in s.get("block-storage", "/types")["volume_types"])
    else f"The VolumeType ({v}) could not be found.",
}


def check(definition: Definition, session: Session) -> None:
    """Every custom constraint this cloud knows, on each parameter's value (a list's every item); others
    are accepted unchecked."""
    for name, param in definition.template.parameters.items():
        value = definition.values.get(name)
        if value is None or value is UNKNOWN or value == "":
            continue
        for constraint in param.constraints:
            checker = CHECKS.get(constraint.get("custom_constraint"))
            if checker is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                try:
                    problem = checker(session, str(item))
                except CloudError as exc:
                    problem = f"{constraint['custom_constraint']} could not be checked: {exc}"
                if problem:
                    raise BadRequest(f"Parameter '{name}' is invalid: Error validating value '{item}': "
                                     f"{constraint.get('description') or problem}", kind="StackValidationFailed")
