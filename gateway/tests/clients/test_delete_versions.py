"""DeleteObjects with `<VersionId>` means what DeleteObject with
`?versionId=` means, and is decided as it is: `s3:DeleteObjectVersion`
besides `s3:DeleteObject`. CG_SCENARIO says which gateway runs: `fs` (bucket
`alpha` on the fs backend; `scoped` may do anything there but
DeleteObjectVersion) or `moto` (bucket `tone` under the prefix `t1/` of
the versioned upstream bucket `store` at CG_UPSTREAM)."""
import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import client

SCENARIO = os.environ.get("CG_SCENARIO")
SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")
fs_only = pytest.mark.skipif(SCENARIO != "fs", reason="fs backend scenario")
moto_only = pytest.mark.skipif(SCENARIO != "moto", reason="versioned upstream scenario")


def delete_objects(s3, bucket, objects):
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    errors = {(e["Key"], e.get("VersionId")): e["Code"] for e in answer.get("Errors", [])}
    deleted = [(d["Key"], d.get("VersionId")) for d in answer.get("Deleted", [])]
    return deleted, errors


def exists(s3, bucket, key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("404", "NoSuchKey"), e.response
        return False


@fs_only
def test_fs_a_bogus_version_deletes_nothing_and_null_deletes():
    s3 = client()
    s3.put_object(Bucket="alpha", Key="dv/kept", Body=b"x")
    s3.put_object(Bucket="alpha", Key="dv/gone", Body=b"x")
    s3.put_object(Bucket="alpha", Key="dv/plain", Body=b"x")
    deleted, errors = delete_objects(s3, "alpha", [
        {"Key": "dv/kept", "VersionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"},
        {"Key": "dv/gone", "VersionId": "null"},
        {"Key": "dv/plain"},
    ])
    assert errors == {("dv/kept", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"): "InvalidArgument"}
    assert sorted(deleted) == [("dv/gone", "null"), ("dv/plain", None)]
    assert exists(s3, "alpha", "dv/kept")
    assert not exists(s3, "alpha", "dv/gone")
    # The same as DeleteObject with the same version ids.
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="alpha", Key="dv/kept", VersionId="bogus")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    assert exists(s3, "alpha", "dv/kept")


@fs_only
def test_fs_a_forbid_on_delete_object_version_holds_for_both_calls():
    tester = client()
    scoped = client(*SCOPED)
    for key in ["pv/a", "pv/b", "pv/c", "pv/d"]:
        tester.put_object(Bucket="alpha", Key=key, Body=b"x")
    deleted, errors = delete_objects(scoped, "alpha", [
        {"Key": "pv/a", "VersionId": "null"}, {"Key": "pv/b"}])
    assert errors == {("pv/a", "null"): "AccessDenied"}
    assert deleted == [("pv/b", None)]
    assert exists(tester, "alpha", "pv/a")
    with pytest.raises(ClientError) as e:
        scoped.delete_object(Bucket="alpha", Key="pv/c", VersionId="null")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert exists(tester, "alpha", "pv/c")
    # Unversioned deletes are still allowed.
    scoped.delete_object(Bucket="alpha", Key="pv/d")
    assert not exists(tester, "alpha", "pv/d")


@fs_only
def test_fs_a_forbid_on_delete_object_holds_for_delete_objects():
    tester = client()
    scoped = client(*SCOPED)
    tester.put_object(Bucket="alpha", Key="keep/x", Body=b"x")
    deleted, errors = delete_objects(scoped, "alpha", [{"Key": "keep/x"}])
    assert errors == {("keep/x", None): "AccessDenied"} and deleted == []
    assert exists(tester, "alpha", "keep/x")


def upstream():
    return boto3.client(
        "s3", endpoint_url=os.environ.get("CG_UPSTREAM"), region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(s3={"addressing_style": "path"}))


def versions(key):
    listed = upstream().list_object_versions(Bucket="store", Prefix="t1/" + key)
    return ([v["VersionId"] for v in listed.get("Versions", [])],
            listed.get("DeleteMarkers", []))


@moto_only
def test_moto_delete_objects_deletes_exactly_the_named_version():
    upstream().put_bucket_versioning(
        Bucket="store", VersioningConfiguration={"Status": "Enabled"})
    s3 = client()
    for body in [b"one", b"two"]:
        s3.put_object(Bucket="tone", Key="v.txt", Body=body)
    ids, markers = versions("v.txt")
    assert len(ids) == 2 and markers == []
    old = [i for i in ids if upstream().get_object(
        Bucket="store", Key="t1/v.txt", VersionId=i)["Body"].read() == b"one"][0]
    deleted, errors = delete_objects(s3, "tone", [{"Key": "v.txt", "VersionId": old}])
    assert errors == {} and deleted == [("v.txt", old)]
    remaining, markers = versions("v.txt")
    assert remaining == [i for i in ids if i != old]
    assert markers == [], "a delete marker was added instead"
    assert s3.get_object(Bucket="tone", Key="v.txt")["Body"].read() == b"two"
    # Without a version, a delete marker is what S3 adds.
    assert delete_objects(s3, "tone", [{"Key": "v.txt"}])[1] == {}
    assert len(versions("v.txt")[1]) == 1
