"""Attacks on the quota ledger and the Redis state store: a multipart
upload's id named with another key to free its parts, a Redis server frozen
for longer than the lease while a write is in flight, requests sent while it
is frozen, and a gateway killed mid-upload.

Driven by tests/security/state_store.rs, which starts the gateway(s), Redis
(CG_REDIS_PID) and, for one case, an upstream that ends an upload named with
any key (CG_UPSTREAM_ENDS_ANY_KEY).
"""
import json
import os
import signal
import time
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY, client, start_slow_upload

MIB = 1024 * 1024
BUCKET = "cap20"
HARD = 20 * MIB
QUOTA_ERROR = (507, "EntityTooLarge")
ADMINS = [os.environ["CG_ADMIN"], os.environ.get("CG_ADMIN_B", os.environ["CG_ADMIN"])]
S3 = client()


def client_b():
    return boto3.client(
        "s3", endpoint_url=os.environ["CG_ENDPOINT_B"], aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"},
                      connect_timeout=5, read_timeout=60))


def quota(admin=ADMINS[0]):
    rows = json.loads(urllib.request.urlopen(admin + "/quotas", timeout=10).read())
    return {row["bucket"]: row for row in rows}[BUCKET]


def wait_for(check, what, timeout=15):
    """Polls `check` (bounded) until it answers something true; returns it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout} s (last: {quota()})")


def row_where(condition, admin=ADMINS[0]):
    def check():
        row = quota(admin)
        return row if condition(row) else None
    return check


def known_usage():
    for admin in ADMINS:
        wait_for(row_where(lambda r: r["used"] is not None, admin), "usage scanned")


def outcome(call):
    """(status, code) of a call; (200, None) on success."""
    try:
        call()
        return 200, None
    except botocore.exceptions.ClientError as error:
        response = error.response
        return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def test_an_upload_id_named_with_another_key_frees_none_of_its_parts():
    known_usage()
    key = f"big-{uuid.uuid4().hex[:8]}"
    upload = S3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = []
    for number in (1, 2, 3):
        etag = S3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number,
                              Body=b"p" * (5 * MIB))["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    assert quota()["reserved"] == 15 * MIB
    ends_any_key = os.environ.get("CG_UPSTREAM_ENDS_ANY_KEY") == "1"
    status = outcome(lambda: S3.abort_multipart_upload(Bucket=BUCKET, Key="other", UploadId=upload))
    if not ends_any_key:
        assert status == (404, "NoSuchUpload"), status
        status = outcome(lambda: S3.complete_multipart_upload(
            Bucket=BUCKET, Key="other", UploadId=upload, MultipartUpload={"Parts": parts}))
        assert status[0] != 200, status
    # Whatever the upstream answered, the upload of `key` still holds its parts.
    assert quota()["reserved"] == 15 * MIB, quota()
    status = outcome(lambda: S3.put_object(Bucket=BUCKET, Key="ten", Body=b"t" * (10 * MIB)))
    assert status == QUOTA_ERROR, status
    if not ends_any_key:
        S3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": parts})
        row = quota()
        assert (row["used"], row["reserved"]) == (15 * MIB, 0), row
    row = quota()
    assert row["used"] + row["reserved"] <= HARD, row


def test_a_write_in_flight_keeps_its_reservation_when_redis_is_frozen_longer_than_the_lease():
    redis = int(os.environ["CG_REDIS_PID"])
    known_usage()
    thread, result = start_slow_upload(BUCKET, "slow", b"s" * (15 * MIB), pieces=50, delay=0.3)
    try:
        wait_for(row_where(lambda r: r["reserved"] == 15 * MIB), "the slow upload's reservation")
        os.kill(redis, signal.SIGSTOP)
        try:
            time.sleep(4.5)  # the lease is 2 s
        finally:
            os.kill(redis, signal.SIGCONT)
        # The gateway finds the server again by itself, its bytes still counted.
        row = wait_for(row_where(lambda r: r["state"] == "ok"), "redis answering again")
        assert row["reserved"] == 15 * MIB, row
        status = outcome(lambda: S3.put_object(Bucket=BUCKET, Key="ten", Body=b"t" * (10 * MIB)))
        assert status == QUOTA_ERROR, status
    finally:
        thread.join(timeout=60)
    assert result.get("status") == 200, result
    row = wait_for(row_where(lambda r: r["reserved"] == 0), "the reservation settled")
    assert row["used"] == 15 * MIB, row


def test_a_frozen_redis_costs_a_request_at_most_one_timeout():
    redis = int(os.environ["CG_REDIS_PID"])
    timeout = float(os.environ["CG_RESPONSE_TIMEOUT"])
    bound = 1.5 * timeout + 1.0
    known_usage()
    S3.put_object(Bucket="alpha", Key="seen", Body=b"x")
    times = []
    os.kill(redis, signal.SIGSTOP)
    try:
        for number in range(6):
            started = time.monotonic()
            status = outcome(lambda: S3.put_object(
                Bucket=BUCKET, Key=f"w{number}", Body=b"w" * 1024))
            times.append(time.monotonic() - started)
            # Quota'd writes fail closed.
            assert status[0] == 503, status
        # Rate limits fail open: a read of a bucket without a quota is served.
        started = time.monotonic()
        S3.get_object(Bucket="alpha", Key="seen")["Body"].read()
        times.append(time.monotonic() - started)
    finally:
        os.kill(redis, signal.SIGCONT)
    assert max(times) < bound, times
    # Once the breaker is open, requests answer at once.
    assert min(times) < 0.5, times
    # The gateway recovers by itself.
    deadline = time.time() + 15
    while outcome(lambda: S3.put_object(Bucket=BUCKET, Key="after", Body=b"a")) != (200, None):
        assert time.time() < deadline, "writes still refused 15 s after redis thawed"
        time.sleep(0.2)


def test_a_gateway_killed_mid_upload_leaves_no_reservation_past_its_lease():
    gateway_a = int(os.environ["CG_GATEWAY_PID"])
    known_usage()
    thread, _ = start_slow_upload(BUCKET, "doomed", b"d" * (15 * MIB), pieces=50, delay=0.3)
    wait_for(row_where(lambda r: r["reserved"] == 15 * MIB, ADMINS[1]),
             "the reservation seen by the other gateway")
    other = client_b()
    status = outcome(lambda: other.put_object(Bucket=BUCKET, Key="ten", Body=b"t" * (10 * MIB)))
    assert status == QUOTA_ERROR, status
    os.kill(gateway_a, signal.SIGKILL)
    thread.join(timeout=60)
    # The lease is 2 s: the dead gateway's bytes stop counting soon after.
    wait_for(row_where(lambda r: r["reserved"] == 0, ADMINS[1]), "the dead gateway's bytes dropped",
             timeout=10)
    other.put_object(Bucket=BUCKET, Key="fifteen", Body=b"f" * (15 * MIB))
    row = quota(ADMINS[1])
    assert row["used"] + row["reserved"] <= HARD, row


def test_a_write_that_lost_its_object_lock_has_its_bucket_scanned_again():
    redis = int(os.environ["CG_REDIS_PID"])
    known_usage()
    key = "contested"
    thread, result = start_slow_upload(BUCKET, key, b"s" * (15 * MIB), pieces=50, delay=0.3)
    try:
        wait_for(row_where(lambda r: r["reserved"] == 15 * MIB), "the slow upload's reservation")
        # Frozen past the lease: the object lock of the slow upload expires.
        os.kill(redis, signal.SIGSTOP)
        try:
            time.sleep(4.5)
        finally:
            os.kill(redis, signal.SIGCONT)
        # Meanwhile the other gateway writes the same key.
        other = client_b()
        deadline = time.time() + 15
        while outcome(lambda: other.put_object(Bucket=BUCKET, Key=key, Body=b"o" * MIB)) != (200, None):
            assert time.time() < deadline, "the other gateway kept refusing the write"
            time.sleep(0.2)
    finally:
        thread.join(timeout=60)
    assert result.get("status") == 200, result
    # Both writes read the same old size; the ledger does not trust either
    # count and scans the bucket again.
    expected = sum(o["Size"] for o in S3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
    for admin in ADMINS:
        wait_for(row_where(lambda r: (r["used"], r["reserved"]) == (expected, 0), admin),
                 f"usage {expected} on {admin}")
