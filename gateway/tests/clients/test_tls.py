"""boto3 over HTTPS (its default SDK path: aws-chunked bodies with checksum
trailers, STREAMING-UNSIGNED-PAYLOAD-TRAILER) and over HTTP (a signed
payload hash plus an x-amz-checksum-crc32 header)."""
import hashlib
import io
import json
import os
import subprocess

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, BUCKET, SECRET_KEY, TMP

TLS_ENDPOINT = os.environ["CG_TLS_ENDPOINT"]
CA = os.environ["CG_CA_BUNDLE"]


@pytest.fixture(scope="module", params=["https", "http"])
def s3s(request):
    endpoint = TLS_ENDPOINT if request.param == "https" else os.environ["CG_ENDPOINT"]
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1", verify=CA,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("size", [0, 1, 8 * 1024 * 1024])
def test_put_get_over_https(s3s, prefix, size):
    data = os.urandom(size)
    key = f"{prefix}tls-{size}"
    sent = []
    s3s.meta.events.register("before-send.s3.PutObject", lambda request, **_: sent.append(request.headers))
    put = s3s.put_object(Bucket=BUCKET, Key=key, Body=data)
    if s3s.meta.endpoint_url.startswith("https"):
        assert sent[-1]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert b"aws-chunked" in sent[-1]["Content-Encoding"]
    else:
        assert sent[-1]["X-Amz-Content-SHA256"] != b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        assert "x-amz-checksum-crc32" in {k.lower() for k in sent[-1].keys()}
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert s3s.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_64_mib_multipart_over_https(s3s, prefix):
    data = os.urandom(64 * 1024 * 1024)
    key = prefix + "tls-64m"
    config = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
    s3s.upload_fileobj(io.BytesIO(data), BUCKET, key, Config=config)
    head = s3s.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-8"'), head["ETag"]
    out = io.BytesIO()
    s3s.download_fileobj(BUCKET, key, out)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()


def test_wrong_checksum_header_is_bad_digest_and_stores_nothing(s3s, prefix):
    key = prefix + "bad-checksum"
    with pytest.raises(ClientError) as e:
        s3s.put_object(Bucket=BUCKET, Key=key, Body=b"payload", ChecksumCRC32="AAAAAA==")
    assert e.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError):
        s3s.head_object(Bucket=BUCKET, Key=key)


def test_aws_cli_cp_over_https(prefix):
    source = os.path.join(TMP, "tls-cli.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(12 * 1024 * 1024))
    url = f"s3://{BUCKET}/{prefix}cli.bin"
    base = ["aws", "--endpoint-url", TLS_ENDPOINT, "--ca-bundle", CA]
    for args in (["s3", "cp", source, url], ["s3", "cp", url, source + ".back"]):
        result = subprocess.run(base + args, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    with open(source, "rb") as a, open(source + ".back", "rb") as b:
        assert a.read() == b.read()
    head = subprocess.run(base + ["s3api", "head-object", "--bucket", BUCKET, "--key", prefix + "cli.bin"],
                          capture_output=True, text=True, timeout=60)
    assert json.loads(head.stdout)["ContentLength"] == 12 * 1024 * 1024
