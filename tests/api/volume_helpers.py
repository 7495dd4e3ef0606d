"""Clients and waiters for the Block Storage API tests: a Cinder client per project, and the files the
volumes and snapshots are."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import member_of_new_project, ok, wait


def cinder(cloud, token: str, project_id: str | None, version: str | None = "3.68") -> httpx.Client:
    """A client at /volume/v3/{project_id} (or project-less with None) speaking ``version``."""
    headers = {"X-Auth-Token": token}
    if version:
        headers["OpenStack-API-Version"] = f"volume {version}"
    base = f"{cloud.url}/volume/v3" + (f"/{project_id}" if project_id else "")
    return httpx.Client(base_url=base, headers=headers, timeout=60)


class Project:
    """A fresh project whose member (and admin, through the cloud's admin) makes volumes."""

    def __init__(self, cloud, admin: httpx.Client, role: str = "member"):
        self.cloud = cloud
        self.project, self.user, self.token = member_of_new_project(cloud, admin, role)
        self.id = self.project["id"]
        self.http = cinder(cloud, self.token, self.id)

    def volume(self, status: str = "available", **asked) -> dict:
        blank = not ({"snapshot_id", "source_volid"} & set(asked))
        created = ok(self.http.post("/volumes", json={"volume": {"size": 1, **asked} if blank else asked}),
                     202)["volume"]
        return self.wait(created["id"], status) if status else created

    def snapshot(self, volume_id: str, **asked) -> dict:
        created = ok(self.http.post("/snapshots", json={"snapshot": {"volume_id": volume_id, **asked}}),
                     202)["snapshot"]
        return self.wait_snapshot(created["id"], "available")

    def wait(self, volume_id: str, status: str) -> dict:
        def reached():
            volume = ok(self.http.get(f"/volumes/{volume_id}"))["volume"]
            assert not volume["status"].startswith("error"), volume
            return volume if volume["status"] == status else None
        return wait(reached, 30, f"volume {volume_id} {status}")

    def wait_snapshot(self, snapshot_id: str, status: str) -> dict:
        def reached():
            snapshot = ok(self.http.get(f"/snapshots/{snapshot_id}"))["snapshot"]
            return snapshot if snapshot["status"] == status else None
        return wait(reached, 30, f"snapshot {snapshot_id} {status}")

    def backup(self, volume_id: str, status: str = "available", **asked) -> dict:
        created = ok(self.http.post("/backups", json={"backup": {"volume_id": volume_id, **asked}}), 202)["backup"]
        return self.wait_backup(created["id"], status) if status else created

    def wait_backup(self, backup_id: str, status: str) -> dict:
        def reached():
            backup = ok(self.http.get(f"/backups/{backup_id}"))["backup"]
            assert backup["status"] != "error" or status == "error", backup
            return backup if backup["status"] == status else None
        return wait(reached, 60, f"backup {backup_id} {status}")

    def gone(self, path: str) -> None:
        wait(lambda: self.http.get(path).status_code == 404, 30, f"{path} gone")


def volume_file(cloud, volume_id: str) -> Path:
    return cloud.data_dir / "volumes" / f"volume-{volume_id}.qcow2"


def snapshot_file(cloud, snapshot_id: str) -> Path:
    return cloud.data_dir / "volumes" / f"snapshot-{snapshot_id}.qcow2"


def image_info(path: Path) -> dict:
    return json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], check=True,
                                     capture_output=True, text=True).stdout)


def read_at(path, offset: int, count: int) -> bytes:
    """What a volume's chain holds at ``offset``, read from the host (``-U``: a guest may have it open)."""
    out = subprocess.run(["qemu-io", "-r", "-U", "-f", "qcow2", "-c", f"read -v {offset} {count}", str(path)],
                         check=True, capture_output=True, text=True).stdout
    found = b""
    for line in out.splitlines():
        dumped = re.match(r"^[0-9a-f]{8}:\s+((?:[0-9a-f]{2} )+)", line)
        if dumped:
            found += bytes.fromhex(dumped.group(1))
    return found[:count]


def write_pattern(path: Path, byte: int, offset: int = 0) -> None:
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -P {byte} {offset} 64k", str(path)], check=True,
                   capture_output=True)


def holds_pattern(path: Path, byte: int, offset: int = 0) -> bool:
    out = subprocess.run(["qemu-io", "-r", "-U", "-f", "qcow2", "-c", f"read -P {byte} {offset} 64k", str(path)],
                         capture_output=True, text=True).stdout
    return "read 65536/65536" in out and "Pattern verification failed" not in out


@pytest.fixture
def storage(cloud, admin) -> Project:
    """A fresh project with a member, making volumes."""
    return Project(cloud, admin)


@pytest.fixture
def cinder_admin(cloud) -> httpx.Client:
    token = cloud.token()
    project_id = httpx.get(f"{cloud.auth_url}/v3/auth/tokens", headers={"X-Auth-Token": token,
                                                                         "X-Subject-Token": token}
                           ).json()["token"]["project"]["id"]
    with cinder(cloud, token, project_id) as http:
        yield http
