"""No secret reaches a log: a cloud logging at debug level is given passwords, tokens, an application
credential's secret, a TempURL key, an EC2 credential's secret and requests signed with them (S3 headers and
presigned query strings, TempURL signatures); then every log file under its data dir, its captured output
among them, is searched for each of those exact values."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from swiftclient.utils import generate_temp_url

from tests.api.helpers import grant, ok
from tests.api.s3_helpers import s3_client
from tests.api.test_image_import import only_task, start_import, wait_for
from tests.cloudfixture import Cloud


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    cloud = Cloud(tmp_path_factory.mktemp("secrets"), settings={"log_level": "debug"}).start()
    yield cloud
    cloud.stop()


def token_of(reply: httpx.Response) -> str:
    assert reply.status_code == 201, reply.text
    return reply.headers["X-Subject-Token"]


def logs(cloud) -> dict[str, str]:
    """Every log under the data dir: the server's captured stdout and stderr (onestack.log) and any other."""
    found = {str(path): path.read_text(errors="replace") for path in cloud.data_dir.rglob("*.log")}
    assert str(cloud.data_dir / "onestack.log") in found
    return found


def test_no_secret_reaches_a_log(cloud):
    secrets: dict[str, str] = {}
    admin_token = cloud.token()
    secrets["admin token"] = admin_token
    secrets["admin password"] = cloud.password()
    identity = cloud.client(admin_token)

    # passwords: a user's first, a wrong one, the one it changes to
    first, wrong, second = "first-Pa55word-7f3a", "wrong-Pa55word-91bc", "second-Pa55word-c0de"
    secrets.update({"first password": first, "wrong password": wrong, "second password": second})
    project = ok(identity.post("/projects", json={"project": {"name": "leaky"}}), 201)["project"]
    user = ok(identity.post("/users", json={"user": {"name": "leaky", "password": first,
                                                      "default_project_id": project["id"]}}), 201)["user"]
    grant(identity, project["id"], user["id"], "member")
    assert cloud.issue("leaky", wrong, "leaky").status_code == 401
    secrets["user token"] = user_token = token_of(cloud.issue("leaky", first, "leaky"))
    own = cloud.client(user_token)
    assert own.post(f"/users/{user['id']}/password", json={"user": {"original_password": first,
                                                                     "password": second}}).status_code == 204
    secrets["user token"] = user_token = token_of(cloud.issue("leaky", second, "leaky"))
    own = cloud.client(user_token)
    assert own.get("/auth/tokens", headers={"X-Subject-Token": user_token}).status_code == 200

    # an application credential's secret, given and generated, and the tokens it gets
    given = "appcred-Secret-5e1f-given"
    secrets["application credential secret"] = given
    made = ok(own.post(f"/users/{user['id']}/application_credentials",
                       json={"application_credential": {"name": "ac", "secret": given}}), 201)
    generated = ok(own.post(f"/users/{user['id']}/application_credentials",
                            json={"application_credential": {"name": "ac2"}}), 201)["application_credential"]
    secrets["generated application credential secret"] = generated["secret"]
    for ident, secret in ((made["application_credential"]["id"], given), (generated["id"], generated["secret"])):
        body = {"auth": {"identity": {"methods": ["application_credential"],
                                      "application_credential": {"id": ident, "secret": secret}}}}
        reply = httpx.post(f"{cloud.auth_url}/v3/auth/tokens", json=body, timeout=30)
        secrets[f"application credential token {ident}"] = token_of(reply)

    # an EC2 credential's secret, used by S3 requests signed in headers and in a presigned URL
    ec2 = ok(own.post(f"/users/{user['id']}/credentials/OS-EC2", json={"tenant_id": project["id"]}), 201)
    access, secret = ec2["credential"]["access"], ec2["credential"]["secret"]
    secrets["EC2 secret"] = secret
    listed = ok(identity.get("/credentials"))["credentials"]
    assert any(secret in c["blob"] for c in listed)  # the API gives it back to its owner's admin: logs must not
    s3 = s3_client(cloud, access, secret)
    s3.create_bucket(Bucket="leaky")
    s3.put_object(Bucket="leaky", Key="k", Body=b"payload")
    assert s3.get_object(Bucket="leaky", Key="k")["Body"].read() == b"payload"
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "leaky", "Key": "k"}, ExpiresIn=300)
    assert httpx.get(presigned, timeout=30).content == b"payload"
    secrets["S3 presigned signature"] = parse_qs(urlsplit(presigned).query)["X-Amz-Signature"][0]
    v2 = s3_client(cloud, access, secret, signature="s3")
    v2_url = v2.generate_presigned_url("get_object", Params={"Bucket": "leaky", "Key": "k"}, ExpiresIn=300)
    assert httpx.get(v2_url, timeout=30).content == b"payload"
    secrets["S3 v2 presigned signature"] = parse_qs(urlsplit(v2_url).query)["Signature"][0]

    # a TempURL key and the signatures made with it
    key = "tempurl-Key-3b9d-8a7c"
    secrets["TempURL key"] = key
    account = f"/object-store/v1/AUTH_{project['id']}"
    swift = httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": user_token}, timeout=30)
    assert swift.post(account, headers={"X-Account-Meta-Temp-URL-Key": key}).status_code == 204
    assert swift.put(f"{account}/c").status_code == 201
    assert swift.put(f"{account}/c/o", content=b"object").status_code == 201
    signed = generate_temp_url(f"/v1/AUTH_{project['id']}/c/o", int(time.time()) + 300, key, "GET")
    query = parse_qs(urlsplit(signed).query)
    secrets["TempURL signature"] = query["temp_url_sig"][0]
    got = httpx.get(f"{cloud.url}/object-store{urlsplit(signed).path}", params={k: v[0] for k, v in query.items()})
    assert got.content == b"object"
    assert [c["name"] for c in ok(swift.get(account, params={"format": "json"}))] == ["c", "leaky"]  # the S3 bucket is a container

    # image imports from signed URLs (a common way to hand a private object to the image service), one of
    # them failing: the failure is logged, its URI's signature must not be
    images = httpx.Client(base_url=f"{cloud.url}/image", headers={"X-Auth-Token": user_token}, timeout=30)
    for name, path, outcome in (("o", urlsplit(signed).path, "success"),
                                ("missing", f"/v1/AUTH_{project['id']}/c/missing", "failure")):
        source = generate_temp_url(path, int(time.time()) + 300, key, "GET")
        secrets[f"TempURL signature of {name}"] = parse_qs(urlsplit(source).query)["temp_url_sig"][0]
        image = ok(images.post("/v2/images", json={"name": name, "disk_format": "raw", "container_format": "bare"}),
                   201)
        uri = f"{cloud.url}/object-store{source}"
        assert start_import(images, image["id"], "web-download", uri=uri).status_code == 202
        assert only_task(images, image["id"], outcome)["status"] == outcome
    assert wait_for(images, image["id"], "queued")["status"] == "queued"

    # the dashboard's sign-in form, once wrong and once right, and a page it shows with the session's token
    with httpx.Client(base_url=f"{cloud.url}/dashboard", timeout=30) as browser:
        for password, outcome in ((wrong, 401), (second, 303)):
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
            answer = browser.post("/login", data={"username": "leaky", "password": password, "csrf_token": csrf})
            assert answer.status_code == outcome
        assert browser.get("/").status_code == 200

    # what a revoked token and a forged TempURL leave
    assert identity.delete("/auth/tokens", headers={"X-Subject-Token": user_token}).status_code == 204
    assert swift.get(account).status_code == 401
    assert httpx.get(f"{cloud.url}/object-store{urlsplit(signed).path}",
                     params={"temp_url_sig": secrets["TempURL signature"][::-1],
                             "temp_url_expires": query["temp_url_expires"][0]}).status_code == 401

    found = logs(cloud)
    everything = "\n".join(found.values())
    # the logs saw these requests: the search below is not of an empty file
    for path in ("/identity/v3/auth/tokens", "/application_credentials", "/s3/leaky/k", account, "/dashboard/login"):
        assert path in everything, path
    leaks = [(what, name) for what, value in secrets.items() for name, text in found.items() if value in text]
    assert leaks == [], f"secrets in logs: {leaks}"


def test_every_cloud_searches_its_logs_for_the_secrets_it_saw_when_torn_down(tmp_path):
    """What every test cloud does as it stops or is purged (tests/cloudfixture.py ``check_log``): the secrets
    its database keeps as given (an EC2 secret, a TempURL key), its passwords and anything shaped like a token
    or a generated application credential secret, searched for in every ``*.log`` under its data dir. A line
    holding one, appended to a log the way a leak would write it, fails the teardown."""
    cloud = Cloud(tmp_path / "leak").start()
    try:
        admin = cloud.client()
        project = ok(admin.get("/projects", params={"name": "admin"}))["projects"][0]
        user_id = ok(admin.get("/auth/tokens", headers={"X-Subject-Token": admin.headers["X-Auth-Token"]}))[
            "token"]["user"]["id"]
        ec2 = ok(admin.post(f"/users/{user_id}/credentials/OS-EC2", json={"tenant_id": project["id"]}), 201)
        generated = ok(admin.post(f"/users/{user_id}/application_credentials",
                                  json={"application_credential": {"name": "gen"}}), 201)["application_credential"]
        key = "teardown-TempURL-Key-41d2"
        account = f"{cloud.url}/object-store/v1/AUTH_{project['id']}"
        assert httpx.post(account, headers={"X-Auth-Token": admin.headers["X-Auth-Token"],
                                            "X-Account-Meta-Temp-URL-Key": key}, timeout=30).status_code == 204
        seen = cloud.seen_secrets()
        assert seen.get(ec2["credential"]["secret"]) == "EC2 secret" and seen.get(key) == "TempURL key"
        assert cloud.password() in seen
        cloud.check_log()  # nothing leaked so far
        log = cloud.data_dir / "leaky.log"
        for leaked, what in ((ec2["credential"]["secret"], "EC2 secret"), (key, "TempURL key"),
                             (generated["secret"], "secret-shaped"), (admin.headers["X-Auth-Token"], "secret-shaped"),
                             (cloud.password(), "password")):
            log.write_text(f"INFO something said: {leaked}\n")
            with pytest.raises(AssertionError, match=what):
                cloud.check_log()
        log.unlink()
    finally:
        cloud.purge()
