"""ACLs as tools see them: every bucket and object reads as owned with
FULL_CONTROL; setting `private` succeeds (as a canned ACL, or as the
owner-FULL_CONTROL document that GetObjectAcl answered, which s3cmd sends
back after every copy), any other grant is refused with
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



def test_the_owner_full_control_document_is_accepted_and_other_documents_are_refused(s3, prefix):
    key = prefix + "acl-document"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    read = s3.get_object_acl(Bucket=BUCKET, Key=key)
    private = {"Owner": read["Owner"], "Grants": read["Grants"]}
    s3.put_object_acl(Bucket=BUCKET, Key=key, AccessControlPolicy=private)
    s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=private)
    public = {"Owner": read["Owner"], "Grants": read["Grants"] + [{
        "Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
        "Permission": "READ",
    }]}
    someone_else = {"Owner": read["Owner"], "Grants": [{
        "Grantee": {"Type": "CanonicalUser", "ID": "someone-else"},
        "Permission": "FULL_CONTROL",
    }]}
    for call in (
        lambda: s3.put_object_acl(Bucket=BUCKET, Key=key, AccessControlPolicy=public),
        lambda: s3.put_object_acl(Bucket=BUCKET, Key=key, AccessControlPolicy=someone_else),
        lambda: s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=public),
        # A canned ACL beside a document: not the plain private ACL.
        lambda: s3.put_object_acl(Bucket=BUCKET, Key=key, ACL="private", AccessControlPolicy=private),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "NotImplemented"
    with pytest.raises(ClientError) as missing:
        s3.put_object_acl(Bucket=BUCKET, Key=prefix + "none", AccessControlPolicy=private)
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
