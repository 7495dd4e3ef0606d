"""Overview: the project's quota usage, one bar per resource, from each service's own usage API."""

from __future__ import annotations

import asyncio
import dataclasses

from starlette.responses import Response
from starlette.routing import Route

from onestack.dashboard.client import ApiError, Cloud
from onestack.dashboard.web import Page, panel


@dataclasses.dataclass
class Usage:
    label: str
    used: float
    limit: float | None  # None or negative: no limit
    unit: str = ""

    def __post_init__(self):
        self.limit = -1 if self.limit is None else self.limit

    @property
    def percent(self) -> float:
        if self.limit < 0:
            return 0.0
        if self.limit == 0:
            return 100.0 if self.used else 0.0
        return min(100.0, 100.0 * self.used / self.limit)

    @property
    def level(self) -> str:
        return "full" if self.percent >= 90 else "high" if self.percent >= 70 else "ok"


async def _compute(cloud: Cloud) -> list[Usage]:
    absolute = (await cloud.get("compute", "/limits"))["limits"]["absolute"]
    return [Usage("Instances", absolute["totalInstancesUsed"], absolute["maxTotalInstances"]),
            Usage("vCPUs", absolute["totalCoresUsed"], absolute["maxTotalCores"]),
            Usage("RAM", absolute["totalRAMUsed"], absolute["maxTotalRAMSize"], "MB")]


_NETWORK = [("floatingip", "Floating IPs"), ("security_group", "Security groups"), ("port", "Ports"),
            ("network", "Networks"), ("router", "Routers")]


async def _network(cloud: Cloud, project_id: str) -> list[Usage]:
    quota = (await cloud.get("network", f"/quotas/{project_id}/details"))["quota"]
    return [Usage(label, quota[key]["used"], quota[key]["limit"]) for key, label in _NETWORK if key in quota]


async def _volume(cloud: Cloud, project_id: str) -> list[Usage]:
    quota = (await cloud.get("block-storage", f"/os-quota-sets/{project_id}", usage="True"))["quota_set"]
    found = [Usage("Volumes", quota["volumes"]["in_use"], quota["volumes"]["limit"]),
             Usage("Volume storage", quota["gigabytes"]["in_use"], quota["gigabytes"]["limit"], "GB")]
    found += [Usage(label, quota[key]["in_use"], quota[key]["limit"]) for key, label in
              (("snapshots", "Volume snapshots"), ("backups", "Volume backups")) if key in quota]
    return found


def _bytes_unit(*amounts: float) -> tuple[float, str]:
    """The unit the larger of the amounts reads best in: (bytes in one unit, its name)."""
    top = max(amounts)
    for size, unit in ((1 << 30, "GiB"), (1 << 20, "MiB")):
        if top >= size:
            return size, unit
    return 1 << 10, "KiB"


async def _object_store(cloud: Cloud) -> list[Usage]:
    """The account's containers and stored bytes, against its quota (``X-Account-Meta-Quota-Bytes``) if it
    has one: Swift keeps no other usage API."""
    head = (await cloud.call("HEAD", "object-store", "")).headers
    used = int(head.get("x-account-bytes-used", 0))
    quota = int(head["x-account-meta-quota-bytes"]) if head.get("x-account-meta-quota-bytes", "").isdigit() else -1
    size, unit = _bytes_unit(used, quota)
    return [Usage("Containers", int(head.get("x-account-container-count", 0)), None),
            Usage("Objects", int(head.get("x-account-object-count", 0)), None),
            Usage("Stored data", round(used / size), quota / size if quota >= 0 else None, unit)]


async def _orchestration(cloud: Cloud) -> list[Usage]:
    stacks = (await cloud.get("orchestration", "/stacks"))["stacks"]
    return [Usage("Stacks", len(stacks), None)]


async def _image(cloud: Cloud) -> list[Usage]:
    usage = (await cloud.get("image", "/info/usage"))["usage"]
    found = usage.get("image_count_total")
    return [Usage("Images", found["usage"], found["limit"])] if found else []


async def _section(name: str, work) -> tuple[str, list[Usage], str]:
    try:
        return name, await work, ""
    except ApiError as err:
        return name, [], "not available" if err.status in (404, 503) else err.message


@panel()
async def overview(page: Page) -> Response:
    cloud = page.cloud
    sections = await asyncio.gather(
        _section("Compute", _compute(cloud)), _section("Block Storage", _volume(cloud, page.project_id)),
        _section("Network", _network(cloud, page.project_id)), _section("Image", _image(cloud)),
        _section("Object store", _object_store(cloud)), _section("Orchestration", _orchestration(cloud)))
    return page.render("overview.html", title="Overview", sections=sections)


def routes() -> list[Route]:
    return [Route("/", overview, methods=["GET"])]
