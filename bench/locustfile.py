"""A mixed read/write workload across onestack's services, through their public HTTP APIs, for Locust.

``bench/sustained.py`` prepares the cloud (projects with a member each and lifted quotas, a public image)
and writes what a client needs to the JSON file named by ``ONESTACK_LOAD_CONTEXT``; each simulated user
takes one of those projects, signs in, and then does what a tenant does: reads far more often than it
writes, and keeps only a few resources of each kind at a time (the oldest is deleted before another is
made), so the cloud's size stays steady however long the run and a growing memory means a leak.

Every request says which answer it expects; anything else (a 409 of a race, a 500) is an error, named by
operation in Locust's statistics.  Run it alone against any cloud prepared so:

    ONESTACK_LOAD_CONTEXT=ctx.json locust -f bench/locustfile.py --headless -u 10 -t 60s --host URL
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid

from locust import FastHttpUser, between, task

CONTEXT = json.loads(open(os.environ["ONESTACK_LOAD_CONTEXT"]).read())  # noqa: SIM115 - read once at import
NOVA = {"X-OpenStack-Nova-API-Version": "2.37"}  # 2.37: `networks: "none"`, a server with no port
# resources of a kind a user holds at once; the oldest goes before another is made
KEEP = CONTEXT.get("keep", 2)
_tenants = itertools.cycle(CONTEXT["tenants"])


class Tenant(FastHttpUser):
    wait_time = between(*CONTEXT.get("wait", (0.5, 2.0)))

    def on_start(self) -> None:
        self.me = next(_tenants)
        self.project = self.me["project_id"]
        self.servers: list[str] = []
        self.volumes: list[str] = []
        self.network: dict | None = None  # {"id", "ports": [...]}, made and unmade step by step
        self.container = f"load-{uuid.uuid4().hex[:8]}"
        self.token = ""
        self.issue_token()
        self.call("PUT", f"/object-store/v1/AUTH_{self.project}/{self.container}", (201, 202),
                  "container create")

    # -- the plumbing: one request, the answer it must have, named by operation
    def call(self, method: str, path: str, expect: tuple[int, ...], name: str, body: dict | None = None,
             data: bytes | None = None, headers: dict | None = None, token: bool = True, check=None):
        """``check(resp)``, if given, says what is wrong with an answer of the expected status, or None."""
        sent = {**({"X-Auth-Token": self.token} if token else {}), **(headers or {})}
        kwargs = {"json": body} if body is not None else {"data": data} if data is not None else {}
        with self.client.request(method, path, name=name, headers=sent, catch_response=True, **kwargs) as resp:
            wrong = None if resp.status_code not in expect else check(resp) if check else None
            if resp.status_code not in expect:
                resp.failure(f"{resp.status_code} {(resp.text or '')[:300]}")
            elif wrong:
                resp.failure(wrong)
            else:
                resp.success()
            return resp

    @staticmethod
    def body(resp) -> dict:
        try:
            return resp.json()
        except ValueError:
            return {}

    # -- identity
    @task(1)
    def issue_token(self) -> None:
        me = self.me
        auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": me["user"], "domain": {"id": "default"}, "password": me["password"]}}},
            "scope": {"project": {"id": self.project}}}}
        resp = self.call("POST", "/identity/v3/auth/tokens", (201,), "token issue", body=auth, token=False)
        if resp.status_code == 201:
            self.token = resp.headers["X-Subject-Token"]

    @task(4)
    def validate_token(self) -> None:
        self.call("GET", "/identity/v3/auth/tokens", (200,), "token validate",
                  headers={"X-Subject-Token": self.token})

    # -- compute (the fake driver)
    @task(4)
    def list_servers(self) -> None:
        self.call("GET", "/compute/v2.1/servers/detail?limit=20", (200,), "server list", headers=NOVA)

    @task(2)
    def show_server(self) -> None:
        if self.servers:
            self.call("GET", f"/compute/v2.1/servers/{random.choice(self.servers)}", (200,), "server show",
                      headers=NOVA)

    @task(1)
    def cycle_server(self) -> None:
        if len(self.servers) >= KEEP:
            self.call("DELETE", f"/compute/v2.1/servers/{self.servers.pop(0)}", (204,), "server delete",
                      headers=NOVA)
        resp = self.call("POST", "/compute/v2.1/servers", (202,), "server create", headers=NOVA, body={"server": {
            "name": "load", "imageRef": CONTEXT["image"], "flavorRef": CONTEXT["flavor"], "networks": "none"}})
        if resp.status_code == 202:
            self.servers.append(self.body(resp)["server"]["id"])

    # -- network: a network, its subnet, ports on it, then all of it deleted, one step a turn
    @task(2)
    def list_networks(self) -> None:
        self.call("GET", "/network/v2.0/networks", (200,), "network list")

    @task(2)
    def step_network(self) -> None:
        net = self.network
        if net is None:
            resp = self.call("POST", "/network/v2.0/networks", (201,), "network create",
                             body={"network": {"name": "load"}})
            if resp.status_code != 201:
                return
            net_id = self.body(resp)["network"]["id"]
            self.network = {"id": net_id, "ports": []}
            self.call("POST", "/network/v2.0/subnets", (201,), "subnet create", body={"subnet": {
                "network_id": net_id, "ip_version": 4, "cidr": f"10.{random.randrange(256)}.0.0/24"}})
        elif len(net["ports"]) < KEEP:
            resp = self.call("POST", "/network/v2.0/ports", (201,), "port create",
                             body={"port": {"network_id": net["id"]}})
            if resp.status_code == 201:
                net["ports"].append(self.body(resp)["port"]["id"])
        else:
            for port in net["ports"]:
                self.call("DELETE", f"/network/v2.0/ports/{port}", (204,), "port delete")
            self.call("DELETE", f"/network/v2.0/networks/{net['id']}", (204,), "network delete")
            self.network = None

    # -- image
    @task(3)
    def list_images(self) -> None:
        self.call("GET", "/image/v2/images", (200,), "image list")

    # -- block storage (the file backend: each create is a qemu-img of the supervising process)
    @task(1)
    def cycle_volume(self) -> None:
        base = f"/volume/v3/{self.project}/volumes"
        if len(self.volumes) >= KEEP:
            oldest = self.volumes[0]
            resp = self.call("GET", f"{base}/{oldest}", (200,), "volume show")
            if resp.status_code != 200 or self.body(resp)["volume"]["status"] not in ("available", "error"):
                return  # still being made: deleted on a later turn
            self.call("DELETE", f"{base}/{self.volumes.pop(0)}", (202,), "volume delete")
        resp = self.call("POST", base, (202,), "volume create", body={"volume": {"size": 1, "name": "load"}})
        if resp.status_code == 202:
            self.volumes.append(self.body(resp)["volume"]["id"])

    # -- object storage: a 4 KiB object put, read back and checked, deleted
    @task(2)
    def cycle_object(self) -> None:
        path = f"/object-store/v1/AUTH_{self.project}/{self.container}/{uuid.uuid4().hex}"
        data = os.urandom(4096)
        if self.call("PUT", path, (201,), "object put", data=data).status_code != 201:
            return
        self.call("GET", path, (200,), "object get",
                  check=lambda resp: None if resp.content == data else "the object read back differs")
        self.call("DELETE", path, (204,), "object delete")

    # -- orchestration
    @task(2)
    def list_stacks(self) -> None:
        self.call("GET", f"/orchestration/v1/{self.project}/stacks", (200,), "stack list")
