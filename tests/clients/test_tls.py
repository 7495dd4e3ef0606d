"""``onestack up --tls``: HTTPS with a certificate of the cloud's own CA, which the written clouds.yaml and
openrc point the openstack CLI and openstacksdk at; plain HTTP gets no answer; the console websocket is wss
on the same port; the metadata service keeps its Unix socket; the CA outlives a restart."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import stat
import time

import httpx
import openstack
import pytest
import websockets.sync.client
import yaml
from openstack.config import OpenStackConfig
from websockets.exceptions import InvalidStatus

from tests.cloudfixture import Cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    cloud = Cloud(tmp_path_factory.mktemp("tls")).start("--tls")
    yield cloud
    cloud.stop()


def handshake(port: int, server_hostname: str, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname=server_hostname)


def test_the_certificate_verifies_against_the_ca_and_the_keys_are_private(cloud):
    context = ssl.create_default_context(cafile=str(cloud.ca))
    for name in ("127.0.0.1", "localhost", "::1", socket.gethostname()):
        with handshake(cloud.port, name, context) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with pytest.raises(ssl.SSLCertVerificationError), handshake(cloud.port, "elsewhere.example", context):
        pass
    # the public CAs alone do not vouch for it: only a client given the CA trusts it
    with pytest.raises(ssl.SSLCertVerificationError), handshake(cloud.port, "localhost", ssl.create_default_context()):
        pass
    tls_dir = cloud.data_dir / "tls"
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tls_dir / key).stat().st_mode) == 0o600, key


def test_plain_http_gets_no_answer(cloud):
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{cloud.port}/identity/v3", timeout=5)


def test_written_files_and_the_catalog_name_https_and_the_ca(cloud):
    for name, entry in cloud.clouds.items():
        assert entry["cacert"] == str(cloud.ca), name
        assert entry["auth"]["auth_url"] == f"https://127.0.0.1:{cloud.port}/identity", name
    for openrc in ("openrc-admin", "openrc-demo"):
        text = (cloud.data_dir / openrc).read_text()
        assert f"export OS_CACERT={cloud.ca}\n" in text and f"OS_AUTH_URL={cloud.auth_url}\n" in text
    reply = cloud.issue()
    assert reply.status_code == 201
    urls = [e["url"] for s in reply.json()["token"]["catalog"] for e in s["endpoints"]]
    assert len(urls) >= 9 and all(url.startswith(f"https://127.0.0.1:{cloud.port}/") for url in urls)


def test_openstack_cli_and_sdk_use_the_written_clouds_yaml(cloud, tmp_path):
    issued = cloud.openstack("token", "issue", "-f", "yaml")
    assert yaml.safe_load(issued.stdout)["project_id"]
    assert cloud.openstack("server", "list", "-f", "json").stdout.strip() == "[]"
    disk = tmp_path / "disk.raw"
    disk.write_bytes(os.urandom(256 * 1024))
    created = cloud.openstack("image", "create", "--file", str(disk), "--disk-format", "raw",
                              "--container-format", "bare", "tls-cli", "-f", "yaml")
    assert yaml.safe_load(created.stdout)["status"] == "active"

    # openstacksdk, configured by the same file: its entry's cacert is all it is told about the CA
    region = OpenStackConfig(config_files=[str(cloud.data_dir / "clouds.yaml")]).get_one(cloud="onestack")
    conn = openstack.connection.Connection(config=region)
    try:
        data = os.urandom(128 * 1024)
        image = conn.image.create_image(name="tls-sdk", data=data, disk_format="raw", container_format="bare",
                                        visibility="private")
        assert conn.image.get_image(image.id).status == "active"
        assert b"".join(conn.image.download_image(image, stream=True).iter_content(65536)) == data
        assert hashlib.md5(data).hexdigest() == conn.image.get_image(image.id).checksum  # noqa: S324 - Glance's
        assert list(conn.compute.servers()) == []
        assert conn.session.verify == str(cloud.ca)
    finally:
        conn.close()


def test_the_console_websocket_is_wss_on_the_same_port(cloud):
    """No fake guest has a console; an unknown token is refused in the handshake, over TLS."""
    context = ssl.create_default_context(cafile=str(cloud.ca))
    with pytest.raises(InvalidStatus) as refused:
        websockets.sync.client.connect(f"wss://127.0.0.1:{cloud.port}/console/websocket?token=unknown",
                                       ssl=context, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_the_metadata_service_keeps_its_unix_socket(cloud):
    """Guests reach it through their network's proxy on DATA_DIR/metadata.sock, never the API port."""
    transport = httpx.HTTPTransport(uds=str(cloud.data_dir / "metadata.sock"))
    with httpx.Client(transport=transport, base_url="http://metadata", timeout=10) as client:
        reply = client.get("/openstack")  # the proxy's headers are missing: refused, but answered
    assert reply.status_code == 400 and "header is missing" in reply.text, reply.text


def test_the_ca_outlives_a_restart_and_a_new_name_renews_only_the_server_certificate(cloud):
    tls_dir = cloud.data_dir / "tls"
    before = {name: (tls_dir / name).read_bytes() for name in ("ca.pem", "ca.key", "server.pem", "server.key")}
    token = cloud.token()
    cloud.stop()
    settings = yaml.safe_load((cloud.data_dir / "onestack.yaml").read_text())
    assert settings["tls"]["enabled"] is True  # kept by `up`: a plain restart serves HTTPS again
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    assert {name: (tls_dir / name).read_bytes() for name in before} == before
    got = httpx.get(f"{cloud.auth_url}/v3/auth/tokens", verify=cloud.verify,
                    headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert got.status_code == 200

    cloud.stop()
    settings["tls"]["names"] = ["cloud.example"]
    (cloud.data_dir / "onestack.yaml").write_text(yaml.safe_dump(settings))
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")
    assert (tls_dir / "ca.pem").read_bytes() == before["ca.pem"]
    assert (tls_dir / "server.pem").read_bytes() != before["server.pem"]
    with handshake(cloud.port, "cloud.example", ssl.create_default_context(cafile=str(cloud.ca))) as tls:
        assert tls.getpeercert()["subjectAltName"][:1] == (("IP Address", "127.0.0.1"),)


def test_the_dashboard_signs_in_through_the_clouds_https(cloud):
    """The dashboard calls Keystone at the cloud's https URL, trusting its CA (the process's trust bundle)."""
    pid = int((cloud.data_dir / "onestack.pid").read_text())
    with httpx.Client(base_url=f"{cloud.url}/dashboard", verify=cloud.verify, timeout=30) as browser:
        page = browser.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = browser.post("/login", data={"username": "demo", "password": cloud.password("onestack"),
                                              "csrf_token": csrf, "domain": "Default"})
        assert signed.status_code == 303, signed.text
        # over TLS the session cookie is Secure, as well as HttpOnly and SameSite
        (session,) = [c for c in signed.headers.get_list("set-cookie") if c.startswith("onestack_dashboard=")]
        assert {"secure", "httponly", "samesite=lax"} <= {part.strip().lower() for part in session.split(";")}
        assert browser.get("/").status_code == 200
    # The dashboard's own connection to the API stays open, idle: `down` still ends the server gracefully,
    # not by the SIGKILL it sends one that has not stopped in 15 s.
    cloud.stop()
    assert cloud.data_dir.joinpath("onestack.log").read_text().rstrip().endswith("Finished server process "
                                                                                 f"[{pid}]")
    cloud.onestack("up", "--bind", f"127.0.0.1:{cloud.port}", "--detach", "--no-user-clouds")


def test_orchestration_calls_the_other_services_over_the_clouds_https(cloud):
    """The engine makes a stack's resources through the catalog's https URLs, trusting the cloud's CA."""
    reply = cloud.issue()
    token, project = reply.headers["X-Subject-Token"], reply.json()["token"]["project"]["id"]
    template = {"heat_template_version": "2018-08-31", "resources": {"net": {"type": "OS::Neutron::Net"}}}
    with httpx.Client(base_url=f"{cloud.url}/orchestration/v1/{project}", verify=cloud.verify, timeout=30,
                      headers={"X-Auth-Token": token}) as heat:
        created = heat.post("/stacks", json={"stack_name": "over-tls", "template": yaml.safe_dump(template)})
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 60
        while (stack := heat.get(f"/stacks/over-tls/{created.json()['stack']['id']}").json()["stack"])[
                "stack_status"].endswith("IN_PROGRESS") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
