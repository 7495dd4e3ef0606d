"""Tenants are walls (keystoneauth's rules), ACLs grant exactly what they say, hostile names bounce."""

import os
import socket

import httpx

from tests.api.helpers import grant, make_user, role_id
from tests.api.object_helpers import account, client


def test_another_projects_member_can_do_nothing(cloud, admin, swift):
    c = swift.container()
    swift.put(f"/{c}/secret", b"mine")
    other = account(cloud, admin)
    intruder = client(cloud, swift.name, other.token)
    assert intruder.get("").status_code == 403
    assert intruder.head("").status_code == 403
    assert intruder.get(f"/{c}").status_code == 403
    assert intruder.get(f"/{c}/secret").status_code == 403
    assert intruder.put(f"/{c}/planted", content=b"x").status_code == 403
    assert intruder.delete(f"/{c}/secret").status_code == 403
    assert intruder.put(f"/{c}-theirs").status_code == 403
    assert intruder.post("", headers={"X-Account-Meta-X": "1"}).status_code == 403
    assert intruder.put(f"/{c}/copy", content=b"", headers={"X-Copy-From": f"{c}/secret"}).status_code == 403
    # nor copy out of it into their own account
    own = other.container()
    stolen = other.http.put(f"/{own}/loot", content=b"", headers={"X-Copy-From": f"{c}/secret",
                                                                    "X-Copy-From-Account": swift.name})
    assert stolen.status_code == 403
    assert swift.http.get(f"/{c}").text.splitlines() == ["secret"]
    anonymous = client(cloud, swift.name, None)
    assert anonymous.get(f"/{c}/secret").status_code == 401
    assert anonymous.get(f"/{c}/secret", headers={"X-Auth-Token": "garbage"}).status_code == 401


def test_reader_reads_but_does_not_write(cloud, admin, swift):
    c = swift.container()
    swift.put(f"/{c}/o", b"data")
    user = make_user(admin)
    grant(admin, swift.project["id"], user["id"], "reader")
    reader = client(cloud, swift.name, cloud.token(user["name"], "secret-pass-1", swift.project["name"]))
    assert reader.get("").status_code == 200
    assert reader.get(f"/{c}/o").content == b"data"
    assert reader.put(f"/{c}/o", content=b"x").status_code == 403
    assert reader.delete(f"/{c}/o").status_code == 403
    assert reader.put(f"/{c}2").status_code == 403
    assert reader.post(f"/{c}", headers={"X-Container-Read": ".r:*"}).status_code == 403


def test_reseller_admin_reaches_every_account(cloud, admin, swift):
    c = swift.container()
    other = account(cloud, admin)
    ok = admin.put(f"/projects/{other.project['id']}/users/{other.user['id']}/roles/"
                   f"{role_id(admin, 'ResellerAdmin')}")
    assert ok.status_code == 204
    reseller = client(cloud, swift.name, cloud.token(other.user["name"], "secret-pass-1", other.project["name"]))
    assert reseller.put(f"/{c}/by-reseller", content=b"x").status_code == 201
    assert reseller.get(f"/{c}").text.splitlines() == ["by-reseller"]


def test_public_read_acl_and_listings(cloud, swift):
    c = swift.container()
    swift.put(f"/{c}/page", b"public")
    anonymous = client(cloud, swift.name, None)
    assert anonymous.get(f"/{c}/page").status_code == 401
    assert swift.http.post(f"/{c}", headers={"X-Container-Read": ".r:*"}).status_code == 204
    assert anonymous.get(f"/{c}/page").content == b"public"
    assert anonymous.get(f"/{c}").status_code == 401  # no listing without .rlistings
    assert anonymous.put(f"/{c}/x", content=b"x").status_code == 401
    swift.http.post(f"/{c}", headers={"X-Container-Read": ".r:*,.rlistings"})
    listing = anonymous.get(f"/{c}")
    assert listing.text.splitlines() == ["page"] and "X-Container-Read" not in listing.headers
    swift.http.post(f"/{c}", headers={"X-Container-Read": ".r:.example.com,.r:-bad.example.com"})
    assert anonymous.get(f"/{c}/page", headers={"Referer": "http://www.example.com/x"}).status_code == 200
    assert anonymous.get(f"/{c}/page", headers={"Referer": "http://bad.example.com/x"}).status_code == 401
    assert anonymous.get(f"/{c}/page").status_code == 401


def test_user_acls_grant_exactly_read_or_write(cloud, admin, swift):
    c = swift.container()
    swift.put(f"/{c}/o", b"data")
    other = account(cloud, admin)
    them = client(cloud, swift.name, other.token)
    swift.http.post(f"/{c}", headers={"X-Container-Read": f"{other.project['id']}:{other.user['id']}"})
    assert them.get(f"/{c}/o").content == b"data"
    assert them.get(f"/{c}").text.splitlines() == ["o"]
    assert them.put(f"/{c}/w", content=b"x").status_code == 403
    swift.http.post(f"/{c}", headers={"X-Remove-Container-Read": "x",
                                      "X-Container-Write": f"{other.project['id']}:*"})
    assert them.get(f"/{c}/o").status_code == 403
    assert them.put(f"/{c}/w", content=b"x").status_code == 201
    assert them.delete(f"/{c}/o").status_code == 204
    assert them.post(f"/{c}", headers={"X-Container-Meta-A": "1"}).status_code == 403  # the container is not theirs
    assert them.delete(f"/{c}").status_code == 403


def raw_request(cloud, method: str, path: bytes, token: str, body: bytes = b"") -> int:
    """A request whose path goes on the wire exactly as given (clients normalise dot segments)."""
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=30) as sock:
        sock.sendall(method.encode() + b" " + path + b" HTTP/1.1\r\nHost: x\r\nX-Auth-Token: " + token.encode()
                     + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        return int(sock.recv(64).split(b" ")[1])


def test_hostile_names(cloud, swift):
    c = swift.container()
    store = cloud.data_dir / "objects"
    before = set(os.listdir(cloud.data_dir))
    base = f"/object-store/v1/{swift.name}/{c}/".encode()
    assert raw_request(cloud, "PUT", base + b"../../../../etc/evil", swift.token, b"x") == 201
    assert raw_request(cloud, "PUT", base + b"%2e%2e%2f%2e%2e%2fescape", swift.token, b"x") == 201
    assert raw_request(cloud, "PUT", base + b"nul%00byte", swift.token, b"x") == 412
    assert raw_request(cloud, "PUT", base + b"bad%ffutf8", swift.token, b"x") == 412
    assert swift.http.put(f"/{c}/" + "n" * 1025, content=b"x").status_code == 400
    assert swift.http.put("/" + "c" * 257).status_code == 400
    huge = swift.http.put(f"/{c}/h", content=b"x", headers={"X-Object-Meta-H": "v" * 9000})
    assert huge.status_code == 400
    names = swift.http.get(f"/{c}").text.splitlines()
    assert sorted(names) == sorted(["../../../../etc/evil", "../../escape"])
    assert set(os.listdir(cloud.data_dir)) == before
    for path in store.rglob("*"):
        assert path.resolve().is_relative_to(store.resolve())
        assert "evil" not in path.name and "escape" not in path.name
    weird = httpx.get(f"{cloud.url}/object-store/v1/{swift.name}/{c}/..%2f..%2fescape",
                      headers={"X-Auth-Token": swift.token})
    assert weird.status_code == 200 and weird.content == b"x"
