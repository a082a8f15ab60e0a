"""ACLs as tools see them: every bucket and object reads as owned with
FULL_CONTROL; setting `private` succeeds, any other grant is refused with
NotImplemented, since access is decided by the gateway's policies (the
501's message is the generic 5xx one, as every 5xx's is)."""
import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET


def owner_full_control(acl):
    assert acl["Owner"]["ID"] == "cedargate"
    assert acl["Grants"] == [{
        "Grantee": {"ID": "cedargate", "DisplayName": "cedargate", "Type": "CanonicalUser"},
        "Permission": "FULL_CONTROL",
    }]


def test_buckets_and_objects_read_as_owner_full_control(s3, prefix):
    owner_full_control(s3.get_bucket_acl(Bucket=BUCKET))
    s3.put_object(Bucket=BUCKET, Key=prefix + "acl", Body=b"x")
    owner_full_control(s3.get_object_acl(Bucket=BUCKET, Key=prefix + "acl"))
    with pytest.raises(ClientError) as missing:
        s3.get_object_acl(Bucket=BUCKET, Key=prefix + "no-such-key")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(ClientError) as no_bucket:
        s3.get_bucket_acl(Bucket="no-such-bucket-here")
    assert no_bucket.value.response["Error"]["Code"] == "NoSuchBucket"


def test_private_is_accepted_and_other_grants_are_refused(s3, prefix):
    s3.put_object(Bucket=BUCKET, Key=prefix + "acl", Body=b"x")
    s3.put_object_acl(Bucket=BUCKET, Key=prefix + "acl", ACL="private")
    s3.put_bucket_acl(Bucket=BUCKET, ACL="private")
    for call in (
        lambda: s3.put_object_acl(Bucket=BUCKET, Key=prefix + "acl", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket=BUCKET, ACL="authenticated-read"),
        lambda: s3.put_object_acl(Bucket=BUCKET, Key=prefix + "acl", GrantRead='id="someone"'),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "NotImplemented"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    with pytest.raises(ClientError) as missing:
        s3.put_object_acl(Bucket=BUCKET, Key=prefix + "none", ACL="private")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    # The object is untouched.
    assert s3.get_object(Bucket=BUCKET, Key=prefix + "acl")["Body"].read() == b"x"
