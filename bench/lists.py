"""List pages as the cloud grows: the first 100-item page, and a page half-way in (marker paging), of
servers/detail, ports, networks, images and volumes/detail with 1,000, 10,000 and 100,000 rows in one
project, and the SQL statements each page costs.

The rows are made fast, not through 100,000 API calls: one of each is made through the API, then its
database row is copied N times in one transaction with new ids, names, MACs and creation times, so every
row is what the API would have written (the dependent rows -- fixed IPs, block devices -- are not copied;
the seeds have none: a port on a network without subnets, a server with ``networks: none``)."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
import uuid
from datetime import timedelta

import sqlalchemy as sa

from bench.compute import NOVA, Client, _token
from bench.targets import Onestack

SIZES = (1000, 10000, 100000)
VOLUME = {"OpenStack-API-Version": "volume 3.67"}


def _mac(i: int) -> str:
    """The i-th MAC: distinct per copy (random ones would collide by 100,000); the seed's is random."""
    return "fa:16:3f:" + ":".join(f"{(i >> shift) & 0xff:02x}" for shift in (16, 8, 0))


def _clone(engine, table_name: str, seed_id: str, count: int, start: int) -> str:
    """Copy the seed row ``count`` times (rows start..start+count-1); the id of the middle copy."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        seed = dict(conn.execute(sa.select(table).where(table.c.id == seed_id)).mappings().one())
        rows, middle = [], None
        # a server's ``number`` (its instance-NNNNNNNN name) is unique: carry on after the highest
        next_number = (conn.execute(sa.select(sa.func.max(table.c.number))).scalar() + 1
                       if "number" in table.c else None)
        for i in range(start, start + count):
            row = dict(seed, id=str(uuid.uuid4()))
            if "name" in row:
                row["name"] = f"{seed['name']}-{i}"
            if "display_name" in row:
                row["display_name"] = f"{seed['display_name']}-{i}"
            if next_number is not None:
                row["number"], next_number = next_number, next_number + 1
                # stopped: the fake driver holds no guest for a copy, and the reconciler would otherwise
                # rewrite every copy from ACTIVE to SHUTOFF while the pages are measured
                row["vm_state"], row["power_state"] = "stopped", 4
            if "mac_address" in row:
                row["mac_address"] = _mac(i)
            for stamp in ("created_at", "updated_at"):
                if row.get(stamp) is not None:
                    row[stamp] = seed[stamp] - timedelta(seconds=i + 1)  # older than the seed, one apart
            rows.append(row)
            if i == start + count // 2:
                middle = row["id"]
            if len(rows) == 5000:
                conn.execute(table.insert(), rows)
                rows = []
        if rows:
            conn.execute(table.insert(), rows)
    return middle


def _page(base: str, token: str, path: str, headers: dict, times: int) -> dict:
    url = f"{base}{path}"
    took = []
    for _ in range(times):
        req = urllib.request.Request(url, headers={"X-Auth-Token": token, **headers})
        started = time.perf_counter()
        with urllib.request.urlopen(req, timeout=120) as resp:
            body = json.loads(resp.read())
        took.append((time.perf_counter() - started) * 1000)
    items = next(v for v in body.values() if isinstance(v, list))
    assert len(items) == 100, f"{path}: {len(items)} items"
    took.sort()
    return {"p50_ms": round(statistics.median(took), 1), "p95_ms": round(took[int(len(took) * 0.95) - 1], 1)}


def measure(quick: bool) -> dict:
    target = Onestack({"compute": {"driver": "fake", "fake_hosts": 2}, "network": {"quotas": {"port": -1}}},
                      name="onestack-lists")
    target.start()
    try:
        token = _token(target)
        api = Client(target.base, token)
        project = api.call("GET", "/identity/v3/auth/tokens", headers={"X-Subject-Token": token})["token"]["project"]["id"]
        net = api.call("POST", "/network/v2.0/networks", {"network": {"name": "n"}})["network"]["id"]
        port = api.call("POST", "/network/v2.0/ports", {"port": {"network_id": net, "name": "p"}})["port"]["id"]
        image = api.call("POST", "/image/v2/images", {"name": "i", "disk_format": "raw",
                                                      "container_format": "bare"})["id"]
        req = urllib.request.Request(f"{target.base}/image/v2/images/{image}/file", data=b"\0" * 4096, method="PUT",
                                     headers={"X-Auth-Token": token, "Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req, timeout=30).read()
        server = api.call("POST", "/compute/v2.1/servers", {"server": {"name": "s", "imageRef": image,
                          "flavorRef": "42", "networks": "none"}}, NOVA)["server"]["id"]
        volume = api.call("POST", f"/volume/v3/{project}/volumes", {"volume": {"size": 1, "name": "v"}},
                          VOLUME)["volume"]["id"]
        for path, key, headers, status in ((f"/compute/v2.1/servers/{server}", "server", NOVA, "ACTIVE"),
                                           (f"/volume/v3/{project}/volumes/{volume}", "volume", VOLUME, "available")):
            while api.call("GET", path, headers=headers)[key]["status"] != status:
                time.sleep(0.05)
        lists = {"servers_detail": ("compute_instance", server, "/compute/v2.1/servers/detail?limit=100", NOVA),
                 "ports": ("network_port", port, "/network/v2.0/ports?limit=100", {}),
                 "networks": ("network_network", net, "/network/v2.0/networks?limit=100", {}),
                 "images": ("image_image", image, "/image/v2/images?limit=100", {}),
                 "volumes_detail": ("volume", volume, f"/volume/v3/{project}/volumes/detail?limit=100", VOLUME)}
        engine = sa.create_engine(f"sqlite:///{target.data_dir / 'onestack.db'}")
        result: dict = {"backend": "sqlite", "page": 100, "sizes": {}}
        have = 1
        for size in SIZES[:2] if quick else SIZES:
            fill_started = time.perf_counter()
            middles = {name: _clone(engine, table, seed, size - have, have)
                       for name, (table, seed, _, _) in lists.items()}
            with engine.connect() as conn:  # Neutron's lists run in id order: the middle id, not the middle copy
                for name in ("ports", "networks"):
                    middles[name] = conn.execute(sa.text(f"SELECT id FROM {lists[name][0]} ORDER BY id "
                                                         f"LIMIT 1 OFFSET {size // 2}")).scalar()
            at: dict = {"fill_seconds": round(time.perf_counter() - fill_started, 1)}
            have = size
            for name, (_, _, path, headers) in lists.items():
                _page(target.base, token, path, headers, 3)  # warm-up
                at[name] = {"first": _page(target.base, token, path, headers, 10 if quick else 20),
                            "deep": _page(target.base, token, f"{path}&marker={middles[name]}", headers,
                                          10 if quick else 20)}
            result["sizes"][str(size)] = at
            print(table(result), flush=True)
        return result
    finally:
        target.stop()


def table(found: dict) -> str:
    sizes = list(found["sizes"])
    lines = [f"{'100-item page p50 / p95 (ms)':34}" + "".join(f"{s:>22}" for s in sizes)]
    for name in ("servers_detail", "ports", "networks", "images", "volumes_detail"):
        for where in ("first", "deep"):
            cells = [found["sizes"][s][name][where] for s in sizes]
            lines.append(f"{name + ', ' + where:34}" + "".join(f"{c['p50_ms']:>13} / {c['p95_ms']:<6}" for c in cells))
    return "\n".join(lines)
