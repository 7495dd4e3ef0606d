"""Virtual-hosted S3 buckets through boto3 (``addressing_style=virtual``): a cloud whose ``s3_domains``
lists ``s3.example``, reached on loopback by a botocore hook that sends each request to 127.0.0.1 with the
Host boto3 signed (``<bucket>.s3.example:<port>``), so nothing outside the test resolves these names."""

import hashlib
from urllib.parse import urlsplit, urlunsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.api.helpers import member_of_new_project
from tests.api.object_helpers import client
from tests.api.s3_helpers import ec2_credential
from tests.cloudfixture import Cloud

DOMAIN = "s3.example"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    cloud = Cloud(tmp_path_factory.mktemp("s3hosts"), settings={"s3_domains": [DOMAIN]}).start()
    yield cloud
    cloud.stop()


def to_loopback(request, **_):
    """botocore's ``before-send``: keep the Host that was signed, connect to 127.0.0.1."""
    parts = urlsplit(request.url)
    request.headers["Host"] = parts.netloc
    request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{parts.port}"))


def virtual_client(cloud, access: str, secret: str, signature: str = "s3v4", style: str = "virtual"):
    s3 = boto3.client("s3", endpoint_url=f"http://{DOMAIN}:{cloud.port}", aws_access_key_id=access,
                      aws_secret_access_key=secret, region_name="RegionOne",
                      config=Config(s3={"addressing_style": style}, signature_version=signature,
                                    retries={"max_attempts": 1}))
    sent = []
    s3.meta.events.register("before-send.s3", lambda request, **kw: sent.append(request.headers["Host"]))
    s3.meta.events.register_first("before-send.s3", to_loopback)
    return s3, sent


@pytest.fixture(scope="module")
def member(hosted):
    with hosted.client() as admin:
        project, user, token = member_of_new_project(hosted, admin)
        access, secret = ec2_credential(admin, user["id"], project["id"])
    return project, token, access, secret


def test_buckets_named_by_the_host(hosted, member):
    project, token, access, secret = member
    s3, sent = virtual_client(hosted, access, secret)
    s3.create_bucket(Bucket="site")
    assert sent[-1] == f"site.{DOMAIN}:{hosted.port}"  # the bucket went in the Host, not the path
    body = b"<h1>hello</h1>" * 100
    s3.put_object(Bucket="site", Key="pages/ü index.html", Body=body, ContentType="text/html")
    got = s3.get_object(Bucket="site", Key="pages/ü index.html")
    assert got["Body"].read() == body and got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert sent[-1] == f"site.{DOMAIN}:{hosted.port}"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="site", Prefix="pages/")["Contents"]] == ["pages/ü index.html"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["site"]  # the bare domain: the service
    # the same container and object through the Swift API
    swift = client(hosted, f"AUTH_{project['id']}", token)
    assert swift.get("/site/pages/ü index.html").content == body
    # a key that starts like the path-style prefix is still a key of the host's bucket
    s3.put_object(Bucket="site", Key="s3/site/x", Body=b"x")
    assert swift.get("/site/s3/site/x").content == b"x"
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="nosuch", Key="a")
    assert missing.value.response["Error"]["Code"] == "NoSuchBucket"


def test_presigned_and_version_2_signatures_on_a_hosted_bucket(hosted, member):
    _, _, access, secret = member
    s3, _ = virtual_client(hosted, access, secret)
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="a/b.txt", Body=b"signed")
    url = urlsplit(s3.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "a/b.txt"},
                                             ExpiresIn=300))
    assert url.hostname == f"shared.{DOMAIN}"
    loopback = urlunsplit(url._replace(netloc=f"127.0.0.1:{hosted.port}"))
    fetched = httpx.get(loopback, headers={"Host": url.netloc})
    assert fetched.status_code == 200 and fetched.content == b"signed"
    tampered = httpx.get(loopback, headers={"Host": f"other.{DOMAIN}:{hosted.port}"})
    assert tampered.status_code == 403  # the Host is signed: another bucket's name breaks it
    v2, _ = virtual_client(hosted, access, secret, signature="s3")
    assert v2.get_object(Bucket="shared", Key="a/b.txt")["Body"].read() == b"signed"
    v2.put_object(Bucket="shared", Key="v2", Body=b"two")
    assert s3.get_object(Bucket="shared", Key="v2")["Body"].read() == b"two"


def test_path_style_on_the_bare_domain_and_other_hosts_unchanged(hosted, member):
    _, token, access, secret = member
    s3, sent = virtual_client(hosted, access, secret, style="path")
    s3.create_bucket(Bucket="plain")
    s3.put_object(Bucket="plain", Key="k", Body=b"v")
    assert sent[-1] == f"{DOMAIN}:{hosted.port}"
    assert s3.get_object(Bucket="plain", Key="k")["Body"].read() == b"v"
    # on the cloud's own address the other services and path-style /s3 answer as before
    assert httpx.get(f"{hosted.url}/identity/v3").status_code == 200
    on_s3_domain = httpx.get(f"{hosted.url}/identity/v3", headers={"Host": f"{DOMAIN}:{hosted.port}"})
    assert on_s3_domain.status_code == 403 and b"<Code>AccessDenied</Code>" in on_s3_domain.content
