"""Attacks on what a decision sees: a multipart upload's reservation freed
through another key, a copy's size hidden from a size limit, stray
signature parameters dodging the anonymous rate limit, a governance bypass
on a versioned delete, and (on a versioned upstream) a named version's
tags. CG_SCENARIO is `fs` (buckets `alpha`, `beta` and `capped` on fs) or
`moto` (bucket `vers` on the versioned upstream bucket `store` at
CG_UPSTREAM); driven by tests/security/decisions.rs."""
import json
import os
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ENDPOINT, client

SCENARIO = os.environ.get("CG_SCENARIO")
fs_only = pytest.mark.skipif(SCENARIO != "fs", reason="fs backend scenario")
moto_only = pytest.mark.skipif(SCENARIO != "moto", reason="versioned upstream scenario")


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def reserved(bucket):
    rows = json.loads(urllib.request.urlopen(os.environ["CG_ADMIN"] + "/quotas", timeout=10).read())
    return {row["bucket"]: row for row in rows}[bucket]["reserved"]


@fs_only
def test_an_upload_id_used_with_another_key_frees_none_of_its_parts():
    s3 = client()
    upload = s3.create_multipart_upload(Bucket="capped", Key="k")["UploadId"]
    s3.upload_part(Bucket="capped", Key="k", UploadId=upload, PartNumber=1, Body=b"p" * 200_000)
    assert reserved("capped") == 200_000
    assert error_of(lambda: s3.abort_multipart_upload(
        Bucket="capped", Key="other", UploadId=upload))[1] == "NoSuchUpload"
    assert error_of(lambda: s3.complete_multipart_upload(
        Bucket="capped", Key="other", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "x"}]}))[0] in (400, 404)
    assert reserved("capped") == 200_000, "another key's answer freed the parts"
    # The cap (300,000) still counts the parts: this write would overflow it.
    assert error_of(lambda: s3.put_object(
        Bucket="capped", Key="big", Body=b"b" * 200_000))[1] == "EntityTooLarge"
    s3.abort_multipart_upload(Bucket="capped", Key="k", UploadId=upload)
    assert reserved("capped") == 0


@fs_only
def test_a_copy_is_decided_on_the_bytes_it_writes():
    s3 = client()
    s3.put_object(Bucket="alpha", Key="large", Body=b"x" * 2000)
    s3.put_object(Bucket="alpha", Key="small", Body=b"x" * 10)
    assert error_of(lambda: s3.put_object(
        Bucket="beta", Key="direct", Body=b"x" * 2000)) == (403, "AccessDenied")
    assert error_of(lambda: s3.copy_object(
        Bucket="beta", Key="copied", CopySource={"Bucket": "alpha", "Key": "large"})) \
        == (403, "AccessDenied")
    s3.copy_object(Bucket="beta", Key="copied", CopySource={"Bucket": "alpha", "Key": "small"})
    upload = s3.create_multipart_upload(Bucket="beta", Key="parts")["UploadId"]
    assert error_of(lambda: s3.upload_part_copy(
        Bucket="beta", Key="parts", UploadId=upload, PartNumber=1,
        CopySource={"Bucket": "alpha", "Key": "large"})) == (403, "AccessDenied")
    s3.abort_multipart_upload(Bucket="beta", Key="parts", UploadId=upload)


@fs_only
def test_stray_signature_parameters_do_not_dodge_the_anonymous_rate_limit():
    client().put_object(Bucket="beta", Key="public.txt", Body=b"hello")
    statuses = []
    for _ in range(8):
        url = f"{ENDPOINT}/beta/public.txt?X-Amz-Signature=x&X-Amz-Credential=y"
        try:
            statuses.append(urllib.request.urlopen(url, timeout=10).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    assert 429 in statuses, statuses
    assert statuses.count(200) <= 2, statuses


@fs_only
def test_a_versioned_delete_decides_a_governance_bypass():
    s3 = client()
    s3.put_object(Bucket="alpha", Key="held", Body=b"x")
    assert error_of(lambda: s3.delete_object(
        Bucket="alpha", Key="held", VersionId="null",
        BypassGovernanceRetention=True)) == (403, "AccessDenied")
    assert s3.get_object(Bucket="alpha", Key="held")["Body"].read() == b"x"
    s3.delete_object(Bucket="alpha", Key="held", VersionId="null")


def upstream():
    return boto3.client(
        "s3", endpoint_url=os.environ.get("CG_UPSTREAM"), region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(s3={"addressing_style": "path"}))


@moto_only
def test_a_named_version_is_decided_on_its_own_tags():
    upstream().put_bucket_versioning(
        Bucket="store", VersioningConfiguration={"Status": "Enabled"})
    s3 = client()
    secret = s3.put_object(Bucket="vers", Key="doc", Body=b"secret",
                           Tagging="classification=secret&legal-hold=yes")["VersionId"]
    public = s3.put_object(Bucket="vers", Key="doc", Body=b"public")["VersionId"]
    assert s3.get_object(Bucket="vers", Key="doc")["Body"].read() == b"public"
    assert error_of(lambda: s3.get_object(
        Bucket="vers", Key="doc", VersionId=secret)) == (403, "AccessDenied")
    answer = s3.delete_objects(
        Bucket="vers", Delete={"Objects": [{"Key": "doc", "VersionId": secret}]})
    assert [e["Code"] for e in answer.get("Errors", [])] == ["AccessDenied"], answer
    assert error_of(lambda: s3.delete_object(
        Bucket="vers", Key="doc", VersionId=secret)) == (403, "AccessDenied")
    assert len(upstream().list_object_versions(Bucket="store", Prefix="doc")["Versions"]) == 2
    # Once the current version is the secret one, an older public version
    # still reads: each version is decided on its own tags.
    s3.put_object(Bucket="vers", Key="doc", Body=b"new secret", Tagging="classification=secret")
    assert error_of(lambda: s3.get_object(Bucket="vers", Key="doc")) == (403, "AccessDenied")
    assert s3.get_object(Bucket="vers", Key="doc", VersionId=public)["Body"].read() == b"public"


@moto_only
def test_a_copy_keeping_its_source_tags_stores_no_other_tags():
    s3 = client()
    s3.put_object(Bucket="vers", Key="src", Body=b"s", Tagging="team=red")
    s3.copy_object(
        Bucket="vers", Key="dst", CopySource={"Bucket": "vers", "Key": "src"},
        MetadataDirective="REPLACE", TaggingDirective="COPY",
        Tagging="team=blue", ContentType="text/plain")
    tags = upstream().get_object_tagging(Bucket="store", Key="dst")["TagSet"]
    assert tags == [{"Key": "team", "Value": "red"}], tags
