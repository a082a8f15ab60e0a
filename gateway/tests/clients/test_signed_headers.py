"""The signed-header rule against a real gateway on the fs backend: an
unsigned x-amz-* header never changes what a presigned URL or a signed
request does, and what real clients sign still passes."""
import base64
import filecmp
import hashlib
import os
import subprocess
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import pytest
import urllib3
from botocore.exceptions import ClientError

import sigv4
from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, TMP, client, metric

HOST = urlparse(ENDPOINT).netloc
PUBLIC = "beta"
PRIVATE = "alpha"
MESSAGE = "There were headers present in the request which were not signed"
http = urllib3.PoolManager(retries=False, timeout=30)


def presigner():
    return client(signature_version="s3v4")


def refusals():
    return metric("s3_auth_failure_total", '{reason="unsigned_header"}')


def assert_refused(response, header):
    assert response.status == 403, response.data
    root = ET.fromstring(response.data)
    assert root.find("Code").text == "AccessDenied", response.data
    message = root.find("Message").text
    assert message.startswith(MESSAGE), message
    assert header in message, message


def missing(bucket, key):
    try:
        client().head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


@pytest.fixture
def secret(prefix):
    key = prefix + "private/p.txt"
    client().put_object(Bucket=PRIVATE, Key=key, Body=b"the private object")
    return key


def test_presigned_put_plus_unsigned_copy_source_copies_nothing(prefix, secret):
    target = prefix + "copied.txt"
    url = presigner().generate_presigned_url(
        "put_object", Params={"Bucket": PUBLIC, "Key": target}, ExpiresIn=300)
    before = refusals()
    r = http.request("PUT", url, body=b"",
                     headers={"x-amz-copy-source": f"/{PRIVATE}/{secret}"})
    assert_refused(r, "x-amz-copy-source")
    assert refusals() == before + 1
    assert missing(PUBLIC, target)


@pytest.mark.parametrize("header,value", [
    ("x-amz-tagging", "classification=public"),
    ("x-amz-meta-owner", "mallory"),
    ("x-amz-website-redirect-location", "https://example.invalid/"),
    ("x-amz-acl", "public-read"),
    ("x-amz-storage-class", "GLACIER"),
    ("x-amz-server-side-encryption", "AES256"),
    ("x-amz-object-lock-legal-hold", "ON"),
    ("x-amz-checksum-crc32", "AAAAAA=="),
])
def test_presigned_put_plus_unsigned_storing_header_stores_nothing(prefix, header, value):
    key = prefix + "upload.txt"
    url = presigner().generate_presigned_url(
        "put_object", Params={"Bucket": PUBLIC, "Key": key}, ExpiresIn=300)
    r = http.request("PUT", url, body=b"payload", headers={header: value})
    assert_refused(r, header)
    assert missing(PUBLIC, key)


def test_presigned_upload_part_cannot_become_upload_part_copy(prefix, secret):
    s3 = client()
    key = prefix + "multipart.bin"
    upload = s3.create_multipart_upload(Bucket=PUBLIC, Key=key)["UploadId"]
    url = presigner().generate_presigned_url(
        "upload_part",
        Params={"Bucket": PUBLIC, "Key": key, "UploadId": upload, "PartNumber": 1},
        ExpiresIn=300)
    r = http.request("PUT", url, body=b"",
                     headers={"x-amz-copy-source": f"/{PRIVATE}/{secret}"})
    assert_refused(r, "x-amz-copy-source")
    parts = s3.list_parts(Bucket=PUBLIC, Key=key, UploadId=upload)
    assert parts.get("Parts", []) == []
    # The same URL still uploads the part it was made for.
    r = http.request("PUT", url, body=b"part one")
    assert r.status == 200, r.data
    s3.abort_multipart_upload(Bucket=PUBLIC, Key=key, UploadId=upload)


def test_header_auth_with_unsigned_copy_source_copies_nothing(prefix, secret):
    target = prefix + "copied-by-header-auth.txt"
    path = f"/{PUBLIC}/{target}"
    headers = sigv4.sign("PUT", HOST, path, ACCESS_KEY, SECRET_KEY,
                         headers={"x-amz-copy-source": f"/{PRIVATE}/{secret}"},
                         signed=["host", "x-amz-content-sha256", "x-amz-date"])
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date," in headers["authorization"]
    r = http.request("PUT", ENDPOINT + path, body=b"", headers=headers)
    assert_refused(r, "x-amz-copy-source")
    assert missing(PUBLIC, target)


def test_header_auth_signing_the_copy_source_copies(prefix, secret):
    target = prefix + "copied-signed.txt"
    path = f"/{PUBLIC}/{target}"
    headers = sigv4.sign("PUT", HOST, path, ACCESS_KEY, SECRET_KEY,
                         headers={"x-amz-copy-source": f"/{PRIVATE}/{secret}"})
    r = http.request("PUT", ENDPOINT + path, body=b"", headers=headers)
    assert r.status == 200, r.data
    body = client().get_object(Bucket=PUBLIC, Key=target)["Body"].read()
    assert body == b"the private object"


def test_boto3_put_get_and_multipart_still_work(prefix):
    s3 = client()
    key = prefix + "plain.txt"
    s3.put_object(Bucket=PUBLIC, Key=key, Body=b"hello", Metadata={"a": "b"},
                  Tagging="t=1", ContentType="text/plain", StorageClass="STANDARD")
    got = s3.get_object(Bucket=PUBLIC, Key=key)
    assert got["Body"].read() == b"hello"
    assert got["Metadata"] == {"a": "b"}
    big = prefix + "big.bin"
    upload = s3.create_multipart_upload(Bucket=PUBLIC, Key=big)["UploadId"]
    part = os.urandom(5 * 1024 * 1024)
    etags = [s3.upload_part(Bucket=PUBLIC, Key=big, UploadId=upload, PartNumber=n,
                            Body=part)["ETag"] for n in (1, 2)]
    s3.complete_multipart_upload(
        Bucket=PUBLIC, Key=big, UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in zip((1, 2), etags)]})
    assert s3.get_object(Bucket=PUBLIC, Key=big)["Body"].read() == part + part


def test_presigned_get_and_put_with_plain_http_still_work(prefix):
    s3 = presigner()
    key = prefix + "presigned.txt"
    put = s3.generate_presigned_url("put_object", Params={"Bucket": PUBLIC, "Key": key},
                                    ExpiresIn=300)
    # Headers outside x-amz-* need not be signed, as in AWS; nor does
    # x-amz-content-sha256, which a presigned URL does not use.
    r = http.request("PUT", put, body=b"uploaded", headers={
        "content-type": "text/plain",
        "content-md5": base64.b64encode(hashlib.md5(b"uploaded").digest()).decode(),
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    })
    assert r.status == 200, r.data
    get = s3.generate_presigned_url("get_object", Params={"Bucket": PUBLIC, "Key": key},
                                    ExpiresIn=300)
    r = http.request("GET", get)
    assert (r.status, r.data) == (200, b"uploaded")


def test_presigned_put_with_signed_metadata_and_tagging_works(prefix):
    key = prefix + "tagged.txt"
    url = presigner().generate_presigned_url(
        "put_object",
        Params={"Bucket": PUBLIC, "Key": key, "Metadata": {"owner": "alice"},
                "Tagging": "t=1", "ContentType": "text/plain"},
        ExpiresIn=300)
    assert "x-amz-meta-owner" in url and "x-amz-tagging" in url
    r = http.request("PUT", url, body=b"tagged", headers={
        "x-amz-meta-owner": "alice", "x-amz-tagging": "t=1", "content-type": "text/plain"})
    assert r.status == 200, r.data
    head = client().head_object(Bucket=PUBLIC, Key=key)
    assert head["Metadata"] == {"owner": "alice"}


def aws(*args):
    result = subprocess.run(["aws", "--endpoint-url", ENDPOINT, *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"aws {' '.join(args)}: {result.stdout}\n{result.stderr}"


def test_aws_cli_cp_up_and_down_still_works(prefix):
    source = os.path.join(TMP, "signed-headers-cli.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(9 * 1024 * 1024))
    url = f"s3://{PUBLIC}/{prefix}cli.bin"
    aws("s3", "cp", source, url, "--metadata", "owner=cli")
    target = os.path.join(TMP, "signed-headers-cli.out")
    aws("s3", "cp", url, target)
    assert filecmp.cmp(source, target, shallow=False)
