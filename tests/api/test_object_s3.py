"""The S3 API by hand: signatures (V4 header and query, V2, aws-chunked bodies), S3's XML errors for
every bad request, and the catalog entry."""

import base64
import datetime
import email.utils
import hashlib
import hmac
import time
from unittest import mock

import httpx
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.api.helpers import member_of_new_project
from tests.api.s3_helpers import ec2_credential, s3_client


def signed(cloud, creds, method, path, body=b"", headers=None, payload=None):
    """A request signed by botocore's V4 signer, with the payload hash we choose (S3SigV4Auth would hash the
    body itself)."""
    headers = dict(headers or {})
    headers["X-Amz-Content-SHA256"] = payload or hashlib.sha256(body).hexdigest()
    request = AWSRequest(method=method, url=f"{cloud.url}/s3{path}", data=body, headers=headers)
    SigV4Auth(Credentials(*creds), "s3", "RegionOne").add_auth(request)
    return httpx.request(method, request.url, content=body, headers=dict(request.headers.items()))


def make(cloud, admin):
    project, user, _ = member_of_new_project(cloud, admin)
    return ec2_credential(admin, user["id"], project["id"])


def code(resp) -> str:
    return resp.text.split("<Code>")[1].split("</Code>")[0]


def test_errors_are_s3_xml(cloud, admin):
    creds = make(cloud, admin)
    assert signed(cloud, creds, "PUT", "/errs").status_code == 200
    missing = signed(cloud, creds, "GET", "/errs/none")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/xml"
    assert code(missing) == "NoSuchKey" and "<Resource>/errs/none</Resource>" in missing.text
    head = signed(cloud, creds, "HEAD", "/errs/none")
    assert head.status_code == 404 and head.content == b""
    assert code(signed(cloud, creds, "PUT", "/Bad_Name")) == "InvalidBucketName"
    assert code(signed(cloud, creds, "PUT", "/errs/" + "k" * 1100, b"x")) == "KeyTooLongError"
    assert code(signed(cloud, creds, "GET", "/errs?policy")) == "NotImplemented"
    assert code(signed(cloud, creds, "PUT", "/errs/k?tagging", b"<Tagging/>")) == "NotImplemented"
    assert code(signed(cloud, creds, "POST", "/errs?delete", b"<Delete><Object>")) == "MalformedXML"
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Delete><Object><Key>&a;</Key></Object></Delete>'
    assert code(signed(cloud, creds, "POST", "/errs?delete", bomb)) == "MalformedXML"
    assert code(signed(cloud, creds, "PUT", "/errs/k", b"data", payload="0" * 64)) == "XAmzContentSHA256Mismatch"
    bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    assert code(signed(cloud, creds, "PUT", "/errs/k", b"data", {"Content-MD5": bad_md5})) == "BadDigest"
    assert code(signed(cloud, creds, "PUT", "/errs/k", b"data", {"Content-MD5": "nope"})) == "InvalidDigest"
    bad_crc = {"x-amz-checksum-crc32": "AAAAAA=="}
    assert code(signed(cloud, creds, "PUT", "/errs/k", b"data", bad_crc)) == "BadDigest"
    assert code(signed(cloud, creds, "GET", "/errs/k")) == "NoSuchKey"  # nothing of those was kept
    assert code(signed(cloud, creds, "GET", "/errs?max-keys=lots")) == "InvalidArgument"
    assert code(signed(cloud, creds, "GET", "/errs?list-type=2&continuation-token=%40%40%40")) == "InvalidArgument"
    upload = signed(cloud, creds, "PUT", "/errs/k?partNumber=1&uploadId=nothing", b"x")
    assert code(upload) == "NoSuchUpload" and upload.status_code == 404


def test_who_signed_is_checked(cloud, admin):
    access, secret = make(cloud, admin)
    assert code(httpx.get(f"{cloud.url}/s3/")) == "AccessDenied"
    assert code(signed(cloud, (access, "wrong"), "GET", "/")) == "SignatureDoesNotMatch"
    assert code(signed(cloud, ("AKIDUNKNOWN", secret), "GET", "/")) == "InvalidAccessKeyId"
    old = email.utils.formatdate(time.time() - 3600, usegmt=True)
    skewed = httpx.get(f"{cloud.url}/s3/", headers={"Date": old, "Authorization": f"AWS {access}:c2lnbmF0dXJl"})
    assert skewed.status_code == 403 and code(skewed) == "RequestTimeTooSkewed"
    malformed = httpx.get(f"{cloud.url}/s3/", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x",
                                                       "X-Amz-Date": "20240101T000000Z"})
    assert malformed.status_code == 400 and code(malformed) == "AuthorizationHeaderMalformed"
    assert code(httpx.get(f"{cloud.url}/s3/", headers={"Authorization": "Bearer x"})) == "AccessDenied"
    # a presigned URL past its expiry (signed an hour ago, valid for a minute), and one whose expiry is
    # out of S3's range (1 s to 7 days)
    request = AWSRequest(method="GET", url=f"{cloud.url}/s3/", headers={})
    an_hour_ago = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(hours=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=an_hour_ago):
        SigV4QueryAuth(Credentials(access, secret), "s3", "RegionOne", expires=60).add_auth(request)
    expired = httpx.get(request.url)
    assert expired.status_code == 403 and code(expired) == "AccessDenied" and "expired" in expired.text
    request = AWSRequest(method="GET", url=f"{cloud.url}/s3/", headers={})
    SigV4QueryAuth(Credentials(access, secret), "s3", "RegionOne", expires=1).add_auth(request)
    zero = httpx.get(request.url.replace("X-Amz-Expires=1", "X-Amz-Expires=0"))
    assert zero.status_code == 400 and code(zero) == "AuthorizationQueryParametersError"
    # deleting the credential in Identity stops it at once
    user_id = admin.get("/credentials", params={"type": "ec2"}).json()["credentials"]
    owner = next(c["user_id"] for c in user_id if access in c["blob"])
    assert admin.delete(f"/users/{owner}/credentials/OS-EC2/{access}").status_code == 204
    assert code(signed(cloud, (access, secret), "GET", "/")) == "InvalidAccessKeyId"


def test_aws_chunked_signed_body(cloud, admin):
    access, secret = make(cloud, admin)
    s3_client(cloud, access, secret).create_bucket(Bucket="chunks")
    data = [b"a" * 70000, b"b" * 1000]
    decoded = sum(len(d) for d in data)
    request = AWSRequest(method="PUT", url=f"{cloud.url}/s3/chunks/streamed", headers={
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(decoded)})
    SigV4Auth(Credentials(access, secret), "s3", "RegionOne").add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/RegionOne/s3/aws4_request"
    key = b"AWS4" + secret.encode()
    for part in (amz_date[:8], "RegionOne", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()

    def body(tamper=False):
        previous, out = seed, b""
        for chunk in [*data, b""]:
            text = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, hashlib.sha256(b"").hexdigest(),
                              hashlib.sha256(chunk).hexdigest()))
            previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
            sent = chunk.replace(b"b", b"c") if tamper else chunk
            out += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
        return out

    headers = dict(request.headers.items())
    ok = httpx.put(request.url, content=body(), headers=headers)
    assert ok.status_code == 200, ok.text
    got = s3_client(cloud, access, secret).get_object(Bucket="chunks", Key="streamed")["Body"].read()
    assert got == b"".join(data)
    tampered = httpx.put(request.url.replace("streamed", "streamed"), content=body(tamper=True), headers=headers)
    assert code(tampered) == "SignatureDoesNotMatch"
    truncated = httpx.put(request.url, content=body()[:-40], headers=headers)
    assert truncated.status_code == 400


def test_the_catalog_lists_s3(cloud, admin):
    token = cloud.token()
    catalog = httpx.get(f"{cloud.auth_url}/v3/auth/catalog", headers={"X-Auth-Token": token}).json()["catalog"]
    s3 = next(s for s in catalog if s["type"] == "s3")
    assert {e["url"] for e in s3["endpoints"]} == {f"{cloud.url}/s3"}
