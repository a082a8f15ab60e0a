"""Quota usage on a versioned upstream: deleting a named version changes
usage by what the key stores afterwards (its current version), never by the
size of whatever version happened to be current before. Bucket `vquota` (hard
cap 1 MiB) lives in the versioned upstream bucket `store` at CG_UPSTREAM;
driven by tests/security/quota.rs."""
import json
import os
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

from conftest import client

BUCKET = "vquota"


def upstream():
    return boto3.client(
        "s3", endpoint_url=os.environ["CG_UPSTREAM"], region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(s3={"addressing_style": "path"}))


def used():
    deadline = time.time() + 15
    while time.time() < deadline:
        rows = json.loads(urllib.request.urlopen(
            os.environ["CG_ADMIN"] + "/quotas", timeout=10).read())
        row = {r["bucket"]: r for r in rows}[BUCKET]
        if row["used"] is not None:
            assert row["reserved"] == 0, row
            return row["used"]
        time.sleep(0.1)
    pytest.fail("usage still unknown")


def stored(s3):
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sum(o["Size"] for o in listed)


def put_versions(s3, key, sizes):
    """Puts `key` once per size; returns the version ids, oldest first (read
    from the upstream, under the bucket's prefix)."""
    ids = []
    for size in sizes:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"v" * size)
        listed = upstream().list_object_versions(Bucket="store", Prefix="vq/" + key)
        [latest] = [v["VersionId"] for v in listed.get("Versions", [])
                    if v["Key"] == "vq/" + key and v["IsLatest"]]
        ids.append(latest)
    return ids


def test_deleting_named_versions_keeps_usage_equal_to_what_is_stored():
    upstream().put_bucket_versioning(
        Bucket="store", VersioningConfiguration={"Status": "Enabled"})
    s3 = client()
    assert used() == stored(s3) == 0

    old, _ = put_versions(s3, "a", [100_000, 200_000])
    assert used() == stored(s3) == 200_000

    # A version that is not the current one frees nothing that counts.
    s3.delete_object(Bucket=BUCKET, Key="a", VersionId=old)
    assert used() == stored(s3) == 200_000

    old_b, _ = put_versions(s3, "b", [50_000, 70_000])
    answer = s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "b", "VersionId": old_b}]})
    assert answer.get("Errors", []) == [], answer
    assert used() == stored(s3) == 270_000

    # Deleting the current version makes the previous one current again.
    [newest_b] = put_versions(s3, "b", [10_000])
    assert used() == stored(s3) == 210_000
    s3.delete_object(Bucket=BUCKET, Key="b", VersionId=newest_b)
    assert used() == stored(s3) == 270_000

    # Without a version a delete marker hides the key: it no longer counts.
    s3.delete_object(Bucket=BUCKET, Key="a")
    assert used() == stored(s3)
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "b"}]})
    assert used() == stored(s3) == 0
