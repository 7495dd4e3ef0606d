"""Two serving processes on PostgreSQL, each reached on purpose: a connection's worker is the process that
owns the server side of it (read with ``ss``).  What one worker changes, the other honours at once: a revoked
token, a removed role, a server made there; a worker killed with ``kill -9`` in the middle of requests is
replaced, and what it was doing is whole or absent."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from tests.api.helpers import make_project, member_of_new_project, name, role_id
from tests.cloudfixture import Cloud, children
from tests.pgtools import scratch_database

pytestmark = pytest.mark.postgres
PID = re.compile(r"pid=(\d+)")


class Link:
    """One keep-alive connection and the worker that took it."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.connect()
        local = self.conn.sock.getsockname()[1]
        for _ in range(100):  # a connection still in the listen backlog belongs to no worker yet
            # the server's end of this connection only: another cloud's clients may talk to a port numbered as
            # this connection's own ephemeral port, and ``dport`` alone finds their sockets too
            out = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{local} and sport = :{port} )"],
                                 capture_output=True, text=True, check=True).stdout
            found = PID.search(out)
            if found:
                break
            time.sleep(0.05)
        assert found, f"no worker took the connection from port {local}"
        self.pid = int(found.group(1))

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None,
             headers: dict | None = None) -> tuple[int, dict]:
        sent = {"Content-Type": "application/json", **({"X-Auth-Token": token} if token else {}), **(headers or {})}
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
        reply = self.conn.getresponse()
        data = reply.read()
        return reply.status, json.loads(data) if data.strip().startswith(b"{") else {}

    def close(self) -> None:
        self.conn.close()



def one_link_per_worker(cloud: Cloud, count: int = 2) -> dict[int, Link]:
    links: dict[int, Link] = {}
    for _ in range(200):
        link = Link(cloud.port)
        if link.pid in links:
            link.close()
        else:
            links[link.pid] = link
        if len(links) == count:
            return links
    raise AssertionError(f"the kernel gave every connection to the same worker(s): {sorted(links)}")


def within(seconds: float, check) -> float:
    """How long ``check`` took to hold, failing after ``seconds``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, "not honoured in time"
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def cloud2(tmp_path_factory):
    with scratch_database() as url:
        cloud = Cloud(tmp_path_factory.mktemp("workers"), database=url, settings={"workers": 2}).start()
        try:
            yield cloud
        finally:
            cloud.stop()


@pytest.fixture
def workers(cloud2):
    links = one_link_per_worker(cloud2)
    yield list(links.values())
    for link in links.values():
        link.close()


def test_a_revoked_token_and_a_removed_role_are_refused_by_the_other_worker_at_once(cloud2, workers):
    one, other = workers
    assert one.pid != other.pid
    with cloud2.client() as admin:
        project, user, token = member_of_new_project(cloud2, admin)
        for link in workers:
            assert link.call("GET", "/compute/v2.1/servers", token)[0] == 200
        assert one.call("DELETE", "/identity/v3/auth/tokens", cloud2.token(),
                        headers={"X-Subject-Token": token})[0] == 204
        took = within(1.0, lambda: other.call("GET", "/compute/v2.1/servers", token)[0] == 401)
        print(f"revocation honoured by the other worker after {took * 1000:.0f} ms")

        token = cloud2.token(user["name"], "secret-pass-1", project["name"])
        assert other.call("GET", "/network/v2.0/networks", token)[0] == 200
        member = role_id(admin, "member")
        assert one.call("DELETE", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{member}",
                        cloud2.token())[0] == 204
        took = within(1.0, lambda: other.call("GET", "/network/v2.0/networks", token)[0] == 401)
        print(f"role removal honoured by the other worker after {took * 1000:.0f} ms")


def test_after_a_key_rotation_a_token_one_worker_issues_the_other_accepts_at_once(cloud2, workers):
    """``onestack keys rotate`` changes the keys on disk under running workers: each must sign with the new
    primary and accept it from the other at once, and still accept tokens signed before."""
    one, other = workers
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": cloud2.password("onestack-admin")}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}

    def issued_by(link: Link) -> str:
        link.conn.request("POST", "/identity/v3/auth/tokens", body=json.dumps(body),
                          headers={"Content-Type": "application/json"})
        reply = link.conn.getresponse()
        reply.read()
        assert reply.status == 201
        return reply.headers["X-Subject-Token"]

    before = issued_by(one)
    for _ in range(2):
        cloud2.onestack("keys", "rotate")
        for signer, checker in ((one, other), (other, one)):
            token = issued_by(signer)
            took = within(1.0, lambda t=token, c=checker: c.call("GET", "/compute/v2.1/servers", t)[0] == 200)
            print(f"a token signed after the rotation accepted by the other worker after {took * 1000:.0f} ms")
        for link in workers:
            assert link.call("GET", "/compute/v2.1/servers", before)[0] == 200


def test_what_one_worker_makes_the_other_shows_and_the_engine_builds(cloud2, workers):
    one, other = workers
    token = cloud2.token()
    status, net = one.call("POST", "/network/v2.0/networks", token, {"network": {"name": name("net")}})
    assert status == 201
    status, shown = other.call("GET", f"/network/v2.0/networks/{net['network']['id']}", token)
    assert (status, shown["network"]["name"]) == (200, net["network"]["name"])
    status, made = one.call("POST", "/compute/v2.1/servers", token, {"server": {
        "name": name("vm"), "flavorRef": "1", "imageRef": _image(cloud2, other, token), "networks": "none"}},
        headers={"X-OpenStack-Nova-API-Version": "2.37"})
    assert status == 202, made

    def active() -> bool:
        return other.call("GET", f"/compute/v2.1/servers/{made['server']['id']}", token)[1]["server"][
            "status"] == "ACTIVE"
    print(f"built and seen ACTIVE through the other worker after {within(30, active):.2f} s")


def _image(cloud: Cloud, link: Link, token: str) -> str:
    status, image = link.call("POST", "/image/v2/images", token, {
        "name": name("img"), "disk_format": "raw", "container_format": "bare", "visibility": "public"})
    assert status == 201
    link.conn.request("PUT", f"/image/v2/images/{image['id']}/file", body=b"\0" * 4096,
                      headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"})
    reply = link.conn.getresponse()
    reply.read()
    assert reply.status == 204
    return image["id"]


def test_a_worker_killed_mid_requests_is_replaced_and_leaves_nothing_half_made(cloud2):
    parent = int((cloud2.data_dir / "onestack.pid").read_text())
    before = children(parent)
    assert len(before) == 2
    token = cloud2.token()
    with cloud2.client() as admin:
        project_id = make_project(admin)["id"]
    victim = one_link_per_worker(cloud2)
    answered: list[tuple[int, str]] = []
    stop = threading.Event()

    def burst(link: Link) -> None:
        # each answered create must be there afterwards; one the kill cut short is there whole or not at all
        while not stop.is_set():
            try:
                status, made = link.call("POST", "/network/v2.0/networks", token,
                                         {"network": {"name": name("burst"), "project_id": project_id}})
            except (OSError, http.client.HTTPException):
                return  # the worker died under this request
            answered.append((status, made.get("network", {}).get("id", "")))

    pid, link = next(iter(victim.items()))
    thread = threading.Thread(target=burst, args=(link,))
    thread.start()
    within(15, lambda: len(answered) >= 3)  # the kill lands in a running burst
    os.kill(pid, signal.SIGKILL)
    stop.set()
    thread.join(30)
    for other in victim.values():
        other.close()
    # one look at the children per check: two looks let a victim still dying count as the second worker
    within(15, lambda: len(now := children(parent)) == 2 and pid not in now)
    assert children(parent) - before  # a new worker took the dead one's place
    # both workers answer again, and every answered create is there, whole
    for fresh in one_link_per_worker(cloud2).values():
        status, nets = fresh.call("GET", f"/network/v2.0/networks?project_id={project_id}", token)
        assert status == 200
        listed = {n["id"]: n for n in nets["networks"]}
        created = [ident for status, ident in answered if status == 201]
        assert created and set(created) <= set(listed)
        assert all(n["status"] == "ACTIVE" and n["project_id"] == project_id for n in listed.values())
        fresh.close()
    print(f"{len(answered)} creates answered before the kill; {len(listed)} networks listed after")


def admin_project(cloud: Cloud) -> tuple[str, str]:
    """The admin's token and project id."""
    reply = cloud.issue("admin", None, "admin", "Default")
    return reply.headers["X-Subject-Token"], reply.json()["token"]["project"]["id"]


def links_on_each_worker(cloud: Cloud, per_worker: int, count: int = 2) -> list[Link]:
    """``per_worker`` connections to each of the ``count`` workers."""
    by_worker: dict[int, list[Link]] = {}
    for _ in range(400):
        link = Link(cloud.port)
        mine = by_worker.setdefault(link.pid, [])
        if len(mine) < per_worker:
            mine.append(link)
        else:
            link.close()
        if len(by_worker) == count and all(len(links) == per_worker for links in by_worker.values()):
            return [link for links in by_worker.values() for link in links]
    raise AssertionError(f"connections per worker: { {pid: len(ls) for pid, ls in by_worker.items()} }")


def race(links: list[Link], rounds: int, one) -> list[tuple[int, dict]]:
    """``one(link)`` ``rounds`` times on every link at once, each link from its own thread."""
    answers: list[tuple[int, dict]] = []
    start = threading.Barrier(len(links))

    def run(link: Link) -> None:
        start.wait()
        for _ in range(rounds):
            answers.append(one(link))

    threads = [threading.Thread(target=run, args=(link,)) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for link in links:
        link.close()
    return answers


def test_networks_made_at_once_on_both_workers_each_get_a_segment_of_their_own(cloud2):
    # Each create picks the first free VNI: on two workers two creates read the same one (409 TunnelIdInUse,
    # or a duplicate key on the segment table) unless the pick is serialised.
    token, project = admin_project(cloud2)
    assert Link(cloud2.port).call("PUT", f"/network/v2.0/quotas/{project}", token, {"quota": {"network": -1}})[0] == 200
    answers = race(links_on_each_worker(cloud2, 6), 10, lambda link: link.call(
        "POST", "/network/v2.0/networks", token, {"network": {"name": name("race")}}))
    refused = [(status, body) for status, body in answers if status != 201]
    assert not refused, f"{len(refused)} of {len(answers)} refused: {refused[:3]}"
    vnis = [body["network"]["provider:segmentation_id"] for _, body in answers]
    assert len(vnis) == 120 and len(set(vnis)) == 120, sorted(vnis)


def test_servers_made_at_once_on_both_workers_each_get_a_number_of_their_own(cloud2):
    # A server's number (its hypervisor name, instance-%08x) is the highest so far plus one: two workers'
    # creates read the same highest (a 409 on uq_compute_instance_number) unless the pick is serialised.
    # One project per connection: a project's creates already queue on its quota lock.
    admin_token, _ = admin_project(cloud2)
    links = links_on_each_worker(cloud2, 4)
    image = _image(cloud2, links[0], admin_token)
    with cloud2.client() as admin:
        tokens = {id(link): member_of_new_project(cloud2, admin)[2] for link in links}
    nova = {"X-OpenStack-Nova-API-Version": "2.37"}
    answers = race(links, 5, lambda link: link.call("POST", "/compute/v2.1/servers", tokens[id(link)], {"server": {
        "name": name("race"), "flavorRef": "1", "imageRef": image, "networks": "none"}}, headers=nova))
    refused = [(status, body) for status, body in answers if status != 202]
    assert not refused, f"{len(refused)} of {len(answers)} refused: {refused[:3]}"
    link = Link(cloud2.port)
    names = set()
    for _, body in answers:
        status, shown = link.call("GET", f"/compute/v2.1/servers/{body['server']['id']}", admin_token, headers=nova)
        assert status == 200
        names.add(shown["server"]["OS-EXT-SRV-ATTR:instance_name"])
    link.close()
    assert len(names) == 40, sorted(names)
