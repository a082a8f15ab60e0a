"""The JSON access log: one line per request, with what the gateway decided
and why, and never a secret or a signature. The harness runs the gateway
with `--log-format json`, its log in CG_TMP/gateway.log."""
import json
import os
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import SECRET_KEY, TMP, client

SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")


def access_lines():
    lines = []
    with open(os.path.join(TMP, "gateway.log")) as log:
        for line in log:
            line = line.strip()
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("target") == "cedargate::access":
                    lines.append(entry)
    return lines


def line_for(request_id):
    deadline = time.time() + 5
    while time.time() < deadline:
        found = [entry for entry in access_lines() if entry["request_id"] == request_id]
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no access line for {request_id}")


def test_allowed_and_denied_requests_are_logged_with_their_decision():
    s3 = client()
    put = s3.put_object(Bucket="alpha", Key="logs/hello world.txt", Body=b"x" * 123)
    allowed = line_for(put["ResponseMetadata"]["RequestId"])
    assert allowed["message"] == "request"
    assert allowed["principal"] == "tester"
    assert allowed["operation"] == "PutObject"
    assert allowed["bucket"] == "alpha"
    assert allowed["key"] == "logs/hello world.txt"
    assert allowed["decision"] == "allow"
    assert allowed["policies"] == "tester-may-do-everything"
    assert allowed["status"] == 200
    assert allowed["result"] == "ok"
    assert allowed["bytes_in"] == 123
    assert allowed["auth_mode"] == "signed"
    assert allowed["duration_ms"] >= allowed["upstream_ms"] > 0

    got = s3.get_object(Bucket="alpha", Key="logs/hello world.txt")
    assert got["Body"].read() == b"x" * 123
    assert line_for(got["ResponseMetadata"]["RequestId"])["bytes_out"] == 123

    scoped = client(*SCOPED)
    with pytest.raises(ClientError) as refused:
        scoped.get_object(Bucket="alpha", Key="logs/hello world.txt")
    denied = line_for(refused.value.response["ResponseMetadata"]["RequestId"])
    assert denied["principal"] == "scoped"
    assert denied["decision"] == "deny"
    assert denied["status"] == 403
    assert denied["result"] == "AccessDenied"
    assert denied["operation"] == "GetObject"

    with pytest.raises(ClientError) as forbidden:
        s3.put_object(Bucket="alpha", Key="logs/blocked.txt", Body=b"x")
    blocked = line_for(forbidden.value.response["ResponseMetadata"]["RequestId"])
    assert blocked["decision"] == "deny"
    assert blocked["policies"] == "no-writes-under-blocked"
    assert blocked["principal"] == "tester"


def test_no_secret_or_signature_reaches_the_log():
    s3 = client(signature_version="s3v4")
    s3.put_object(Bucket="alpha", Key="logs/secret-check", Body=b"y")
    presigned = s3.generate_presigned_url("get_object",
                                          Params={"Bucket": "alpha", "Key": "logs/secret-check"})
    answer = urllib.request.urlopen(presigned, timeout=10)
    assert answer.read() == b"y"
    # Once the presigned request's own line is written, all it logs is.
    line_for(answer.headers["x-amz-request-id"])
    text = open(os.path.join(TMP, "gateway.log")).read()
    signature = presigned.split("X-Amz-Signature=")[1].split("&")[0]
    assert SECRET_KEY not in text
    assert signature not in text
    assert "Signature=" not in text
    assert "X-Amz-Credential" not in text
