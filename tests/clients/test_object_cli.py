"""Object Storage through its real clients: python-swiftclient (library and `swift` CLI, segmented
uploads included) and `openstack container/object`."""

import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from swiftclient import client as swiftclient
from swiftclient.exceptions import ClientException

from tests.api.helpers import member_of_new_project


@pytest.fixture
def member(cloud, admin):
    project, user, _ = member_of_new_project(cloud, admin)
    return project, user


def env_for(cloud, project, user) -> dict:
    env = cloud.env
    env.update(OS_AUTH_URL=f"{cloud.auth_url}/v3", OS_USERNAME=user["name"], OS_PASSWORD="secret-pass-1",
               OS_PROJECT_NAME=project["name"], OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default",
               OS_IDENTITY_API_VERSION="3", OS_AUTH_VERSION="3")
    return env


def swift_cli(env: dict, *args: str, cwd: Path | None = None) -> str:
    exe = shutil.which("swift", path=str(Path(sys.executable).parent)) or "swift"
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert done.returncode == 0, f"swift {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def md5s(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_swiftclient_library_with_keystone_v3(cloud, member):
    project, user = member
    conn = swiftclient.Connection(authurl=f"{cloud.auth_url}/v3", user=user["name"], key="secret-pass-1",
                                  auth_version="3", os_options={"project_name": project["name"],
                                                                "user_domain_name": "Default",
                                                                "project_domain_name": "Default"})
    conn.put_container("lib", headers={"X-Container-Meta-Purpose": "test"})
    etag = conn.put_object("lib", "dir/a.txt", contents=b"alpha", content_type="text/plain")
    assert etag == hashlib.md5(b"alpha").hexdigest()
    conn.put_object("lib", "dir/b.txt", contents=b"beta")
    conn.put_object("lib", "top", contents=b"t")
    headers, body = conn.get_object("lib", "dir/a.txt")
    assert body == b"alpha" and headers["content-type"] == "text/plain"
    _, listing = conn.get_container("lib", delimiter="/")
    assert [e.get("name", e.get("subdir")) for e in listing] == ["dir/", "top"]
    account = conn.head_account()
    assert account["x-account-object-count"] == "3" and account["x-account-container-count"] == "1"
    assert conn.head_container("lib")["x-container-meta-purpose"] == "test"
    conn.delete_object("lib", "top")
    with pytest.raises(ClientException) as missing:
        conn.get_object("lib", "top")
    assert missing.value.http_status == 404
    url = conn.get_auth()[0]
    assert url == f"{cloud.url}/object-store/v1/AUTH_{project['id']}"


def test_swift_cli_upload_list_download_and_segments(cloud, member, tmp_path):
    env = env_for(cloud, *member)
    tree = tmp_path / "tree"
    for rel, size in (("a.txt", 10), ("sub/b.bin", 70_000), ("sub/deeper/c.bin", 5), ("empty", 0)):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(os.urandom(size))
    swift_cli(env, "upload", "backup", ".", cwd=tree)
    assert swift_cli(env, "list", "backup").split() == ["a.txt", "empty", "sub/b.bin", "sub/deeper/c.bin"]
    assert swift_cli(env, "list", "backup", "--delimiter", "/").split() == ["a.txt", "empty", "sub/"]
    (tree / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 11))
    swift_cli(env, "upload", "-S", "1048576", "backup", "big.bin", cwd=tree)
    assert len(swift_cli(env, "list", "backup_segments").split()) == 4
    out = tmp_path / "out"
    out.mkdir()
    swift_cli(env, "download", "backup", cwd=out)
    assert md5s(out) == md5s(tree)
    stat = swift_cli(env, "stat", "backup", "big.bin")
    assert "X-Static-Large-Object: True" in stat  # /info lists slo: swift uploads a static large object
    swift_cli(env, "delete", "backup", "big.bin")
    assert swift_cli(env, "list", "backup_segments") == ""


def test_symlinks_through_swiftclient(cloud, member, tmp_path):
    project, user = member
    conn = swiftclient.Connection(authurl=f"{cloud.auth_url}/v3", user=user["name"], key="secret-pass-1",
                                  auth_version="3", os_options={"project_name": project["name"],
                                                                "user_domain_name": "Default",
                                                                "project_domain_name": "Default"})
    conn.put_container("links")
    etag = conn.put_object("links", "data/report.csv", contents=b"a,b\n1,2\n", content_type="text/csv")
    conn.put_object("links", "latest", contents=b"", headers={"X-Symlink-Target": "links/data/report.csv"})
    conn.put_object("links", "pinned", contents=b"",
                    headers={"X-Symlink-Target": "links/data/report.csv", "X-Symlink-Target-Etag": etag})
    headers, body = conn.get_object("links", "latest")
    assert body == b"a,b\n1,2\n" and headers["content-location"].endswith("/links/data/report.csv")
    headers, body = conn.get_object("links", "pinned", query_string="symlink=get")
    assert body == b"" and headers["x-symlink-target-etag"] == etag and headers["content-type"] == "text/csv"
    _, listing = conn.get_container("links")
    paths = {e["name"]: e.get("symlink_path") for e in listing}
    assert paths["latest"] == paths["pinned"] == f"/v1/AUTH_{project['id']}/links/data/report.csv"
    # the swift CLI downloads what a link points at, its ETag checked against the target's
    out = tmp_path / "out"
    out.mkdir()
    swift_cli(env_for(cloud, project, user), "download", "links", "latest", cwd=out)
    assert (out / "latest").read_bytes() == b"a,b\n1,2\n"
    conn.put_object("links", "data/report.csv", contents=b"changed")
    with pytest.raises(ClientException) as stale:
        conn.get_object("links", "pinned")
    assert stale.value.http_status == 409


def test_versioned_container_through_the_swift_cli(cloud, member, tmp_path):
    env = env_for(cloud, *member)
    swift_cli(env, "post", "-H", "X-Versions-Enabled: true", "kept")
    for text in ("draft", "final"):
        (tmp_path / "doc.txt").write_text(text)
        swift_cli(env, "upload", "kept", "doc.txt", cwd=tmp_path)

    def listed() -> list[tuple[str, str, str]]:
        """(bytes, version id, name) of each line of ``swift list --long --versions``."""
        lines = swift_cli(env, "list", "--long", "--versions", "kept").splitlines()
        return [(f[0], f[3], f[-1]) for f in (line.split() for line in lines) if len(f) == 6]

    kept = listed()
    assert [(b, n) for b, _, n in kept] == [("5", "doc.txt"), ("5", "doc.txt")]
    stat = swift_cli(env, "stat", "kept", "doc.txt")
    assert f"X-Object-Version-Id: {kept[0][1]}" in stat  # the newest is current
    out = tmp_path / "out"
    out.mkdir()
    swift_cli(env, "download", "kept", "doc.txt", "--version-id", kept[1][1], "-o", str(out / "old.txt"))
    assert (out / "old.txt").read_text() == "draft"
    swift_cli(env, "delete", "kept", "doc.txt")  # leaves a delete marker
    assert swift_cli(env, "list", "kept") == ""
    assert [n for _, _, n in listed()] == ["doc.txt"] * 3
    swift_cli(env, "delete", "kept", "doc.txt", "--version-id", kept[1][1])
    assert [v for _, v, _ in listed()][1:] == [kept[0][1]]
    swift_cli(env, "delete", "--versions", "kept")  # every version, markers too, then the container
    assert "kept" not in swift_cli(env, "list")


def seeded_file(path: Path, mib: int, seed: int) -> str:
    """``mib`` MiB of seeded pseudo-random bytes (each MiB distinct) written to ``path``; their MD5."""
    block = random.Random(seed).randbytes(1 << 20)
    md5 = hashlib.md5()
    with path.open("wb") as fh:
        for i in range(mib):
            chunk = i.to_bytes(8, "big") + block[8:]
            md5.update(chunk)
            fh.write(chunk)
    return md5.hexdigest()


def md5_of(path: Path) -> str:
    md5 = hashlib.md5()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            md5.update(chunk)
    return md5.hexdigest()


def test_swift_uploads_200_mb_as_a_static_large_object(cloud, member, tmp_path):
    env = env_for(cloud, *member)
    source = tmp_path / "big"
    source.mkdir()
    expected = seeded_file(source / "200mb.bin", 200, seed=15)
    swift_cli(env, "upload", "-S", str(10 << 20), "large", "200mb.bin", cwd=source)
    assert len(swift_cli(env, "list", "large_segments").split()) == 20
    stat = swift_cli(env, "stat", "large", "200mb.bin")
    assert "X-Static-Large-Object: True" in stat and f"Content Length: {200 << 20}" in stat
    source.joinpath("200mb.bin").unlink()  # room for the download
    out = tmp_path / "out"
    out.mkdir()
    swift_cli(env, "download", "large", "200mb.bin", cwd=out)
    assert md5_of(out / "200mb.bin") == expected
    swift_cli(env, "delete", "large", "200mb.bin")
    assert swift_cli(env, "list", "large_segments") == ""


def test_openstack_container_and_object_commands(cloud, admin, tmp_path):
    def osc(*args):
        return cloud.openstack(*args, "-f", "json" if args[1] in ("list", "show", "create") else "value").stdout

    name = f"osc-{os.urandom(4).hex()}"
    osc("container", "create", name)
    assert name in osc("container", "list")
    data = tmp_path / "file.txt"
    data.write_bytes(b"hello from osc")
    osc("object", "create", name, str(data))
    assert str(data) in osc("object", "list", name)
    shown = osc("object", "show", name, str(data))
    assert hashlib.md5(b"hello from osc").hexdigest() in shown
    saved = tmp_path / "saved.txt"
    cloud.openstack("object", "save", name, str(data), "--file", str(saved))
    assert saved.read_bytes() == b"hello from osc"
    cloud.openstack("object", "delete", name, str(data))
    cloud.openstack("container", "delete", name)
    assert name not in osc("container", "list")
