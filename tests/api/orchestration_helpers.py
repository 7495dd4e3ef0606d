"""A Heat client per project for the orchestration tests, and waiters for stacks to settle."""

from __future__ import annotations

import httpx
import pytest
import yaml

from tests.api.helpers import member_of_new_project, name, ok, upload_image, wait

SETTLED = ("COMPLETE", "FAILED")


class Heat:
    """A member of a fresh project, speaking Heat's v1 API (and the other APIs, to look behind stacks)."""

    def __init__(self, cloud, admin: httpx.Client):
        self.cloud = cloud
        self.project, self.user, self.token = member_of_new_project(cloud, admin)
        self.project_id = self.project["id"]
        headers = {"X-Auth-Token": self.token}
        self.http = httpx.Client(base_url=f"{cloud.url}/orchestration/v1/{self.project_id}", headers=headers,
                                 timeout=60)
        self.root = httpx.Client(base_url=cloud.url, headers=headers, timeout=60)

    def create(self, template, status: int = 201, **body) -> dict:
        text = template if isinstance(template, str) else yaml.safe_dump(template)
        body.setdefault("stack_name", name("stack"))
        resp = self.http.post("/stacks", json={"template": text, **body})
        created = ok(resp, status)
        return {**created.get("stack", {}), "stack_name": body["stack_name"]} if status == 201 else created

    def path(self, stack: dict) -> str:
        return f"/stacks/{stack['stack_name']}/{stack['id']}"

    def show(self, stack: dict) -> dict:
        return ok(self.http.get(self.path(stack)))["stack"]

    def settle(self, stack: dict, seconds: float = 60) -> dict:
        """The stack once its action is over (not IN_PROGRESS)."""
        return wait(lambda: (s := self.show(stack))["stack_status"].endswith(SETTLED) and s, seconds,
                    f"stack {stack['stack_name']} to settle")

    def created(self, template, **body) -> dict:
        stack = self.settle(self.create(template, **body))
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
        return stack

    def resources(self, stack: dict) -> dict[str, dict]:
        return {r["resource_name"]: r for r in ok(self.http.get(f"{self.path(stack)}/resources"))["resources"]}

    def events(self, stack: dict) -> list[dict]:
        return ok(self.http.get(f"{self.path(stack)}/events"))["events"]

    def output(self, stack: dict, key: str):
        return ok(self.http.get(f"{self.path(stack)}/outputs/{key}"))["output"]["output_value"]

    def delete(self, stack: dict, seconds: float = 60) -> dict:
        ok(self.http.delete(self.path(stack)), 204)
        return self.settle(stack, seconds)

    def close(self) -> None:
        self.http.close()
        self.root.close()


def fault(resp: httpx.Response, status: int, kind: str | None = None) -> str:
    """Heat's fault body, checked for its shape; its message."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text}"
    body = resp.json()
    assert set(body) == {"code", "title", "explanation", "error"}, body
    assert body["code"] == status and body["error"]["traceback"] is None
    if kind is not None:
        assert body["error"]["type"] == kind, body
    return body["error"]["message"]


@pytest.fixture
def make_heat(cloud, admin):
    made = []

    def make() -> Heat:
        made.append(Heat(cloud, admin))
        return made[-1]

    yield make
    for heat in made:
        heat.close()


@pytest.fixture
def heat(make_heat) -> Heat:
    return make_heat()


@pytest.fixture(scope="module")
def heat_image(cloud):
    """A public image (4 KiB of zeros: all the fake driver needs) for stacks with servers."""
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": cloud.token()}, timeout=60) as http:
        made = upload_image(http, image_name=name("img"))
        ok(http.patch(f"/image/v2/images/{made['id']}", json=[{"op": "replace", "path": "/visibility",
                                                                  "value": "public"}],
                      headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}))
        return made
