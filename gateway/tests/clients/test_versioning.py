"""Object versioning end to end through the gateway with boto3: enable,
write versions, list them, read an old one, delete (a marker), read behind
the marker, delete the marker, copy and tag by version, suspend and the
`null` version; and the security rule: a principal allowed `s3:GetObject`
but not `s3:GetObjectVersion` cannot read a version by naming it.

CG_VERSIONED_BUCKET is a bucket whose storage keeps versions (its own
upstream bucket, or the fs backend); `scoped` may read and list it but is
refused `s3:GetObjectVersion`. CG_SCENARIO is `moto` or `fs` (moto loses
the versions a suspended bucket's write should keep, so only fs checks
them)."""
import os

import pytest
from botocore.exceptions import ClientError

from conftest import client

BUCKET = os.environ["CG_VERSIONED_BUCKET"]
SCENARIO = os.environ.get("CG_SCENARIO")
SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")


def refused(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["ResponseMetadata"]["HTTPHeaders"])


def test_versions_round_trip():
    s3 = client()
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"

    one = s3.put_object(Bucket=BUCKET, Key="doc", Body=b"one")["VersionId"]
    two = s3.put_object(Bucket=BUCKET, Key="doc", Body=b"two")["VersionId"]
    assert one and two and one != two and "null" not in (one, two)
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix="doc")
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == \
        [(two, True), (one, False)]
    assert "DeleteMarkers" not in listed

    old = s3.get_object(Bucket=BUCKET, Key="doc", VersionId=one)
    assert old["Body"].read() == b"one" and old["VersionId"] == one
    assert s3.head_object(Bucket=BUCKET, Key="doc")["VersionId"] == two

    deleted = s3.delete_object(Bucket=BUCKET, Key="doc")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    status, code, headers = refused(lambda: s3.get_object(Bucket=BUCKET, Key="doc"))
    assert (status, code) == (404, "NoSuchKey")
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker
    status, _, headers = refused(lambda: s3.head_object(Bucket=BUCKET, Key="doc"))
    assert status == 404 and headers["x-amz-delete-marker"] == "true"
    status, _, headers = refused(
        lambda: s3.head_object(Bucket=BUCKET, Key="doc", VersionId=marker))
    assert status == 405 and headers["x-amz-delete-marker"] == "true"
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix="doc")
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(marker, True)]
    assert all(not v["IsLatest"] for v in listed["Versions"])

    back = s3.delete_object(Bucket=BUCKET, Key="doc", VersionId=marker)
    assert back["VersionId"] == marker
    assert s3.get_object(Bucket=BUCKET, Key="doc")["Body"].read() == b"two"

    copied = s3.copy_object(Bucket=BUCKET, Key="restored",
                            CopySource={"Bucket": BUCKET, "Key": "doc", "VersionId": one})
    assert copied["CopySourceVersionId"] == one and copied["VersionId"]
    assert s3.get_object(Bucket=BUCKET, Key="restored")["Body"].read() == b"one"

    tagged = s3.put_object_tagging(Bucket=BUCKET, Key="doc", VersionId=one,
                                   Tagging={"TagSet": [{"Key": "v", "Value": "one"}]})
    assert tagged["VersionId"] == one
    assert s3.get_object_tagging(Bucket=BUCKET, Key="doc", VersionId=one)["TagSet"] == \
        [{"Key": "v", "Value": "one"}]
    assert s3.get_object_tagging(Bucket=BUCKET, Key="doc")["TagSet"] == []

    answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": "restored"}, {"Key": "doc", "VersionId": one}]})
    assert answer.get("Errors", []) == [], answer
    by_key = {d["Key"]: d for d in answer["Deleted"]}
    assert by_key["restored"]["DeleteMarker"] is True
    assert by_key["restored"]["DeleteMarkerVersionId"]
    assert by_key["doc"]["VersionId"] == one
    assert refused(lambda: s3.get_object(Bucket=BUCKET, Key="doc", VersionId=one))[1] == \
        "NoSuchVersion"

    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"
    s3.put_object(Bucket=BUCKET, Key="doc", Body=b"null one")
    s3.put_object(Bucket=BUCKET, Key="doc", Body=b"null two")
    null = s3.get_object(Bucket=BUCKET, Key="doc", VersionId="null")
    assert null["Body"].read() == b"null two"
    if SCENARIO == "fs":
        listed = s3.list_object_versions(Bucket=BUCKET, Prefix="doc")["Versions"]
        assert [(v["VersionId"], v["IsLatest"]) for v in listed] == [("null", True), (two, False)]
        assert s3.get_object(Bucket=BUCKET, Key="doc", VersionId=two)["Body"].read() == b"two"


def test_versioning_configurations_that_cannot_be_served_are_refused():
    s3 = client()
    status, code, _ = refused(lambda: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
        MFA="SERIAL 123456"))
    assert (status, code) == (501, "NotImplemented")
    status, code, _ = refused(lambda: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Sometimes"}))
    assert (status, code) == (400, "MalformedXML")


def test_get_object_without_get_object_version_reads_no_named_version():
    s3 = client()
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=BUCKET, Key="secret", Body=b"old secret")["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="secret", Body=b"current")
    scoped = client(*SCOPED)
    assert scoped.get_object(Bucket=BUCKET, Key="secret")["Body"].read() == b"current"
    for call in (scoped.get_object, scoped.head_object):
        status, code, _ = refused(lambda: call(Bucket=BUCKET, Key="secret", VersionId=old))
        assert status == 403 and code in ("AccessDenied", "403"), (status, code)
    status, code, _ = refused(lambda: scoped.copy_object(
        Bucket=BUCKET, Key="leak", CopySource={"Bucket": BUCKET, "Key": "secret",
                                               "VersionId": old}))
    assert (status, code) == (403, "AccessDenied")
    assert s3.get_object(Bucket=BUCKET, Key="secret", VersionId=old)["Body"].read() == \
        b"old secret"
