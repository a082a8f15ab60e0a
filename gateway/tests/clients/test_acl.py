"""Canned ACLs as data, decided by policy. Buckets and objects keep the
canned ACL a write or PutObjectAcl / PutBucketAcl set (`x-amz-acl`, or the
AccessControlPolicy GetObjectAcl answers for one) and GetObjectAcl /
GetBucketAcl answer it as S3 does; grants to named accounts are refused
with NotImplemented. The gateway's policies (e2e.rs) let the tester do
everything, let anonymous callers read the objects of `alpha` whose ACL is
`public-read` (as policies/examples/public-acl does), and let `scoped`
write to `alpha` without s3:PutObjectAcl."""
import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import BUCKET, client

SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
OWNER_GRANT = {
    "Grantee": {"ID": "cedargate", "DisplayName": "cedargate", "Type": "CanonicalUser"},
    "Permission": "FULL_CONTROL",
}


def group(uri, permission):
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


# The grants S3 answers for each canned ACL, beside the owner's FULL_CONTROL
# (one owner here: the bucket owner's and EC2's grants are the owner's).
OBJECT_ACLS = {
    "private": [],
    "public-read": [group(ALL_USERS, "READ")],
    "public-read-write": [group(ALL_USERS, "READ"), group(ALL_USERS, "WRITE")],
    "authenticated-read": [group(AUTHENTICATED_USERS, "READ")],
    "aws-exec-read": [],
    "bucket-owner-read": [],
    "bucket-owner-full-control": [],
}
BUCKET_ACLS = {
    "public-read": [group(ALL_USERS, "READ")],
    "log-delivery-write": [group(LOG_DELIVERY, "WRITE"), group(LOG_DELIVERY, "READ_ACP")],
    "bucket-owner-read": [],
    "private": [],
}


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    response = refused.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def grants(acl):
    assert acl["Owner"]["ID"] == "cedargate"
    assert acl["Grants"][0] == OWNER_GRANT, acl["Grants"]
    return acl["Grants"][1:]


@pytest.fixture(scope="module")
def anonymous():
    return client(signature_version=UNSIGNED)


@pytest.fixture(scope="module")
def scoped():
    return client(*SCOPED)


@pytest.mark.parametrize("acl", sorted(OBJECT_ACLS))
def test_object_acls_read_back_as_s3_answers_them(s3, prefix, acl):
    key = prefix + "object"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", ACL=acl)
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == OBJECT_ACLS[acl]
    # The ACL is never sent back as a header of the object.
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert "x-amz-acl" not in head["ResponseMetadata"]["HTTPHeaders"]
    s3.put_object_acl(Bucket=BUCKET, Key=key, ACL="private")
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == []
    s3.put_object_acl(Bucket=BUCKET, Key=key, ACL=acl)
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == OBJECT_ACLS[acl]


def test_bucket_acls_read_back_and_buckets_take_their_own(s3):
    try:
        for acl, expected in BUCKET_ACLS.items():
            s3.put_bucket_acl(Bucket=BUCKET, ACL=acl)
            assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == expected, acl
    finally:
        s3.put_bucket_acl(Bucket=BUCKET, ACL="private")
    name = "acl-" + __import__("uuid").uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ACL="public-read")
    try:
        assert grants(s3.get_bucket_acl(Bucket=name)) == [group(ALL_USERS, "READ")]
    finally:
        s3.delete_bucket(Bucket=name)


def test_the_document_get_object_acl_answers_can_be_put_back(s3, prefix):
    public, private = prefix + "public", prefix + "private"
    s3.put_object(Bucket=BUCKET, Key=public, Body=b"x", ACL="public-read")
    s3.put_object(Bucket=BUCKET, Key=private, Body=b"x")
    read = s3.get_object_acl(Bucket=BUCKET, Key=public)
    document = {"Owner": read["Owner"], "Grants": read["Grants"]}
    s3.put_object_acl(Bucket=BUCKET, Key=private, AccessControlPolicy=document)
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=private)) == OBJECT_ACLS["public-read"]
    s3.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=document)
    try:
        assert grants(s3.get_bucket_acl(Bucket=BUCKET)) == BUCKET_ACLS["public-read"]
    finally:
        s3.put_bucket_acl(Bucket=BUCKET, ACL="private")


def test_grants_to_named_accounts_are_not_implemented(s3, prefix):
    key = prefix + "object"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    owner = s3.get_object_acl(Bucket=BUCKET, Key=key)["Owner"]
    someone_else = {"Owner": owner, "Grants": [OWNER_GRANT, {
        "Grantee": {"Type": "CanonicalUser", "ID": "someone-else"}, "Permission": "READ"}]}
    for call, kwargs in (
        (s3.put_object, dict(Key=prefix + "granted", Body=b"x", GrantRead='id="someone"')),
        (s3.put_object_acl, dict(Key=key, GrantFullControl='id="someone"')),
        (s3.put_object_acl, dict(Key=key, AccessControlPolicy=someone_else)),
        (s3.put_bucket_acl, dict(GrantRead='uri="%s"' % ALL_USERS)),
    ):
        assert error_of(call, Bucket=BUCKET, **kwargs) == ("NotImplemented", 501)
    assert error_of(s3.head_object, Bucket=BUCKET, Key=prefix + "granted")[1] == 404
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == []
    assert error_of(s3.get_object_acl, Bucket=BUCKET, Key=prefix + "none") == ("NoSuchKey", 404)
    assert error_of(s3.put_object_acl, Bucket=BUCKET, Key=prefix + "none",
                    ACL="public-read") == ("NoSuchKey", 404)


def test_anonymous_reads_only_the_objects_marked_public_read(s3, anonymous, prefix):
    public, private = prefix + "public", prefix + "private"
    s3.put_object(Bucket=BUCKET, Key=public, Body=b"for everyone", ACL="public-read")
    s3.put_object(Bucket=BUCKET, Key=private, Body=b"for us")
    assert anonymous.get_object(Bucket=BUCKET, Key=public)["Body"].read() == b"for everyone"
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=private) == ("AccessDenied", 403)
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=prefix + "none") == \
        ("AccessDenied", 403)
    # The stored ACL decides: changing it changes who may read.
    s3.put_object_acl(Bucket=BUCKET, Key=public, ACL="private")
    s3.put_object_acl(Bucket=BUCKET, Key=private, ACL="public-read")
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=public) == ("AccessDenied", 403)
    assert anonymous.get_object(Bucket=BUCKET, Key=private)["Body"].read() == b"for us"
    # A copy takes the ACL it sets, never its source's.
    source = {"Bucket": BUCKET, "Key": private}
    s3.copy_object(Bucket=BUCKET, Key=prefix + "copy", CopySource=source)
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=prefix + "copy") == \
        ("AccessDenied", 403)
    s3.copy_object(Bucket=BUCKET, Key=prefix + "copy", CopySource=source, ACL="public-read")
    assert anonymous.get_object(Bucket=BUCKET, Key=prefix + "copy")["Body"].read() == b"for us"
    # A multipart upload's ACL applies at completion.
    key = prefix + "multipart"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ACL="public-read")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=b"parts")
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert anonymous.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"parts"
    # Anonymous callers still cannot read or set ACLs themselves.
    assert error_of(anonymous.get_object_acl, Bucket=BUCKET, Key=key)[1] == 403
    assert error_of(anonymous.put_object_acl, Bucket=BUCKET, Key=prefix + "copy",
                    ACL="private")[1] == 403


def test_setting_an_acl_needs_put_object_acl(s3, scoped, anonymous, prefix):
    key = prefix + "scoped"
    for call, kwargs in (
        (scoped.put_object, dict(Key=key, Body=b"x", ACL="public-read")),
        (scoped.put_object, dict(Key=key, Body=b"x", ACL="private")),
        (scoped.create_multipart_upload, dict(Key=key, ACL="public-read")),
    ):
        with pytest.raises(ClientError) as refused:
            call(Bucket=BUCKET, **kwargs)
        error = refused.value.response["Error"]
        assert error["Code"] == "AccessDenied" and "PutObjectAcl" in error["Message"], error
    assert error_of(s3.head_object, Bucket=BUCKET, Key=key)[1] == 404
    assert s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", []) == []
    scoped.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    assert error_of(scoped.put_object_acl, Bucket=BUCKET, Key=key,
                    ACL="public-read") == ("AccessDenied", 403)
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == []
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=key)[1] == 403


def send_twice(method, key, query, first, second, body=b""):
    """Sends a request signed by the tester with two `x-amz-acl` headers
    (signed as S3 canonicalizes them: the values joined by a comma);
    returns (status, S3 error code)."""
    import http.client
    import re
    import urllib.parse

    import sigv4
    from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY

    url = urllib.parse.urlsplit(ENDPOINT)
    path = f"/{BUCKET}/{key}"
    headers = sigv4.sign(method, url.netloc, path, ACCESS_KEY, SECRET_KEY, query=query,
                         headers={"x-amz-acl": f"{first},{second}",
                                  "content-length": str(len(body))})
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    connection.putrequest(method, path + ("?" + query if query else ""), skip_host=True,
                          skip_accept_encoding=True)
    for name, value in headers.items():
        if name == "x-amz-acl":
            connection.putheader(name, first)
            connection.putheader(name, second)
        else:
            connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    code = re.search(r"<Code>([^<]*)</Code>", text)
    return response.status, code.group(1) if code else None


def test_the_acl_decided_on_is_the_acl_stored(s3, anonymous, prefix):
    key = prefix + "attack"
    # Two x-amz-acl headers: whichever one policies read, the store could
    # take the other, so the request is refused and nothing is stored.
    assert send_twice("PUT", key, "", "private", "public-read", b"x") == (400, "InvalidArgument")
    assert error_of(s3.head_object, Bucket=BUCKET, Key=key)[1] == 404
    # Names are exact: another case, a list or padding is no canned ACL.
    for value in ("Public-Read", "PUBLIC-READ", "public-read,private", "public-read private"):
        assert error_of(s3.put_object, Bucket=BUCKET, Key=key, Body=b"x", ACL=value) == \
            ("InvalidArgument", 400), value
        assert error_of(s3.head_object, Bucket=BUCKET, Key=key)[1] == 404
    assert error_of(s3.create_bucket, Bucket="acl-invalid-value", ACL="Public-Read") == \
        ("InvalidArgument", 400)
    # An ACL in both the header and the body of PutObjectAcl is refused,
    # leaving the stored one.
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    public = {"Owner": {"ID": "cedargate"}, "Grants": [OWNER_GRANT, group(ALL_USERS, "READ")]}
    assert error_of(s3.put_object_acl, Bucket=BUCKET, Key=key, ACL="private",
                    AccessControlPolicy=public)[1] == 400
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == []
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=key)[1] == 403
    # Two headers on PutObjectAcl: refused, the stored ACL unchanged.
    assert send_twice("PUT", key, "acl=", "private", "public-read") == (400, "InvalidArgument")
    assert grants(s3.get_object_acl(Bucket=BUCKET, Key=key)) == []
    assert error_of(anonymous.get_object, Bucket=BUCKET, Key=key)[1] == 403


def test_bucket_tags_are_kept_and_none_is_no_such_tag_set(s3):
    assert error_of(s3.get_bucket_tagging, Bucket=BUCKET) == ("NoSuchTagSet", 404)
    tags = [{"Key": "team", "Value": "data eng"}, {"Key": "cost", "Value": "42"}]
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tags})
    try:
        stored = s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]
        assert sorted(stored, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    finally:
        s3.delete_bucket_tagging(Bucket=BUCKET)
    assert error_of(s3.get_bucket_tagging, Bucket=BUCKET) == ("NoSuchTagSet", 404)
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(s3.put_bucket_tagging, Bucket=BUCKET,
                    Tagging={"TagSet": too_many}) == ("InvalidTag", 400)


def test_a_copy_of_a_named_version_is_not_decided_on_the_current_acl(s3, scoped, prefix):
    """`scoped` may read `versioned-acls` objects marked public-read. The
    ACL read before a decision is the current version's, so a copy source
    naming an older (private) version is refused, never decided on the
    current one's public-read."""
    bucket = "versioned-acls"
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = prefix + "k"
    old = s3.put_object(Bucket=bucket, Key=key, Body=b"private draft")["VersionId"]
    s3.put_object(Bucket=bucket, Key=key, Body=b"published", ACL="public-read")
    copied = scoped.copy_object(Bucket=BUCKET, Key=prefix + "current",
                                CopySource={"Bucket": bucket, "Key": key})
    assert copied["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=BUCKET, Key=prefix + "current")["Body"].read() == b"published"
    assert error_of(scoped.copy_object, Bucket=BUCKET, Key=prefix + "draft",
                    CopySource={"Bucket": bucket, "Key": key, "VersionId": old}) == \
        ("AccessDenied", 403)
    assert error_of(s3.head_object, Bucket=BUCKET, Key=prefix + "draft")[1] == 404
