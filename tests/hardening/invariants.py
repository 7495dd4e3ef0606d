"""What must hold after any number of `kill -9`s, once the reconcilers have settled (see chaos.py).

Each check adds to ``report.checked`` what it looked at and to ``report.violations`` what it found wrong.
The world is read through the public APIs as the admin; the data dir and the database (read-only) only to
find files no row owns and processes no row wants.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.hardening import chaos as ch


def admin_project(c: ch.Chaos) -> str:
    if not hasattr(c, "_admin_pid"):
        r = c.read(c.admin, "/identity/v3/projects", params={"name": "admin"})
        c._admin_pid = r.json()["projects"][0]["id"]
    return c._admin_pid


def servers(c: ch.Chaos) -> list[dict]:
    return c.read(c.admin, "/compute/v2.1/servers/detail", params={"all_tenants": 1, "limit": 1000}
                  ).json()["servers"]


def volumes(c: ch.Chaos) -> list[dict]:
    return c.read(c.admin, f"/volume/v3/{admin_project(c)}/volumes/detail",
                  params={"all_tenants": 1, "limit": 1000}).json()["volumes"]


def snapshots(c: ch.Chaos) -> list[dict]:
    return c.read(c.admin, f"/volume/v3/{admin_project(c)}/snapshots/detail",
                  params={"all_tenants": 1, "limit": 1000}).json()["snapshots"]


def backups(c: ch.Chaos) -> list[dict]:
    return c.read(c.admin, f"/volume/v3/{admin_project(c)}/backups/detail",
                  params={"all_tenants": 1, "limit": 1000}).json()["backups"]


def images(c: ch.Chaos) -> list[dict]:
    return c.read(c.admin, "/image/v2/images", params={"limit": 1000}).json()["images"]


def stacks(c: ch.Chaos) -> list[dict]:
    return c.read(c.admin, f"/orchestration/v1/{admin_project(c)}/stacks",
                  params={"global_tenant": "true", "show_nested": "true"}).json()["stacks"]


def transitional(c: ch.Chaos) -> list[str]:
    """Everything in a transitional state now."""
    found = []
    for s in servers(c):
        if s["status"] in ch.SERVER_TRANSITIONAL or s.get("OS-EXT-STS:task_state"):
            found.append(f"server {s['id']} {s['status']}/{s.get('OS-EXT-STS:task_state')}")
    found += [f"volume {v['id']} {v['status']}" for v in volumes(c) if v["status"] in ch.VOLUME_TRANSITIONAL]
    found += [f"snapshot {s['id']} {s['status']}" for s in snapshots(c) if s["status"] in ch.SNAPSHOT_TRANSITIONAL]
    found += [f"backup {b['id']} {b['status']}" for b in backups(c) if b["status"] in ch.BACKUP_TRANSITIONAL]
    found += [f"image {i['id']} {i['status']}" for i in images(c) if i["status"] in ch.IMAGE_TRANSITIONAL]
    found += [f"stack {s['stack_name']} {s['stack_status']}" for s in stacks(c)
              if s["stack_status"].endswith("_IN_PROGRESS")]
    ports = c.read(c.admin, "/network/v2.0/ports").json()["ports"]
    found += [f"port {p['id']} {p['status']}" for p in ports if p["status"] == "BUILD"]
    return found


def check(c: ch.Chaos) -> None:
    for name, fn in (("transitional", check_transitional), ("data", check_data), ("placement", check_placement),
                     ("quotas", check_quotas), ("files", check_files), ("processes", check_processes), ("guests", check_guests),
                     ("containers", check_containers),
                     ("kernel", check_kernel),
                     ("database", check_database)):
        try:
            fn(c)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is itself a finding
            c.violation(f"{name} check could not run: {exc!r}")


def check_transitional(c: ch.Chaos) -> None:
    left = transitional(c)
    c.report.checked["resources out of transitional states"] += (
        len(servers(c)) + len(volumes(c)) + len(snapshots(c)) + len(images(c)) + len(stacks(c)))
    for item in left:
        c.violation(f"still transitional after {c.report.settle_seconds:.0f}s: {item}")


def _sha(resp: httpx.Response) -> str:
    return hashlib.sha256(resp.content).hexdigest()


def check_data(c: ch.Chaos) -> None:
    # two clients of one project may delete the same thing: the one told "ok" says what must hold
    rank = {"ok": 2, "cut": 1, "failed": 0}
    deleted: dict[tuple[str, str], str] = {}
    for t in c.told:
        if t.kind.endswith("-delete"):
            key = (t.kind.removesuffix("-delete"), t.key)
            if rank[t.told] >= rank.get(deleted.get(key, "failed"), 0):
                deleted[key] = t.told
    for t in c.told:
        gone = deleted.get((t.kind, t.key))
        if t.kind == "image":
            _check_image(c, t, gone)
        elif t.kind == "object":
            _check_object(c, t, gone)
        elif t.kind == "volume":
            _check_volume(c, t, gone)
        elif t.kind == "grant":
            _check_grant(c, t, deleted)
        elif t.kind == "server":
            _check_server(c, t, gone)


def _check_image(c: ch.Chaos, t: ch.Told, gone: str | None) -> None:
    c.report.checked["images whole or absent"] += 1
    r = c.read(c.admin, f"/image/v2/images/{t.key}")
    if gone == "ok" or (gone == "cut" and r.status_code == 404):
        if r.status_code != 404:
            c.violation(f"image {t.key} deleted (told {gone}) is still there: {r.json()['status']}")
        return
    if r.status_code == 404:
        c.violation(f"image {t.key} (upload told {t.told}) is gone")
        return
    image = r.json()
    if image["status"] != "active":
        if t.told == "ok":
            c.violation(f"image {t.key}: upload told ok, image {image['status']}")
        return
    data = c.read(c.admin, f"/image/v2/images/{t.key}/file")
    if data.status_code != 200 or _sha(data) != t.sha256 or image["size"] != t.size:
        c.violation(f"image {t.key} active (upload told {t.told}) but its data is not what was sent: "
                    f"{data.status_code}, {len(data.content)} bytes of {t.size}")
    if image.get("os_hash_value") != hashlib.sha512(data.content).hexdigest():
        c.violation(f"image {t.key}: os_hash_value does not match its data")


def _check_object(c: ch.Chaos, t: ch.Told, gone: str | None) -> None:
    c.report.checked["objects whole or absent"] += 1
    with c.client(t.extra["owner"]) as mine:
        r = c.read(mine, t.key)
    if gone == "ok" or t.told == "failed":
        if r.status_code != 404:
            c.violation(f"object {t.key} (told {t.told}, delete told {gone}) answers {r.status_code}")
        return
    if r.status_code == 404:
        if t.told == "ok" and gone is None:
            c.violation(f"object {t.key} (upload told ok) is gone")
        return
    if r.status_code != 200 or _sha(r) != t.sha256:
        c.violation(f"object {t.key} (told {t.told}) answers {r.status_code} with {len(r.content)} bytes "
                    f"that are not the {t.size} sent")


def _check_volume(c: ch.Chaos, t: ch.Told, gone: str | None) -> None:
    c.report.checked["volumes whole or failed"] += 1
    r = c.read(c.admin, f"/volume/v3/{admin_project(c)}/volumes/{t.key}")
    if r.status_code == 404:
        if gone is None:
            c.violation(f"volume {t.key} (create told ok) is gone")
        return
    volume = r.json()["volume"]
    if gone == "ok" and volume["status"] != "error_deleting":
        c.violation(f"volume {t.key} deleted (told 202) is {volume['status']}")
    if volume["status"] not in ("available", "in-use") or not t.extra.get("image"):
        return
    path = c.cloud.data_dir / "volumes" / f"volume-{t.key}.qcow2"
    image = c.cloud.data_dir / "images" / t.extra["image"]
    # -U (force-share): an in-use volume of a real guest is open in its QEMU, which holds its write lock
    result = subprocess.run(["qemu-img", "compare", "-q", "-U", "-f", "qcow2", "-F", "raw", str(path), str(image)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        c.violation(f"volume {t.key} from image {volume['status']} but its data differs from the image "
                    f"({result.returncode}: {result.stderr.strip()})")


def _check_grant(c: ch.Chaos, t: ch.Told, deleted: dict) -> None:
    c.report.checked["role grants"] += 1
    project, user, role = t.key.split("/")
    r = c.read(c.admin, f"/identity/v3/projects/{project}/users/{user}/roles/{role}")
    gone = deleted.get(("user", user))
    if gone is not None:
        u = c.read(c.admin, f"/identity/v3/users/{user}")
        if gone == "ok" and u.status_code != 404:
            c.violation(f"user {user} deleted (told ok) is still there")
        if u.status_code == 404:
            if r.status_code != 404:
                c.violation(f"grant {t.key} of a deleted user answers {r.status_code}")
            return
    if t.told == "ok" and r.status_code != 204:
        c.violation(f"grant {t.key} told ok but answers {r.status_code}")


def _check_server(c: ch.Chaos, t: ch.Told, gone: str | None) -> None:
    c.report.checked["servers"] += 1
    r = c.read(c.admin, f"/compute/v2.1/servers/{t.key}")
    if gone == "ok" and r.status_code != 404:
        c.violation(f"server {t.key} deleted (told ok) answers {r.status_code} {r.json()['server']['status']}")


def check_placement(c: ch.Chaos) -> None:
    existing = {s["id"]: s for s in servers(c)}
    hosted = {sid for sid, s in existing.items() if s.get("OS-EXT-SRV-ATTR:host")}
    consumers: dict[str, int] = {}
    for rp in c.read(c.admin, "/placement/resource_providers").json()["resource_providers"]:
        allocs = c.read(c.admin, f"/placement/resource_providers/{rp['uuid']}/allocations").json()["allocations"]
        for consumer in allocs:
            consumers[consumer] = consumers.get(consumer, 0) + 1
    c.report.checked["placement consumers"] += len(set(consumers) | hosted)
    for consumer in set(consumers) - set(existing):
        c.violation(f"placement allocation of consumer {consumer}, which is no server")
    for sid in hosted - set(consumers):
        c.violation(f"server {sid} ({existing[sid]['status']}) on a host has no placement allocation")


def check_quotas(c: ch.Chaos) -> None:
    mine = {s["id"]: s for s in servers(c)}
    vols, snaps = volumes(c), snapshots(c)
    for t in c.tenants:
        pid = t["project"]["id"]
        own = [s for s in mine.values() if s["tenant_id"] == pid]
        detail = c.read(c.admin, f"/compute/v2.1/os-quota-sets/{pid}/detail").json()["quota_set"]
        _compare(c, f"compute {pid[:8]} instances", detail["instances"]["in_use"], len(own))
        flavors = [c.read(c.admin, f"/compute/v2.1/flavors/{s['flavor']['id']}").json()["flavor"] for s in own]
        _compare(c, f"compute {pid[:8]} cores", detail["cores"]["in_use"], sum(f["vcpus"] for f in flavors))
        _compare(c, f"compute {pid[:8]} ram", detail["ram"]["in_use"], sum(f["ram"] for f in flavors))
        used = c.read(c.admin, f"/network/v2.0/quotas/{pid}/details").json()["quota"]
        for resource, plural in (("network", "networks"), ("subnet", "subnets"), ("port", "ports"),
                                 ("router", "routers"), ("floatingip", "floatingips")):
            real = len(c.read(c.admin, f"/network/v2.0/{plural}", params={"project_id": pid}).json()[plural])
            _compare(c, f"network {pid[:8]} {resource}", used[resource]["used"], real)
        q = c.read(c.admin, f"/volume/v3/{admin_project(c)}/os-quota-sets/{pid}", params={"usage": "True"}
                   ).json()["quota_set"]
        own_vols = [v for v in vols if v["os-vol-tenant-attr:tenant_id"] == pid]
        own_snaps = [s for s in snaps if s["os-extended-snapshot-attributes:project_id"] == pid]
        _compare(c, f"volume {pid[:8]} volumes", q["volumes"]["in_use"], len(own_vols))
        _compare(c, f"volume {pid[:8]} snapshots", q["snapshots"]["in_use"], len(own_snaps))
        _compare(c, f"volume {pid[:8]} gigabytes", q["gigabytes"]["in_use"],
                 sum(v["size"] for v in own_vols) + sum(s["size"] for s in own_snaps))
        with c.client(t["token"]) as client:
            account = f"/object-store/v1/AUTH_{pid}"
            head = c.read(client, account, params={"format": "json"})
            listing = head.json()
            _compare(c, f"object {pid[:8]} bytes", int(head.headers["X-Account-Bytes-Used"]),
                     sum(x["bytes"] for x in listing))
            _compare(c, f"object {pid[:8]} objects", int(head.headers["X-Account-Object-Count"]),
                     sum(x["count"] for x in listing))
            for container in listing:
                objs = c.read(client, f"{account}/{container['name']}", params={"format": "json"}).json()
                _compare(c, f"object {pid[:8]} {container['name']} bytes", container["bytes"],
                         sum(o["bytes"] for o in objs))
                _compare(c, f"object {pid[:8]} {container['name']} count", container["count"], len(objs))


def _compare(c: ch.Chaos, what: str, counted: int, real: int) -> None:
    c.report.checked["quota usages"] += 1
    if counted != real:
        c.violation(f"quota usage {what}: counted {counted}, real {real}")


def check_files(c: ch.Chaos) -> None:
    root = c.cloud.data_dir
    with ch.db(c.cloud) as conn:
        image_rows = dict(conn.execute("select id, status from image_image").fetchall())
        blobs = {b for (b,) in conn.execute("select blob_id from object_object where blob_id is not null")}
        vols = {v for (v,) in conn.execute("select id from volume")}
        snaps = {s for (s,) in conn.execute("select id from volume_snapshot")}
    checked = 0
    for f in (root / "images").iterdir():
        checked += 1
        if image_rows.get(f.name) not in ("active", "deactivated"):
            c.violation(f"file images/{f.name}: image {image_rows.get(f.name, 'row missing')}")
    for iid, status in image_rows.items():
        if status in ("active", "deactivated") and not (root / "images" / iid).exists():
            img = c.read(c.admin, f"/image/v2/images/{iid}").json()
            if img.get("size"):
                c.violation(f"image {iid} active without its file")
    for f in (root / "staging").iterdir():
        checked += 1
        c.violation(f"file staging/{f.name} left after settling (image {image_rows.get(f.name, 'row missing')})")
    for d in (root / "objects" / "data").iterdir():
        for f in d.iterdir():
            checked += 1
            if f.name not in blobs:
                c.violation(f"file objects/data/{d.name}/{f.name} is no object's blob")
    for f in (root / "objects" / "tmp").iterdir():
        checked += 1
        c.violation(f"partial upload objects/tmp/{f.name} left after restart")
    for b in blobs:
        if not (root / "objects" / "data" / b[:2] / b).exists():
            c.violation(f"object blob {b} has a row but no file")
    volumes_dir = root / "volumes"
    for f in volumes_dir.iterdir() if volumes_dir.exists() else ():
        checked += 1
        kind, _, rest = f.name.partition("-")
        ident = rest.removesuffix(".qcow2")
        if f.name.startswith(".") or f.name.endswith(".partial"):
            c.violation(f"partial file volumes/{f.name} left after settling")
        elif kind == "volume" and ident not in vols:
            c.violation(f"file volumes/{f.name}: no volume row")
        elif kind == "snapshot" and ident not in snaps:
            c.violation(f"file volumes/{f.name}: no snapshot row")
        elif kind == "image" and ident not in image_rows:
            c.violation(f"cached volumes/{f.name}: no image row")
    for v in volumes(c):
        if v["status"] in ("available", "in-use") and not (volumes_dir / f"volume-{v['id']}.qcow2").exists():
            c.violation(f"volume {v['id']} {v['status']} without its file")
    backups_dir = root / "backups"
    for f in backups_dir.rglob("*") if backups_dir.exists() else ():
        checked += 1
        if f.is_file() and f.name.endswith(".partial"):
            c.violation(f"partial backup object {f.relative_to(root)} left after settling")
    c.report.checked["files owned by a row"] += checked


def _guests(c: ch.Chaos) -> dict[str, int]:
    """The QEMU processes of this cloud's guests, by the server id QEMU was given (``-uuid``)."""
    found = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                argv = (p / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if argv[0].endswith("qemu-system-x86_64") and "-uuid" in argv and str(c.cloud.data_dir) in " ".join(argv):
                found[argv[argv.index("-uuid") + 1]] = int(p.name)
    return found


def check_guests(c: ch.Chaos) -> None:
    """With real guests: a QEMU runs for every server that is ACTIVE and for no server that is gone (a
    kill between the row and the process must leave neither an orphan guest nor a server without one)."""
    if c.guest_image is None:
        return
    with ch.db(c.cloud) as conn:  # container servers run under runc: check_containers judges them
        containers = {r[0] for r in conn.execute("select id from compute_instance where guest_kind = 'container'")}
    running = _guests(c)
    existing = {s["id"]: s for s in servers(c) if s["id"] not in containers}
    c.report.checked["guests"] += len(set(running) | set(existing))
    for server_id, pid in running.items():
        if server_id not in existing:
            c.violation(f"QEMU {pid} runs a guest for server {server_id}, which does not exist")
    for server_id, server in existing.items():
        if server["status"] == "ACTIVE" and server_id not in running:
            c.violation(f"server {server_id} is ACTIVE but no QEMU runs it")


CONTAINER_RUNNING = {"ACTIVE", "PAUSED"}  # the server statuses whose container runs (or is frozen)
_CGROUP = re.compile(r"/onestack/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")


def _runc_root(c: ch.Chaos) -> Path:
    return c.cloud.data_dir / "compute" / "runc"


def _container_processes(known: set[str]) -> dict[str, set[int]]:
    """The processes in each container's cgroup (``/onestack/<uuid>``), for the uuids of this cloud's servers
    (other clouds on the machine run containers under the same parent).  A zombie is left out: a destroyed
    container's init, exited, waits for the machine's init to reap it (its cgroup already ``(deleted)``)."""
    found: dict[str, set[int]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            text = (p / "cgroup").read_text()
            if (p / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
        except (OSError, IndexError):
            continue
        for uuid in {m.group(1) for m in _CGROUP.finditer(text)} & known:
            found.setdefault(uuid, set()).add(int(p.name))
    return found


def _container_helpers(c: ch.Chaos) -> dict[str, set[int]]:
    """The container driver's helpers by instance (a DHCP client per NIC, the console server): processes that
    name an instance's directory, apart from the server by design (``setsid``), as the containers are."""
    instances = str(_runc_root(c) / "instances") + "/"
    found: dict[str, set[int]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmdline = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if instances in cmdline and int(p.name) != os.getpid():
            found.setdefault(cmdline.split(instances, 1)[1].split("/", 1)[0], set()).add(int(p.name))
    return found


def check_containers(c: ch.Chaos) -> None:
    """With container servers: the runc containers, the processes in their cgroups, their helpers (DHCP
    clients), namespaces, overlay mounts and instance directories are exactly those of the servers the
    database says exist: a running container (its init in its cgroup) for every ``ACTIVE`` or ``PAUSED``
    container server, none for a ``SHUTOFF`` one, nothing at all of a server that is gone, whatever moment
    of a create, stop, start or delete a ``kill -9`` struck."""
    if c.container_image is None:
        return
    with ch.db(c.cloud) as conn:
        rows = conn.execute("select id, deleted, guest_kind from compute_instance").fetchall()
    known = {r[0] for r in rows}
    existing = {s["id"]: s for s in servers(c)}
    wanted = {sid for sid, kind in ((r[0], r[2]) for r in rows if not r[1]) if kind == "container" and sid in existing}
    running_wanted = {sid for sid in wanted if existing[sid]["status"] in CONTAINER_RUNNING}
    # a server in ERROR may or may not have its container (Nova's too): either is allowed, as its client sees it
    may_run = running_wanted | {sid for sid in wanted if existing[sid]["status"] == "ERROR"}
    root = _runc_root(c)
    listed = subprocess.run(["runc", "--root", str(root / "runc"), "list", "--format", "json"],
                            capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        c.violation(f"runc list failed: {listed.stderr.strip()[-200:]}")
        return
    containers = {x["id"]: x for x in json.loads(listed.stdout or "null") or []}
    live = {cid for cid, x in containers.items() if x["status"] in ("running", "paused", "created")}
    procs = _container_processes(known)
    helpers = _container_helpers(c)
    namespaces = {line.split()[0].removeprefix("ctr-") for line in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines()
        if line.startswith("ctr-")} & known
    mounts = {m for m in (line.split()[1] for line in Path("/proc/mounts").read_text().splitlines())
              if m.startswith(str(root / "instances") + "/")}
    mounted = {m.split("/")[-2] for m in mounts}
    dirs = {d.name for d in (root / "instances").iterdir()} if (root / "instances").is_dir() else set()
    c.report.checked["containers"] += len(wanted | set(containers) | set(procs) | dirs)
    c.report.checked["container processes"] += sum(len(p) for p in procs.values()) + sum(
        len(p) for p in helpers.values())
    for sid in sorted(set(containers) - wanted):
        c.violation(f"runc container {sid} ({containers[sid]['status']}, pid {containers[sid]['pid']}): "
                    f"no container server {sid} exists")
    for sid in sorted(live - may_run):
        if sid in wanted:
            c.violation(f"runc container {sid} is {containers[sid]['status']} but its server is "
                        f"{existing[sid]['status']}")
    for sid in sorted(running_wanted - live):
        c.violation(f"server {sid} is {existing[sid]['status']} but runc runs no container for it "
                    f"({containers.get(sid, {}).get('status', 'none')})")
    for sid, pids in sorted(procs.items()):
        if sid not in may_run:
            c.violation(f"processes {sorted(pids)} in the cgroup of container {sid}, whose server is "
                        f"{existing.get(sid, {}).get('status', 'gone')}")
    for sid in sorted(running_wanted - set(procs)):
        c.violation(f"server {sid} is {existing[sid]['status']} but no process is in its container's cgroup")
    for sid, pids in sorted(helpers.items()):
        if sid not in may_run:
            c.violation(f"container helper processes {sorted(pids)} of instance {sid}, whose server is "
                        f"{existing.get(sid, {}).get('status', 'gone')}")
    for sid in sorted(namespaces - wanted):
        c.violation(f"namespace ctr-{sid}: no container server {sid} exists")
    for sid in sorted(mounted - may_run):
        c.violation(f"overlay of instance {sid} still mounted: its server is {existing.get(sid, {}).get('status', 'gone')}")
    for sid in sorted(dirs - wanted):
        c.violation(f"instance directory compute/runc/instances/{sid}: no container server {sid} exists")
    for partial in sorted((root / "_images").glob(".*.partial")) if (root / "_images").is_dir() else ():
        c.violation(f"half-unpacked container image compute/runc/_images/{partial.name} left after the restart")


def check_processes(c: ch.Chaos) -> None:
    """Every process that names the data dir is the server or one of its children, or a helper of the data
    plane (dnsmasq, the metadata proxy, radvd) that its pidfile names; none survived a kill unowned.  Guests'
    QEMUs (daemons by design) are checked against the servers by ``check_guests``."""
    server = c.pid()
    family = {server}
    helpers = set()
    for pidfile in (c.cloud.data_dir / "dataplane").rglob("*pid") if c.dataplane else ():
        try:
            helpers.add(int(pidfile.read_text().strip()))
        except (OSError, ValueError):
            pass
    procs = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmdline = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        procs[int(p.name)] = (ppid, cmdline)
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _) in procs.items():
            if ppid in family and pid not in family:
                family.add(pid)
                changed = True
    data_dir = str(c.cloud.data_dir)
    guests = set(_guests(c).values())
    # the container driver's helpers live apart from the server by design: check_containers judges them
    guests |= {pid for pids in _container_helpers(c).values() for pid in pids}
    for pid, (_, cmdline) in procs.items():
        if data_dir in cmdline and pid != os.getpid() and pid not in guests:
            c.report.checked["processes"] += 1
            if pid not in family and pid not in helpers:
                c.violation(f"process {pid} outlived its server: {cmdline[:200]}")


def check_database(c: ch.Chaos) -> None:
    with ch.db(c.cloud) as conn:
        result = conn.execute("pragma integrity_check").fetchall()
    c.report.checked["database integrity"] += 1
    if result != [("ok",)]:
        c.violation(f"database integrity_check: {result[:5]}")


def check_kernel(c: ch.Chaos) -> None:
    """With the data plane on: the cloud's namespaces are exactly a ``qdhcp-`` per network with a DHCP port
    and a ``qrouter-`` per router, and a dnsmasq runs for each such network, no other; its links and
    firewall chains are those of live rows (see ``_check_links`` and ``_check_firewall``)."""
    if not c.dataplane:
        return
    from onestack.drivers.netns import converge

    state = c.cloud.data_dir / "dataplane"
    owner = (state / "owner").read_text().strip()
    dhcp = {p["network_id"] for p in c.read(c.admin, "/network/v2.0/ports",
                                            params={"device_owner": "network:dhcp"}).json()["ports"]
            if p["fixed_ips"]}
    routers = {r["id"] for r in c.read(c.admin, "/network/v2.0/routers").json()["routers"]}
    want = {f"qdhcp-{n}" for n in dhcp} | {f"qrouter-{r}" for r in routers}
    # the agent converges within a tick or two of the last change
    for _ in range(30):
        found = converge.owned_objects(owner, state)
        if found["namespaces"] == want and found["dnsmasq"] == dhcp:
            break
        time.sleep(1)
    c.report.checked["namespaces"] += len(want | found["namespaces"])
    c.report.checked["dnsmasq processes"] += len(dhcp | found["dnsmasq"])
    for extra in sorted(found["namespaces"] - want):
        c.violation(f"namespace {extra}: no row wants it")
    for missing in sorted(want - found["namespaces"]):
        c.violation(f"namespace {missing} missing")
    for extra in sorted(found["dnsmasq"] - dhcp):
        c.violation(f"dnsmasq of network {extra}, which has no DHCP port")
    for missing in sorted(dhcp - found["dnsmasq"]):
        c.violation(f"no dnsmasq for network {missing}")
    _check_links(c, owner, state)
    _check_firewall(c, owner)
    check_firewall_rules(c, "after the last restart")


def check_firewall_rules(c: ch.Chaos, when: str, timeout: float = 90) -> None:
    """With real guests and the data plane: the rules of the guests' firewall chains and of the bridge table
    are exactly what the ports and security group rules the API shows call for (tests/hardening/
    firewall_rules.py).  The chaos run checks it after every restart too, with its clients held between two
    operations (``Chaos.killer``): the agent converges within a full pass or two of the last change, so a
    difference that lasts ``timeout`` is a violation."""
    if not (c.dataplane and c.guest_image is not None):
        return
    from tests.hardening import firewall_rules

    owner = (c.cloud.data_dir / "dataplane" / "owner").read_text().strip()
    deadline = time.monotonic() + timeout
    while True:
        c.up.wait()
        try:
            compared, found = firewall_rules.differences(c.admin, owner)
        except httpx.HTTPError:  # the server was killed again mid-read: the next restart checks
            return
        if not found or time.monotonic() > deadline:
            break
        time.sleep(1)
    c.report.checked["firewall rules"] += compared
    c.report.checked["firewall checks"] += 1
    for difference in found[:10]:
        c.violation(f"firewall {when}: {difference}")


def _owned_chains(owner: str) -> set[str]:
    """The cloud's iptables chains (IPv4 and IPv6 filter tables), without their ``os-<owner>-`` prefix; a
    FORWARD hook counts as the chain ``FORWARD``."""
    from onestack.drivers.netns import firewall

    p = firewall.prefix(owner)
    chains = set()
    for tool in ("iptables-save", "ip6tables-save"):
        saved = subprocess.run([tool, "-t", "filter"], capture_output=True, text=True, check=True).stdout
        chains |= {line[1 + len(p):].split()[0] for line in saved.splitlines() if line.startswith(f":{p}")}
        if any(line.split() == ["-A", "FORWARD", "-j", f"{p}fwd"] for line in saved.splitlines()):
            chains.add("FORWARD")
    return chains


def _check_links(c: ch.Chaos, owner: str, state: Path) -> None:
    """Every link the cloud marked as its own (root namespace) names a live object: a network's bridge
    (``brq<network[:11]>``) or VXLAN device (``vxlan-<vni>``), a port's veth or a guest's tap
    (``tap<port[:11]>``); and every DHCP and router port has its veth, every network they are on its
    bridge (and VXLAN device)."""
    from onestack.drivers.netns import converge

    nets = {n["id"]: n for n in c.read(c.admin, "/network/v2.0/networks").json()["networks"]}
    ports = c.read(c.admin, "/network/v2.0/ports").json()["ports"]
    routers = {r["id"] for r in c.read(c.admin, "/network/v2.0/routers").json()["routers"]}

    def network_links(net_id: str) -> set[str]:
        net = nets.get(net_id)
        if net is None:
            return set()
        vxlan = {f"vxlan-{net['provider:segmentation_id']}"} if net.get("provider:network_type") == "vxlan" else set()
        return {f"brq{net_id[:11]}"} | vxlan

    served = [p for p in ports if p["admin_state_up"] and (
        p["device_owner"] == "network:dhcp" and p["fixed_ips"]
        or p["device_owner"] in ("network:router_interface", "network:router_gateway") and p["device_id"] in routers)]
    required = {f"tap{p['id'][:11]}" for p in served} | {name for p in served for name in network_links(p["network_id"])}
    allowed = {f"tap{p['id'][:11]}" for p in ports} | {name for n in nets for name in network_links(n)}
    for _ in range(30):  # the agent converges within a tick or two of the last change
        links = converge.owned_objects(owner, state)["links"]
        if required <= links <= allowed:
            break
        time.sleep(1)
    c.report.checked["links"] += len(required | links)
    for extra in sorted(links - allowed):
        c.violation(f"link {extra}: no network or port of that name")
    for missing in sorted(required - links):
        c.violation(f"link {missing} missing")


def _check_firewall(c: ch.Chaos, owner: str) -> None:
    """The cloud's firewall chains are exactly its guests' ports': per port with port security its
    spoofing, egress and ingress chains (``s``/``o``/``i`` + ``port[:11]``), the shared ``fwd``, ``pass``
    and ``in`` chains and the FORWARD hook while any guest port is here, address-set chains (``r...``) only
    beside them; nothing at all without real guests (the fake driver's ports have no tap to filter)."""
    guests = [p for p in c.read(c.admin, "/network/v2.0/ports").json()["ports"]
              if c.guest_image is not None and p["device_owner"].startswith("compute:")
              and p.get("binding:host_id") and p["admin_state_up"]]
    want = {f"{kind}{p['id'][:11]}" for p in guests if p["port_security_enabled"] for kind in "soi"}
    if guests:
        want |= {"fwd", "pass", "in", "FORWARD"}
    for _ in range(30):
        chains = _owned_chains(owner)
        if {name for name in chains if not name.startswith("r")} == want and (guests or chains == set()):
            break
        time.sleep(1)
    c.report.checked["firewall chains"] += len(want | chains)
    for extra in sorted(chains - want):
        if not (extra.startswith("r") and guests):
            c.violation(f"firewall chain {extra}: no guest port wants it")
    for missing in sorted(want - chains):
        c.violation(f"firewall chain {missing} missing")
