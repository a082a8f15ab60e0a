"""Storage headers (server-side encryption, storage class): passed to an
upstream that honours them and returned on reads; refused with
NotImplemented by the filesystem backend, never silently dropped. (Tags
are stored by every backend: see test_buckets.py.)
CG_STORAGE says which backend serves `alpha` (`fs` or `s3`)."""
import os

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET

STORAGE = os.environ.get("CG_STORAGE", "fs")


def test_defaults_are_accepted_everywhere(s3, prefix):
    s3.put_object(Bucket=BUCKET, Key=prefix + "std", Body=b"x", StorageClass="STANDARD", ACL="private")
    head = s3.head_object(Bucket=BUCKET, Key=prefix + "std")
    assert head["ContentLength"] == 1
    assert head.get("StorageClass") in (None, "STANDARD")


@pytest.mark.skipif(STORAGE != "s3", reason="only an S3 upstream stores these")
def test_an_s3_upstream_stores_and_returns_them(s3, prefix):
    key = prefix + "sse"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"secret", ServerSideEncryption="AES256",
                  StorageClass="STANDARD_IA", Tagging="team=blue&tier=2")
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["StorageClass"] == "STANDARD_IA"
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == b"secret"
    assert got["ServerSideEncryption"] == "AES256"
    assert got.get("TagCount") == 2
    # Multipart uploads carry them too.
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key + "-mp", StorageClass="STANDARD_IA")
    etag = s3.upload_part(Bucket=BUCKET, Key=key + "-mp", UploadId=upload["UploadId"],
                          PartNumber=1, Body=b"p")["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key + "-mp", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.head_object(Bucket=BUCKET, Key=key + "-mp")["StorageClass"] == "STANDARD_IA"


@pytest.mark.skipif(STORAGE != "fs", reason="the filesystem backend cannot honour them")
@pytest.mark.parametrize("extra", [
    {"ServerSideEncryption": "aws:kms"},
    {"ServerSideEncryption": "AES256"},
    {"StorageClass": "GLACIER"},
])
def test_the_filesystem_refuses_what_it_cannot_honour(s3, prefix, extra):
    key = prefix + "refused"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", **extra)
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=BUCKET, Key=key)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32}


@pytest.mark.skipif(STORAGE != "fs", reason="the filesystem backend holds no SSE-C objects")
def test_reading_with_a_customer_key_is_refused_by_the_filesystem(s3, prefix):
    s3.put_object(Bucket=BUCKET, Key=prefix + "plain", Body=b"x")
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as refused:
            call(Bucket=BUCKET, Key=prefix + "plain", **SSE_C)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


@pytest.mark.skipif(STORAGE != "gcs", reason="only Cloud Storage lacks UploadPartCopy")
def test_what_cloud_storage_lacks_is_not_implemented(s3, prefix):
    s3.put_object(Bucket=BUCKET, Key=prefix + "src", Body=b"source")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=prefix + "dst")["UploadId"]
    with pytest.raises(ClientError) as refused:
        s3.upload_part_copy(Bucket=BUCKET, Key=prefix + "dst", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": BUCKET, "Key": prefix + "src"})
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    s3.abort_multipart_upload(Bucket=BUCKET, Key=prefix + "dst", UploadId=upload)


@pytest.mark.skipif(STORAGE == "gcs", reason="checked against fs and an S3 upstream")
def test_non_ascii_metadata_comes_back_as_sent(s3, prefix):
    """boto3 sends header text as UTF-8 and reads answers as ISO-8859-1:
    `é` must come back as the byte 0xE9; text ISO-8859-1 cannot carry comes
    back RFC 2047 encoded."""
    key = prefix + "unicode-meta"

    def set_headers(params, **_):
        params["headers"]["x-amz-meta-meta1"] = "Hello World\xe9"
        params["headers"]["x-amz-meta-meta2"] = "\u65e5\u672c"

    s3.meta.events.register("before-call.s3.PutObject", set_headers)
    try:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"bar")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", set_headers)
    for answer in (s3.get_object(Bucket=BUCKET, Key=key), s3.head_object(Bucket=BUCKET, Key=key)):
        assert answer["Metadata"] == {"meta1": "Hello World\xe9", "meta2": "=?UTF-8?B?5pel5pys?="}
