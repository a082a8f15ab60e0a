"""The s3 backend when its upstream fails: killed mid-GET and mid-PUT, then
restarted. Driven by tests/s3_backend.rs in phases (selected with -k): the
harness passes the upstream's pid (CG_UPSTREAM_PID) and restarts it
between phases. Bucket `alpha` lives on the upstream, `gamma` on the
gateway's own filesystem backend.
"""
import hashlib
import json
import os
import signal
import threading
import time
import urllib.request
import http.client
from urllib.parse import urlparse

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

import sigv4
from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, client

MIB = 1024 * 1024
BIG = 64 * MIB
TLS_ENDPOINT = os.environ["CG_TLS_ENDPOINT"]
CA = os.environ["CG_CA_BUNDLE"]
ADMIN = os.environ["CG_ADMIN"]


def tls_client():
    return boto3.client(
        "s3", endpoint_url=TLS_ENDPOINT, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1", verify=CA,
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60))


def pattern(size):
    block = hashlib.sha256(b"cedargate").digest() * (MIB // 32)
    return (block * (size // MIB + 1))[:size]


def readiness():
    try:
        answer = urllib.request.urlopen(ADMIN + "/readyz", timeout=5)
        return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_backend(state, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, body = readiness()
        if body["backends"].get("upstream") == state:
            return body
        time.sleep(0.2)
    pytest.fail(f"backend never {state}: {readiness()}")


def test_phase_before_a_64_mib_multipart_upload_over_https(tmp_path):
    s3 = tls_client()
    path = tmp_path / "big.bin"
    path.write_bytes(pattern(BIG))
    s3.upload_file(str(path), "alpha", "big.bin",
                   Config=TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB))
    head = s3.head_object(Bucket="alpha", Key="big.bin")
    assert head["ContentLength"] == BIG
    assert head["ETag"].endswith('-8"'), head["ETag"]
    got = tmp_path / "got.bin"
    s3.download_file("alpha", "big.bin", str(got))
    assert hashlib.sha256(got.read_bytes()).digest() == hashlib.sha256(pattern(BIG)).digest()
    assert wait_backend("up")["ready"] is True


def test_phase_kill_the_upstream_mid_get_and_mid_put():
    s3 = client()
    pid = int(os.environ["CG_UPSTREAM_PID"])
    # Mid-GET: the client must see an error, never a short body passed off as whole.
    body = s3.get_object(Bucket="alpha", Key="big.bin")["Body"]
    first = body.read(4 * MIB)
    assert len(first) == 4 * MIB
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(Exception) as raised:
        rest = body.read()
        # A clean end here would be a truncated object passed off as complete.
        assert len(first) + len(rest) == BIG
        pytest.fail("the whole object arrived although the upstream was killed")
    assert "whole object arrived" not in str(raised.value)
    # Mid-PUT to a dead upstream: refused, 503.
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="alpha", Key="half.bin", Body=pattern(8 * MIB))
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"
    # Other buckets keep working.
    s3.put_object(Bucket="gamma", Key="still-here", Body=b"ok")
    assert s3.get_object(Bucket="gamma", Key="still-here")["Body"].read() == b"ok"
    down = wait_backend("down")
    assert down["backends"]["local"] == "up"
    metrics = urllib.request.urlopen(ADMIN + "/metrics", timeout=5).read().decode()
    assert 'cedargate_backend_up{backend="upstream"} 0' in metrics


def test_phase_after_restart_nothing_partial_and_service_resumes():
    s3 = client()
    wait_backend("up")
    for key in ("half.bin", "cut.bin"):
        with pytest.raises(ClientError) as missing:
            s3.head_object(Bucket="alpha", Key=key)
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404, key
    data = s3.get_object(Bucket="alpha", Key="big.bin")["Body"].read()
    assert len(data) == BIG and data == pattern(BIG)
    s3.put_object(Bucket="alpha", Key="after", Body=b"back")
    assert s3.get_object(Bucket="alpha", Key="after")["Body"].read() == b"back"


def test_phase_put_cut_off_mid_body_leaves_nothing():
    """The upstream dies while the gateway streams a PUT body to it."""
    pid = int(os.environ["CG_UPSTREAM_PID"])
    url = urlparse(ENDPOINT)
    size = 48 * MIB
    data = pattern(size)
    headers = sigv4.sign("PUT", url.netloc, "/alpha/cut.bin", ACCESS_KEY, SECRET_KEY,
                         headers={"content-length": str(size)})
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("PUT", "/alpha/cut.bin", skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    status, killed = None, False
    try:
        for start in range(0, size, MIB):
            conn.send(data[start:start + MIB])
            if start >= size // 3 and not killed:
                os.kill(pid, signal.SIGKILL)
                killed = True
            time.sleep(0.005)
        status = conn.getresponse().status
    except OSError:
        pass
    assert killed
    assert status != 200, "a PUT whose upstream died was acknowledged"
