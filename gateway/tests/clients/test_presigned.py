"""Presigned URLs made by boto3 and used by plain HTTP clients (curl)."""
import os
import subprocess
import time
import xml.etree.ElementTree as ET

from conftest import BUCKET, TMP, client


def presigner():
    return client(signature_version="s3v4")


def curl(*args):
    result = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *args],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition(b"\n")
    return int(status), body


def test_presigned_put_then_get_with_curl(prefix):
    s3 = presigner()
    key = prefix + "shared file+name ü.bin"
    payload = os.urandom(300_000)
    source = os.path.join(TMP, "presigned-upload.bin")
    with open(source, "wb") as f:
        f.write(payload)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    assert "X-Amz-Signature=" in put_url
    status, body = curl("-X", "PUT", "--data-binary", "@" + source, put_url)
    assert status == 200, body
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=300)
    status, body = curl(get_url)
    assert status == 200
    assert body == payload
    status, _ = curl("-r", "0-9", get_url)
    assert status == 206


def test_week_long_url_is_accepted(prefix):
    s3 = presigner()
    s3.put_object(Bucket=BUCKET, Key=prefix + "w", Body=b"week")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": prefix + "w"},
                                    ExpiresIn=604800)
    assert curl(url) == (200, b"week")


def test_presigned_url_past_its_expiry_is_access_denied(prefix):
    s3 = presigner()
    s3.put_object(Bucket=BUCKET, Key=prefix + "soon", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": prefix + "soon"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body = curl(url)
    assert status == 403
    assert ET.fromstring(body).find("Code").text == "AccessDenied"


def test_expires_outside_range_is_invalid_argument(prefix):
    s3 = presigner()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": prefix + "x"},
                                    ExpiresIn=604801)
    status, body = curl(url)
    assert status == 400
    assert ET.fromstring(body).find("Code").text == "InvalidArgument"


def test_sigv2_presigned_url_is_refused_not_treated_as_anonymous(prefix):
    legacy = client(signature_version="s3")
    url = legacy.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": prefix + "x"}, ExpiresIn=60)
    assert "AWSAccessKeyId=" in url
    status, body = curl(url)
    assert status == 400
    assert ET.fromstring(body).find("Code").text == "InvalidRequest"


def test_tampered_presigned_url_is_refused(prefix):
    s3 = presigner()
    s3.put_object(Bucket=BUCKET, Key=prefix + "t", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": prefix + "t"}, ExpiresIn=60)
    status, body = curl(url.replace(prefix + "t", prefix + "u"))
    assert status == 401
    assert ET.fromstring(body).find("Code").text == "SignatureDoesNotMatch"
