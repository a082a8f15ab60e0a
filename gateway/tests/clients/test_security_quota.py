"""Attacks on bucket quotas: requests racing on one key to make the ledger
free or count bytes more than once, and uploads past a hard cap with no
quota policy in the policy directory.

Driven by tests/security/quota.rs, which starts the gateway(s): one with
the embedded store, or two sharing a Redis server and one fs data
directory (CG_ENDPOINT_B / CG_ADMIN_B name the second).
"""
import concurrent.futures
import json
import os
import time
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY

ENDPOINTS = [ENDPOINT, os.environ.get("CG_ENDPOINT_B", ENDPOINT)]
ADMINS = [os.environ["CG_ADMIN"], os.environ.get("CG_ADMIN_B", os.environ["CG_ADMIN"])]
MIB = 1024 * 1024
# EntityTooLarge is 507 in the documented error profile, 400 in the aws one.
QUOTA_ERROR = (int(os.environ.get("CG_QUOTA_STATUS", "507")), "EntityTooLarge")
RACERS = 60


def client_for(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"},
                      connect_timeout=5, read_timeout=60,
                      max_pool_connections=RACERS + 4))


CLIENTS = [client_for(endpoint) for endpoint in ENDPOINTS]


def quota(bucket, admin=ADMINS[0]):
    rows = json.loads(urllib.request.urlopen(admin + "/quotas", timeout=10).read())
    return {row["bucket"]: row for row in rows}[bucket]


def wait_for_known_usage(bucket, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(quota(bucket, admin)["used"] is not None for admin in ADMINS):
            return
        time.sleep(0.1)
    pytest.fail(f"usage of {bucket} still unknown after {timeout} s")


def stored(bucket):
    """The bytes a listing shows in `bucket`."""
    pages = CLIENTS[0].get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(o["Size"] for page in pages for o in page.get("Contents", []))


def assert_ledger_matches_listing(bucket):
    """Every gateway's `used` is the bytes stored, nothing stays reserved."""
    expected = stored(bucket)
    for admin in ADMINS:
        row = quota(bucket, admin)
        assert (row["used"], row["reserved"]) == (expected, 0), (row, expected)
    return expected


def outcome(call):
    """(status, code) of a call; (200, None) on success."""
    try:
        call()
        return 200, None
    except botocore.exceptions.ClientError as error:
        response = error.response
        return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def race(actions):
    """Runs every `(client index, call)` at once; their outcomes."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(actions)) as pool:
        futures = [pool.submit(outcome, lambda c=call, s=CLIENTS[i % 2]: c(s))
                   for i, call in enumerate(actions)]
        return [future.result(timeout=120) for future in futures]


def put(key, size, bucket):
    return lambda s3: s3.put_object(Bucket=bucket, Key=key, Body=b"p" * size)


def delete(key, bucket):
    return lambda s3: s3.delete_object(Bucket=bucket, Key=key)


# --- concurrent deletes ----------------------------------------------------

def test_concurrent_deletes_free_an_object_once():
    bucket = "tight"
    wait_for_known_usage(bucket)
    s3 = CLIENTS[0]
    s3.put_object(Bucket=bucket, Key="keeper", Body=b"k" * 500_000)
    s3.put_object(Bucket=bucket, Key="victim", Body=b"v" * 200_000)
    assert quota(bucket)["used"] == 700_000
    results = race([delete("victim", bucket)] * RACERS)
    assert set(results) == {(200, None)}, results
    assert assert_ledger_matches_listing(bucket) == 500_000
    # The freed-twice bytes would let a 1 MiB upload through: it must not.
    status = outcome(lambda: s3.put_object(Bucket=bucket, Key="big", Body=b"b" * MIB))
    assert status == QUOTA_ERROR, status
    assert assert_ledger_matches_listing(bucket) == 500_000


def test_repeated_and_concurrent_delete_objects_free_each_key_once():
    bucket = "tight"
    wait_for_known_usage(bucket)
    s3 = CLIENTS[0]
    s3.put_object(Bucket=bucket, Key="victim", Body=b"v" * 200_000)
    assert_ledger_matches_listing(bucket)
    # One request naming the key many times, raced by plain deletes.
    many = {"Objects": [{"Key": "victim"}] * 50}
    batch = lambda s3: s3.delete_objects(Bucket=bucket, Delete=many)
    results = race([batch, delete("victim", bucket)] * (RACERS // 2))
    assert all(status == (200, None) for status in results), results
    assert assert_ledger_matches_listing(bucket) == 500_000


# --- concurrent overwrites -------------------------------------------------

def size_of(i):
    """Mixed sizes, 1 byte to about 190 KB, none twice in a row."""
    return 1 + (i * 7919) % 190_000


def test_concurrent_overwrites_count_the_stored_size_once():
    bucket = "roomy"
    wait_for_known_usage(bucket)
    CLIENTS[0].put_object(Bucket=bucket, Key="hot", Body=b"h" * 100_000)
    results = race([put("hot", size_of(i), bucket) for i in range(RACERS)])
    assert set(results) == {(200, None)}, results
    assert_ledger_matches_listing(bucket)
    assert CLIENTS[0].head_object(Bucket=bucket, Key="hot")["ContentLength"] in {
        size_of(i) for i in range(RACERS)}


def test_overwrites_copies_and_deletes_racing_on_one_key_keep_usage_exact():
    bucket = "roomy"
    wait_for_known_usage(bucket)
    s3 = CLIENTS[0]
    s3.put_object(Bucket=bucket, Key="source", Body=b"s" * 150_000)
    copy = lambda s3: s3.copy_object(
        Bucket=bucket, Key="contested", CopySource={"Bucket": bucket, "Key": "source"})
    batch = lambda s3: s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "contested"}, {"Key": "contested"}]})
    actions = []
    for i in range(RACERS):
        actions.append([put("contested", size_of(i), bucket), delete("contested", bucket),
                        copy, batch][i % 4])
    results = race(actions)
    assert all(status == (200, None) for status in results), results
    assert_ledger_matches_listing(bucket)
    # Once more, ending on puts of known sizes: the ledger follows exactly.
    race([put("contested", size_of(i), bucket) for i in range(10)])
    assert_ledger_matches_listing(bucket)


def test_a_multipart_completion_racing_overwrites_and_deletes_keeps_usage_exact():
    bucket = "roomy"
    wait_for_known_usage(bucket)
    s3 = CLIENTS[0]
    uploads = []
    for _ in range(4):
        upload = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
        etag = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=1,
                              Body=b"m" * 300_000)["ETag"]
        uploads.append((upload, etag))

    def complete(upload, etag):
        return lambda s3: s3.complete_multipart_upload(
            Bucket=bucket, Key="assembled", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})

    actions = [complete(*u) for u in uploads]
    for i in range(RACERS - len(actions)):
        actions.append(put("assembled", size_of(i), bucket) if i % 2 else delete("assembled", bucket))
    results = race(actions)
    assert all(status == (200, None) for status in results), results
    assert_ledger_matches_listing(bucket)


# --- hard caps without a quota policy ---------------------------------------

def test_a_hard_cap_holds_with_no_quota_policy_in_the_directory():
    bucket = "capped60"
    wait_for_known_usage(bucket)
    s3 = CLIENTS[0]
    s3.put_object(Bucket=bucket, Key="fifty", Body=b"f" * (50 * MIB))
    assert quota(bucket)["used"] == 50 * MIB
    # A single 50 MiB PUT would take the bucket to 100 MiB.
    status = outcome(lambda: s3.put_object(Bucket=bucket, Key="more", Body=b"m" * (50 * MIB)))
    assert status == QUOTA_ERROR, status
    # The same bytes as a multipart upload: parts stop at the cap.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="more")["UploadId"]
    refused = None
    for number in range(1, 11):
        status = outcome(lambda: s3.upload_part(
            Bucket=bucket, Key="more", UploadId=upload, PartNumber=number, Body=b"m" * (5 * MIB)))
        if status != (200, None):
            refused = (number, status)
            break
    assert refused == (3, QUOTA_ERROR), refused
    s3.abort_multipart_upload(Bucket=bucket, Key="more", UploadId=upload)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["fifty"], keys
    row = quota(bucket)
    assert (row["used"], row["reserved"]) == (50 * MIB, 0), row
