"""Bucket lifecycle, versions of unversioned buckets, object tags and tag
policies, with boto3 against a real gateway.

The gateway serves `alpha` and `beta` from config, `gamma` from config on
the backend bucket `store` (so `store` is reserved), and routes every other
name to its default route (CG_STORAGE says whether that is the filesystem
backend or an S3 upstream). The policies let `tester` do everything but
read objects tagged `classification=secret` or write ones tagged
`classification=forbidden`; `scoped` may only read and list.
"""
import os
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, BUCKET, ENDPOINT, SECRET_KEY, client

STORAGE = os.environ.get("CG_STORAGE", "fs")
SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def fresh_bucket():
    return "made-" + uuid.uuid4().hex[:12]


# Bucket lifecycle


def test_a_bucket_is_created_used_listed_and_deleted(s3):
    name = fresh_bucket()
    created = s3.create_bucket(Bucket=name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert created["Location"] == "/" + name
    s3.head_bucket(Bucket=name)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name in names and BUCKET in names and "gamma" in names
    assert "store" not in names, "a configured bucket's storage is not listed under its own name"
    assert names == sorted(names)
    s3.put_object(Bucket=name, Key="dir/file", Body=b"content")
    assert s3.get_object(Bucket=name, Key="dir/file")["Body"].read() == b"content"
    assert error_of(s3.delete_bucket, Bucket=name) == ("BucketNotEmpty", 409)
    assert s3.get_object(Bucket=name, Key="dir/file")["Body"].read() == b"content"
    s3.delete_object(Bucket=name, Key="dir/file")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.head_bucket, Bucket=name)[1] == 404
    assert error_of(s3.list_objects_v2, Bucket=name) == ("NoSuchBucket", 404)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets_without_max_buckets_is_one_page(s3):
    made = [fresh_bucket() for _ in range(3)]
    for name in made:
        s3.create_bucket(Bucket=name)
    try:
        listed = s3.list_buckets()
        names = [b["Name"] for b in listed["Buckets"]]
        assert "ContinuationToken" not in listed
        assert set(made) | {BUCKET, "gamma"} <= set(names)
        paged = s3.list_buckets(MaxBuckets=1)
        assert len(paged["Buckets"]) == 1 and "ContinuationToken" in paged
    finally:
        for name in made:
            s3.delete_bucket(Bucket=name)


def test_get_object_torrent_answers_no_such_key(s3, prefix):
    s3.put_object(Bucket=BUCKET, Key=prefix + "seed", Body=b"content")
    assert error_of(s3.get_object_torrent, Bucket=BUCKET, Key=prefix + "seed") == \
        ("NoSuchKey", 404)
    assert error_of(s3.get_object_torrent, Bucket="no-such-bucket-here", Key="x")[1] == 404


def test_creating_an_existing_bucket_is_refused(s3):
    name = fresh_bucket()
    s3.create_bucket(Bucket=name)
    assert error_of(s3.create_bucket, Bucket=name) == ("BucketAlreadyOwnedByYou", 409)
    assert error_of(s3.create_bucket, Bucket=BUCKET) == ("BucketAlreadyOwnedByYou", 409)
    s3.delete_bucket(Bucket=name)


def test_a_name_reaching_a_configured_buckets_storage_is_not_available(s3):
    assert error_of(s3.create_bucket, Bucket="store") == ("BucketAlreadyExists", 409)
    assert error_of(s3.list_objects_v2, Bucket="store") == ("NoSuchBucket", 404)
    assert error_of(s3.put_object, Bucket="store", Key="x", Body=b"x") == ("NoSuchBucket", 404)


@pytest.mark.parametrize("name", ["ab", "Upper-Case", "under_score", "a" * 64, "192.168.1.1",
                                  "double..dot", "xn--reserved", "-leading"])
def test_names_breaking_s3_rules_are_invalid(s3, name):
    assert error_of(s3.create_bucket, Bucket=name) == ("InvalidBucketName", 400)


def test_configured_buckets_can_never_be_deleted(s3):
    assert error_of(s3.delete_bucket, Bucket="beta") == ("AccessDenied", 403)
    s3.head_bucket(Bucket="beta")


def test_creating_and_deleting_buckets_is_decided_by_policy(s3):
    scoped = client(*SCOPED)
    assert error_of(scoped.create_bucket, Bucket=fresh_bucket()) == ("AccessDenied", 403)
    name = fresh_bucket()
    s3.create_bucket(Bucket=name)
    assert error_of(scoped.delete_bucket, Bucket=name) == ("AccessDenied", 403)
    s3.head_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)


def test_create_bucket_takes_a_location_and_a_canned_acl(s3):
    name = fresh_bucket()
    s3.create_bucket(Bucket=name, ACL="private",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.delete_bucket(Bucket=name)
    name = fresh_bucket()
    s3.create_bucket(Bucket=name, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=name)["Grants"]
    assert grants[1:] == [{"Grantee": {"Type": "Group",
                                       "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                           "Permission": "READ"}], grants
    s3.delete_bucket(Bucket=name)
    code, status = error_of(s3.create_bucket, Bucket=fresh_bucket(), GrantRead='id="someone"')
    assert (code, status) == ("NotImplemented", 501)


def test_a_bucket_left_for_the_restart(s3):
    s3.create_bucket(Bucket="survives-restart")
    s3.put_object(Bucket="survives-restart", Key="kept", Body=b"still here")


# Versions of an unversioned bucket


def test_versioning_was_never_enabled(s3):
    answer = s3.get_bucket_versioning(Bucket=BUCKET)
    assert "Status" not in answer
    assert error_of(s3.get_bucket_versioning, Bucket=fresh_bucket()) == ("NoSuchBucket", 404)


def test_every_object_is_its_one_null_version(s3, prefix):
    for key in ("a", "b/1", "b/2", "c"):
        s3.put_object(Bucket=BUCKET, Key=prefix + key, Body=key.encode())
    page = s3.list_object_versions(Bucket=BUCKET, Prefix=prefix, Delimiter="/", MaxKeys=2)
    assert [v["Key"] for v in page["Versions"]] == [prefix + "a"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == [prefix + "b/"]
    version = page["Versions"][0]
    assert version["VersionId"] == "null" and version["IsLatest"] is True
    assert version["Size"] == 1 and version["ETag"].startswith('"')
    assert page["IsTruncated"] is True
    rest = s3.list_object_versions(Bucket=BUCKET, Prefix=prefix, Delimiter="/", MaxKeys=2,
                                   KeyMarker=page["NextKeyMarker"],
                                   VersionIdMarker=page.get("NextVersionIdMarker", ""))
    assert [v["Key"] for v in rest["Versions"]] == [prefix + "c"]
    assert rest["IsTruncated"] is False
    everything = s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=prefix)
    keys = [v["Key"] for page in everything for v in page.get("Versions", [])]
    assert keys == [prefix + k for k in ("a", "b/1", "b/2", "c")]
    assert "DeleteMarkers" not in rest


def test_version_null_reads_and_deletes_the_object(s3, prefix):
    key = prefix + "v"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"versioned")
    got = s3.get_object(Bucket=BUCKET, Key=key, VersionId="null")
    assert got["Body"].read() == b"versioned"
    assert got["VersionId"] == "null"
    if STORAGE == "fs":
        assert s3.head_object(Bucket=BUCKET, Key=key, VersionId="null")["ContentLength"] == 9
        code, status = error_of(s3.get_object, Bucket=BUCKET, Key=key, VersionId="3HL4kqtJlcpXroDTDmJ")
        assert (code, status) == ("InvalidArgument", 400)
    s3.delete_object(Bucket=BUCKET, Key=key, VersionId="null")
    assert error_of(s3.get_object, Bucket=BUCKET, Key=key) == ("NoSuchKey", 404)


# Object tags


def tag_set(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs.items()]}


def tags_of(s3, key, bucket=BUCKET):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def test_tags_are_set_read_replaced_and_removed(s3, prefix):
    key = prefix + "tagged"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"tagged", Tagging="project=blue&team=data%20eng")
    assert tags_of(s3, key) == {"project": "blue", "team": "data eng"}
    assert s3.get_object(Bucket=BUCKET, Key=key)["TagCount"] == 2
    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=tag_set({"state": "final"}))
    assert tags_of(s3, key) == {"state": "final"}
    assert s3.head_object(Bucket=BUCKET, Key=key)["ETag"] == etag
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"tagged"
    deleted = s3.delete_object_tagging(Bucket=BUCKET, Key=key)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, key) == {}
    assert "TagCount" not in s3.get_object(Bucket=BUCKET, Key=key)


def test_copies_keep_or_replace_tags(s3, prefix):
    source = prefix + "source"
    s3.put_object(Bucket=BUCKET, Key=source, Body=b"s", Tagging="origin=source")
    s3.copy_object(Bucket=BUCKET, Key=prefix + "kept", CopySource={"Bucket": BUCKET, "Key": source})
    assert tags_of(s3, prefix + "kept") == {"origin": "source"}
    s3.copy_object(Bucket=BUCKET, Key=prefix + "replaced",
                   CopySource={"Bucket": BUCKET, "Key": source},
                   TaggingDirective="REPLACE", Tagging="origin=copy&extra=1")
    assert tags_of(s3, prefix + "replaced") == {"origin": "copy", "extra": "1"}
    s3.copy_object(Bucket=BUCKET, Key=prefix + "cleared",
                   CopySource={"Bucket": BUCKET, "Key": source}, TaggingDirective="REPLACE")
    assert tags_of(s3, prefix + "cleared") == {}


def test_multipart_uploads_carry_their_tags(s3, prefix):
    key = prefix + "multipart"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Tagging="kind=big")
    etag = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
                          PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert tags_of(s3, key) == {"kind": "big"}


@pytest.mark.parametrize("tagging", [
    "&".join(f"k{i}=v" for i in range(11)),
    "a=1&a=2",
    "k=" + "v" * 257,
    "aws:reserved=1",
    "k=%3Cbad%3E",
])
def test_tags_breaking_s3_rules_are_refused_and_nothing_is_written(s3, prefix, tagging):
    key = prefix + "refused"
    assert error_of(s3.put_object, Bucket=BUCKET, Key=key, Body=b"x", Tagging=tagging) == \
        ("InvalidTag", 400)
    assert error_of(s3.head_object, Bucket=BUCKET, Key=key)[1] == 404


def test_bad_tag_documents_are_refused(s3, prefix):
    key = prefix + "doc"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", Tagging="keep=me")
    duplicate = {"TagSet": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}
    assert error_of(s3.put_object_tagging, Bucket=BUCKET, Key=key, Tagging=duplicate) == \
        ("InvalidTag", 400)
    assert tags_of(s3, key) == {"keep": "me"}
    assert error_of(s3.put_object_tagging, Bucket=BUCKET, Key=prefix + "missing",
                    Tagging=tag_set({"a": "1"})) == ("NoSuchKey", 404)
    assert error_of(s3.get_object_tagging, Bucket=BUCKET, Key=prefix + "missing") == \
        ("NoSuchKey", 404)


def test_a_malformed_tag_document_is_malformed_xml(s3, prefix):
    import urllib.parse
    import urllib.request

    import sigv4
    key = prefix + "raw"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    host = urllib.parse.urlsplit(ENDPOINT).netloc
    path = f"/{BUCKET}/{key}"
    headers = sigv4.sign("PUT", host, path, ACCESS_KEY, SECRET_KEY, query="tagging=")
    request = urllib.request.Request(f"{ENDPOINT}{path}?tagging=", method="PUT", headers=headers,
                                     data=b"<Tagging><TagSet><Tag><Key>a</Key>")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert b"<Code>MalformedXML</Code>" in refused.value.read()


# Tags seen by Cedar policies


def test_policies_read_stored_object_tags(s3, prefix):
    key = prefix + "classified"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"top secret", Tagging="classification=secret")
    assert error_of(s3.get_object, Bucket=BUCKET, Key=key) == ("AccessDenied", 403)
    s3.head_object(Bucket=BUCKET, Key=key)
    s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=tag_set({"classification": "public"}))
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"top secret"
    copy = prefix + "copied"
    s3.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=tag_set({"classification": "secret"}))
    assert error_of(s3.copy_object, Bucket=BUCKET, Key=copy,
                    CopySource={"Bucket": BUCKET, "Key": key}) == ("AccessDenied", 403)
    assert error_of(s3.head_object, Bucket=BUCKET, Key=copy)[1] == 404


def test_a_copy_onto_itself_cannot_retag_a_secret_object(s3, prefix):
    key = prefix + "self"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"secret", Tagging="classification=secret")
    code = error_of(s3.copy_object, Bucket=BUCKET, Key=key,
                    CopySource={"Bucket": BUCKET, "Key": key}, MetadataDirective="REPLACE",
                    TaggingDirective="REPLACE", Tagging="classification=public")
    assert code == ("AccessDenied", 403)
    assert tags_of(s3, key) == {"classification": "secret"}


def test_deletes_of_held_objects_are_refused_one_by_one_and_in_batches(s3, prefix):
    held, free = prefix + "held", prefix + "free"
    s3.put_object(Bucket=BUCKET, Key=held, Body=b"h", Tagging="legal-hold=2027")
    s3.put_object(Bucket=BUCKET, Key=free, Body=b"f")
    assert error_of(s3.delete_object, Bucket=BUCKET, Key=held) == ("AccessDenied", 403)
    answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": held}, {"Key": free}]})
    assert [d["Key"] for d in answer.get("Deleted", [])] == [free]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [(held, "AccessDenied")]
    assert s3.get_object(Bucket=BUCKET, Key=held)["Body"].read() == b"h"
    s3.delete_object_tagging(Bucket=BUCKET, Key=held)
    s3.delete_object(Bucket=BUCKET, Key=held)


def test_policies_read_the_tags_a_write_sets(s3, prefix):
    key = prefix + "write"
    assert error_of(s3.put_object, Bucket=BUCKET, Key=key, Body=b"x",
                    Tagging="classification=forbidden") == ("AccessDenied", 403)
    assert error_of(s3.head_object, Bucket=BUCKET, Key=key)[1] == 404
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", Tagging="classification=open")
    assert error_of(s3.create_multipart_upload, Bucket=BUCKET, Key=key + "-mp",
                    Tagging="classification=forbidden") == ("AccessDenied", 403)


# ACL headers on writes


def test_writes_take_canned_acls_only(s3, prefix):
    s3.put_object(Bucket=BUCKET, Key=prefix + "private", Body=b"x", ACL="private")
    s3.put_object(Bucket=BUCKET, Key=prefix + "public", Body=b"x", ACL="public-read")
    grants = s3.get_object_acl(Bucket=BUCKET, Key=prefix + "public")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL", "READ"], grants
    assert error_of(s3.put_object, Bucket=BUCKET, Key=prefix + "invalid", Body=b"x",
                    ACL="public") == ("InvalidArgument", 400)
    assert error_of(s3.head_object, Bucket=BUCKET, Key=prefix + "invalid")[1] == 404
    assert error_of(s3.put_object, Bucket=BUCKET, Key=prefix + "granted", Body=b"x",
                    GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"') == \
        ("NotImplemented", 501)
