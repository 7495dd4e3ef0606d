"""The S3 API through boto3: buckets and objects, listings, copies, ranges, multipart uploads, presigned
URLs, and tenants kept apart, all on the same store the Swift API serves."""

import hashlib
import io
import random

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.api.object_helpers import client
from tests.api.s3_helpers import s3_client, s3_member


@pytest.fixture
def s3(cloud, admin):
    return s3_member(cloud, admin)


def code_of(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_buckets_and_objects(cloud, admin, s3):
    s3c, project, *_ = s3
    s3c.create_bucket(Bucket="photos")
    assert [b["Name"] for b in s3c.list_buckets()["Buckets"]] == ["photos"]
    with pytest.raises(ClientError) as taken:
        s3c.create_bucket(Bucket="photos")
    assert code_of(taken) == "BucketAlreadyOwnedByYou"
    put = s3c.put_object(Bucket="photos", Key="2024/cat ü.jpg", Body=b"meow", ContentType="image/jpeg",
                         Metadata={"camera": "x100"})
    assert put["ETag"] == f'"{hashlib.md5(b"meow").hexdigest()}"'
    got = s3c.get_object(Bucket="photos", Key="2024/cat ü.jpg")
    assert got["Body"].read() == b"meow" and got["ContentType"] == "image/jpeg"
    assert got["Metadata"] == {"camera": "x100"}
    head = s3c.head_object(Bucket="photos", Key="2024/cat ü.jpg")
    assert head["ContentLength"] == 4
    # the same object through the Swift API
    swift = client(cloud, f"AUTH_{project['id']}", cloud.token(s3[2]["name"], "secret-pass-1", project["name"]))
    swift_get = swift.get("/photos/2024/cat ü.jpg")
    assert swift_get.content == b"meow" and swift_get.headers["X-Object-Meta-Camera"] == "x100"
    with pytest.raises(ClientError) as missing:
        s3c.get_object(Bucket="photos", Key="nothing")
    assert code_of(missing) == "NoSuchKey"
    with pytest.raises(ClientError) as no_bucket:
        s3c.get_object(Bucket="nobucket", Key="x")
    assert code_of(no_bucket) == "NoSuchBucket"
    with pytest.raises(ClientError) as not_empty:
        s3c.delete_bucket(Bucket="photos")
    assert code_of(not_empty) == "BucketNotEmpty"
    s3c.delete_object(Bucket="photos", Key="2024/cat ü.jpg")
    s3c.delete_object(Bucket="photos", Key="2024/cat ü.jpg")  # deleting nothing is no error
    s3c.delete_bucket(Bucket="photos")
    assert s3c.list_buckets()["Buckets"] == []


def test_listings_v1_and_v2_with_paging(s3):
    s3c = s3[0]
    s3c.create_bucket(Bucket="lists")
    keys = [f"dir{d}/file{i:02}" for d in range(2) for i in range(5)] + ["top-a", "top-b"]
    for key in keys:
        s3c.put_object(Bucket="lists", Key=key, Body=key.encode())
    v2 = s3c.list_objects_v2(Bucket="lists", Delimiter="/")
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["dir0/", "dir1/"]
    assert [o["Key"] for o in v2["Contents"]] == ["top-a", "top-b"] and v2["KeyCount"] == 4
    pages = s3c.get_paginator("list_objects_v2").paginate(Bucket="lists", PaginationConfig={"PageSize": 3})
    assert [o["Key"] for page in pages for o in page.get("Contents", [])] == sorted(keys)
    v1_pages = s3c.get_paginator("list_objects").paginate(Bucket="lists", Prefix="dir1/", PaginationConfig={"PageSize": 2})
    assert [o["Key"] for page in v1_pages for o in page.get("Contents", [])] == [f"dir1/file{i:02}" for i in range(5)]
    after = s3c.list_objects_v2(Bucket="lists", StartAfter="dir1/file03")
    assert [o["Key"] for o in after["Contents"]] == ["dir1/file04", "top-a", "top-b"]
    deleted = s3c.delete_objects(Bucket="lists", Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == sorted(keys)
    assert s3c.list_objects_v2(Bucket="lists")["KeyCount"] == 0


def test_copy_ranges_and_conditions(s3):
    s3c = s3[0]
    s3c.create_bucket(Bucket="data")
    body = bytes(range(256)) * 40
    s3c.put_object(Bucket="data", Key="src", Body=body, Metadata={"a": "1"})
    s3c.copy_object(Bucket="data", Key="copy", CopySource={"Bucket": "data", "Key": "src"})
    copied = s3c.get_object(Bucket="data", Key="copy")
    assert copied["Body"].read() == body and copied["Metadata"] == {"a": "1"}
    s3c.copy_object(Bucket="data", Key="copy2", CopySource="data/src", MetadataDirective="REPLACE",
                    Metadata={"b": "2"}, ContentType="text/plain")
    assert s3c.head_object(Bucket="data", Key="copy2")["Metadata"] == {"b": "2"}
    ranged = s3c.get_object(Bucket="data", Key="src", Range="bytes=100-199")
    assert ranged["Body"].read() == body[100:200] and ranged["ContentRange"] == f"bytes 100-199/{len(body)}"
    etag = s3c.head_object(Bucket="data", Key="src")["ETag"]
    with pytest.raises(ClientError) as not_modified:
        s3c.get_object(Bucket="data", Key="src", IfNoneMatch=etag)
    assert not_modified.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as failed:
        s3c.get_object(Bucket="data", Key="src", IfMatch='"nope"')
    assert code_of(failed) == "PreconditionFailed"
    overridden = s3c.get_object(Bucket="data", Key="src", ResponseContentType="application/x-over")
    assert overridden["ContentType"] == "application/x-over"


def test_multipart_upload(cloud, s3):
    s3c = s3[0]
    s3c.create_bucket(Bucket="big")
    data = random.Random(4).randbytes(13 * 1024 * 1024 + 17)
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3c.upload_fileobj(io.BytesIO(data), "big", "blob.bin", Config=config)
    head = s3c.head_object(Bucket="big", Key="blob.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3c.download_fileobj("big", "blob.bin", out, Config=config)
    assert hashlib.md5(out.getvalue()).hexdigest() == hashlib.md5(data).hexdigest()
    middle = s3c.get_object(Bucket="big", Key="blob.bin", Range="bytes=5242870-5242900")["Body"].read()
    assert middle == data[5242870:5242901]
    listed = s3c.list_objects_v2(Bucket="big")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("blob.bin", len(data))]
    # by hand: list parts, a bad completion, abort
    upload = s3c.create_multipart_upload(Bucket="big", Key="manual", ContentType="text/x-manual")["UploadId"]
    one = s3c.upload_part(Bucket="big", Key="manual", UploadId=upload, PartNumber=1, Body=b"a" * (5 * 1024 * 1024))
    two = s3c.upload_part(Bucket="big", Key="manual", UploadId=upload, PartNumber=2, Body=b"tail")
    parts = s3c.list_parts(Bucket="big", Key="manual", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * 1024 * 1024), (2, 4)]
    assert [u["Key"] for u in s3c.list_multipart_uploads(Bucket="big")["Uploads"]] == ["manual"]
    with pytest.raises(ClientError) as order:
        s3c.complete_multipart_upload(Bucket="big", Key="manual", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 2, "ETag": two["ETag"]}, {"PartNumber": 1, "ETag": one["ETag"]}]})
    assert code_of(order) == "InvalidPartOrder"
    with pytest.raises(ClientError) as wrong:
        s3c.complete_multipart_upload(Bucket="big", Key="manual", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    assert code_of(wrong) == "InvalidPart"
    done = s3c.complete_multipart_upload(Bucket="big", Key="manual", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": one["ETag"]}, {"PartNumber": 2, "ETag": two["ETag"]}]})
    expected = hashlib.md5(bytes.fromhex(one["ETag"].strip('"')) + bytes.fromhex(two["ETag"].strip('"'))).hexdigest()
    assert done["ETag"] == f'"{expected}-2"'
    manual = s3c.get_object(Bucket="big", Key="manual")
    assert manual["ContentType"] == "text/x-manual" and manual["Body"].read() == b"a" * (5 * 1024 * 1024) + b"tail"
    aborted = s3c.create_multipart_upload(Bucket="big", Key="gone")["UploadId"]
    s3c.upload_part(Bucket="big", Key="gone", UploadId=aborted, PartNumber=1, Body=b"x")
    s3c.abort_multipart_upload(Bucket="big", Key="gone", UploadId=aborted)
    with pytest.raises(ClientError) as no_upload:
        s3c.list_parts(Bucket="big", Key="gone", UploadId=aborted)
    assert code_of(no_upload) == "NoSuchUpload"
    # deleting an object made of parts takes its parts along; the bucket then deletes
    s3c.delete_object(Bucket="big", Key="blob.bin")
    s3c.delete_object(Bucket="big", Key="manual")
    s3c.delete_bucket(Bucket="big")


def test_presigned_get_and_put(cloud, s3):
    s3c = s3[0]
    s3c.create_bucket(Bucket="shared")
    s3c.put_object(Bucket="shared", Key="report.pdf", Body=b"%PDF-1.4")
    url = s3c.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report.pdf"}, ExpiresIn=60)
    assert httpx.get(url).content == b"%PDF-1.4"
    tampered = url.replace("report.pdf", "other.pdf")
    denied = httpx.get(tampered)
    assert denied.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in denied.text
    upload = s3c.generate_presigned_url("put_object", Params={"Bucket": "shared", "Key": "up"}, ExpiresIn=60)
    assert httpx.put(upload, content=b"uploaded").status_code == 200
    assert s3c.get_object(Bucket="shared", Key="up")["Body"].read() == b"uploaded"
    v2 = s3_client(cloud, s3[3], s3[4], signature="s3")
    v2_url = v2.generate_presigned_url("get_object", Params={"Bucket": "shared", "Key": "report.pdf"}, ExpiresIn=60)
    assert httpx.get(v2_url).content == b"%PDF-1.4", (v2_url, httpx.get(v2_url).text)
    assert v2.get_object(Bucket="shared", Key="up")["Body"].read() == b"uploaded"


def test_tenants_are_walls_and_keys_are_checked(cloud, admin, s3):
    s3c = s3[0]
    s3c.create_bucket(Bucket="private")
    s3c.put_object(Bucket="private", Key="secret", Body=b"mine")
    other, *_ = s3_member(cloud, admin)
    with pytest.raises(ClientError) as walled:
        other.get_object(Bucket="private", Key="secret")
    assert code_of(walled) == "NoSuchBucket"  # another project's buckets are its own namespace
    other.create_bucket(Bucket="private")
    assert other.list_objects_v2(Bucket="private")["KeyCount"] == 0
    forged = s3_client(cloud, s3[3], "not-the-secret")
    with pytest.raises(ClientError) as bad_sig:
        forged.list_buckets()
    assert code_of(bad_sig) == "SignatureDoesNotMatch"
    unknown = s3_client(cloud, "unknown-access", "whatever")
    with pytest.raises(ClientError) as bad_key:
        unknown.list_buckets()
    assert code_of(bad_key) == "InvalidAccessKeyId"
    reader, *_ = s3_member(cloud, admin, role="reader")
    with pytest.raises(ClientError) as read_only:
        reader.create_bucket(Bucket="nope")
    assert code_of(read_only) == "AccessDenied"
