"""Quota usage on a versioned upstream counts every stored version: a write
adds its version, a delete without a version adds a delete marker and frees
nothing, deleting a named version frees exactly its bytes. Bucket `vquota`
(hard cap 1 MiB) lives in the versioned upstream bucket `store` at
CG_UPSTREAM; driven by tests/security/quota.rs."""
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


def stored():
    """The bytes of every version under the bucket's prefix, as the upstream
    lists them."""
    listed = upstream().list_object_versions(Bucket="store", Prefix="vq/")
    return sum(v["Size"] for v in listed.get("Versions", []))


def put_versions(s3, key, sizes):
    """Puts `key` once per size; returns the version ids, oldest first."""
    return [s3.put_object(Bucket=BUCKET, Key=key, Body=b"v" * size)["VersionId"]
            for size in sizes]


def test_usage_counts_every_stored_version():
    upstream().put_bucket_versioning(
        Bucket="store", VersioningConfiguration={"Status": "Enabled"})
    s3 = client()
    assert used() == stored() == 0

    old, new = put_versions(s3, "a", [100_000, 200_000])
    assert used() == stored() == 300_000

    # A delete marker hides the key and frees nothing.
    marker = s3.delete_object(Bucket=BUCKET, Key="a")["VersionId"]
    assert used() == stored() == 300_000

    # Deleting a named version frees its bytes; deleting the marker none.
    s3.delete_object(Bucket=BUCKET, Key="a", VersionId=old)
    assert used() == stored() == 200_000
    s3.delete_object(Bucket=BUCKET, Key="a", VersionId=marker)
    assert used() == stored() == 200_000

    old_b, _ = put_versions(s3, "b", [50_000, 70_000])
    assert used() == stored() == 320_000
    answer = s3.delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": "b", "VersionId": old_b}, {"Key": "a"}]})
    assert answer.get("Errors", []) == [], answer
    assert used() == stored() == 270_000

    s3.delete_object(Bucket=BUCKET, Key="a", VersionId=new)
    assert used() == stored() == 70_000
