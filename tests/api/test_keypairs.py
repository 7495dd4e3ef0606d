"""Compute keypairs over HTTP: generate and import, fingerprints, per-user ownership, microversions, quota."""

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.api.helpers import member_of_new_project, name, nova, nova_error, ok

SHOW_KEYS = {"name", "public_key", "fingerprint", "user_id", "deleted", "created_at", "updated_at", "deleted_at",
             "id"}


def ed25519_public() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " me@host"


def md5_fingerprint(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


@pytest.fixture
def user(cloud, admin):
    """A member of a fresh project: (its user record, a compute client at 2.1)."""
    _, record, token = member_of_new_project(cloud, admin)
    with nova(cloud, token) as c:
        c.token = token
        yield record, c


def test_generate_at_21(user):
    record, client = user
    kname = name("kp")
    created = ok(client.post("/os-keypairs", json={"keypair": {"name": kname}}))["keypair"]
    assert set(created) == {"name", "public_key", "fingerprint", "user_id", "private_key"}
    assert created["user_id"] == record["id"]
    assert created["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert created["public_key"].startswith("ssh-rsa ")
    private = serialization.load_pem_private_key(created["private_key"].encode(), None)
    assert private.key_size == 2048
    assert created["fingerprint"] == md5_fingerprint(created["public_key"])
    shown = ok(client.get(f"/os-keypairs/{kname}"))["keypair"]
    assert set(shown) == SHOW_KEYS and shown["deleted"] is False and isinstance(shown["id"], int)
    listed = ok(client.get("/os-keypairs"))["keypairs"]
    assert listed == [{"keypair": {"name": kname, "public_key": created["public_key"],
                                   "fingerprint": created["fingerprint"]}}]
    ok(client.delete(f"/os-keypairs/{kname}"), 202)
    nova_error(client.get(f"/os-keypairs/{kname}"), 404)
    nova_error(client.delete(f"/os-keypairs/{kname}"), 404)


def test_import_ed25519_at_22(cloud, user):
    _, client = user
    public = ed25519_public()
    with nova(cloud, client.token, "2.2") as c:
        resp = c.post("/os-keypairs", json={"keypair": {"name": name("kp"), "public_key": public}})
        created = ok(resp, 201)["keypair"]
        assert "private_key" not in created and created["type"] == "ssh"
        assert created["fingerprint"] == md5_fingerprint(public) and created["public_key"] == public
        assert ok(c.get("/os-keypairs"))["keypairs"][0]["keypair"]["type"] == "ssh"
        ok(c.delete(f"/os-keypairs/{created['name']}"), 204)


def test_x509_generated_and_imported(cloud, user):
    record, client = user
    with nova(cloud, client.token, "2.2") as c:
        made = ok(c.post("/os-keypairs", json={"keypair": {"name": name("kp"), "type": "x509"}}), 201)["keypair"]
        assert made["type"] == "x509" and "BEGIN CERTIFICATE" in made["public_key"] and made["private_key"]
        cert = x509.load_pem_x509_certificate(made["public_key"].encode())
        assert cert.subject.rfc4514_string() == f"CN={record['id']}"
        again = ok(c.post("/os-keypairs", json={"keypair": {"name": name("kp"), "type": "x509",
                                                            "public_key": made["public_key"]}}), 201)["keypair"]
        assert again["fingerprint"] == made["fingerprint"] and "private_key" not in again
        nova_error(c.post("/os-keypairs", json={"keypair": {"name": name("kp"), "type": "x509",
                                                            "public_key": ed25519_public()}}), 400)


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "k" * 256}, {"name": r"key_/.\@:"}, {"name": " lead"},
                                  {"name": "ok", "public_key": "ssh-rsa JUNK nova@ubuntu"},
                                  {"name": "ok", "public_key": " "},
                                  {"name": "ok", "public_key": "ssh-rsa " + "A" * 2048 + " openstack@ubuntu"},
                                  {"name": "ok", "type": "x509"},  # type is 2.2
                                  {"name": "ok", "colour": "red"}])
def test_bad_bodies_are_400(user, body):
    _, client = user
    assert nova_error(client.post("/os-keypairs", json={"keypair": body}), 400)


@pytest.mark.parametrize("version", ["2.2", "2.10", "2.92"])
@pytest.mark.parametrize("kind", ["rsa", "SSH", "", 5])
def test_an_unknown_type_is_400(cloud, user, version, kind):
    """Nova's schema takes ``ssh`` and ``x509`` only; nothing is made."""
    _, client = user
    kname = name("kp")
    with nova(cloud, client.token, version) as c:
        body = {"name": kname, "type": kind, "public_key": ed25519_public()}
        assert nova_error(c.post("/os-keypairs", json={"keypair": body}), 400)
        nova_error(c.get(f"/os-keypairs/{kname}"), 404)


def test_duplicate_name_is_409(user):
    _, client = user
    kname = name("kp")
    ok(client.post("/os-keypairs", json={"keypair": {"name": kname, "public_key": ed25519_public()}}))
    msg = nova_error(client.post("/os-keypairs", json={"keypair": {"name": kname}}), 409)
    assert msg == f"Key pair '{kname}' already exists."


def test_keypairs_belong_to_their_user(cloud, admin, user):
    record, client = user
    kname = name("kp")
    ok(client.post("/os-keypairs", json={"keypair": {"name": kname, "public_key": ed25519_public()}}))
    _, _, other_token = member_of_new_project(cloud, admin)
    with nova(cloud, other_token, "2.10") as other:
        assert ok(other.get("/os-keypairs"))["keypairs"] == []
        nova_error(other.get(f"/os-keypairs/{kname}"), 404)
        # naming another user is for admins only
        nova_error(other.get("/os-keypairs", params={"user_id": record["id"]}), 403)
        nova_error(other.delete(f"/os-keypairs/{kname}", params={"user_id": record["id"]}), 403)
    with nova(cloud, version="2.10") as admin_nova:
        listed = ok(admin_nova.get("/os-keypairs", params={"user_id": record["id"]}))["keypairs"]
        assert [k["keypair"]["name"] for k in listed] == [kname]
        made = ok(admin_nova.post("/os-keypairs", json={"keypair": {"name": name("kp"), "user_id": record["id"]}}),
                  201)["keypair"]
        assert made["user_id"] == record["id"]
        assert ok(admin_nova.get(f"/os-keypairs/{made['name']}", params={"user_id": record["id"]}))["keypair"][
            "user_id"] == record["id"]
    # the user sees the keypair an admin made for it
    assert made["name"] in [k["keypair"]["name"] for k in ok(client.get("/os-keypairs"))["keypairs"]]
    # before 2.10 user_id is not part of the body
    nova_error(client.post("/os-keypairs", json={"keypair": {"name": "x", "user_id": record["id"]}}), 400)


def test_pagination_from_235(cloud, user):
    _, client = user
    names = sorted(name("kp") for _ in range(3))
    for kname in names:
        ok(client.post("/os-keypairs", json={"keypair": {"name": kname, "public_key": ed25519_public()}}))
    assert len(ok(client.get("/os-keypairs", params={"limit": 1}))["keypairs"]) == 3  # ignored before 2.35
    with nova(cloud, client.token, "2.35") as c:
        first = ok(c.get("/os-keypairs", params={"limit": 2}))
        assert [k["keypair"]["name"] for k in first["keypairs"]] == names[:2]
        assert f"marker={names[1]}" in first["keypairs_links"][0]["href"]
        rest = ok(c.get("/os-keypairs", params={"limit": 2, "marker": names[1]}))
        assert [k["keypair"]["name"] for k in rest["keypairs"]] == names[2:] and "keypairs_links" not in rest
        nova_error(c.get("/os-keypairs", params={"marker": "nope"}), 400)


def test_import_only_from_292(cloud, user):
    _, client = user
    with nova(cloud, client.token, "2.92") as c:
        nova_error(c.post("/os-keypairs", json={"keypair": {"name": name("kp")}}), 400)
        made = ok(c.post("/os-keypairs", json={"keypair": {"name": "me@host.example", "public_key": ed25519_public()}}),
                  201)["keypair"]
        assert made["name"] == "me@host.example" and "private_key" not in made
    nova_error(client.post("/os-keypairs", json={"keypair": {"name": "a@b"}}), 400)  # '@' only from 2.92


def test_keypair_quota(cloud, admin, user):
    record, client = user
    with nova(cloud) as admin_nova:
        projects = ok(admin.get(f"/users/{record['id']}/projects"))["projects"]
        ok(admin_nova.put(f"/os-quota-sets/{projects[0]['id']}", json={"quota_set": {"key_pairs": 1}}))
    ok(client.post("/os-keypairs", json={"keypair": {"name": name("kp"), "public_key": ed25519_public()}}))
    msg = nova_error(client.post("/os-keypairs", json={"keypair": {"name": name("kp"),
                                                                  "public_key": ed25519_public()}}), 403)
    assert msg == "Quota exceeded, too many key pairs."
