"""Moving a bucket from one backend to another changes nothing a client sees.

Phase `record` (CG_SWITCH_PHASE): writes a fixed set of objects to `alpha`,
records what a client observes of them (listings, heads, ranges,
conditionals, errors), copies every object to `beta` (served by another
backend) and checks that `beta` looks the same. Phase `compare`: the
gateway now serves `alpha` from the other backend; what a client observes
must equal the recording (CG_SWITCH_FILE).
"""
import json
import os

import pytest
from botocore.exceptions import ClientError

from conftest import client

PHASE = os.environ.get("CG_SWITCH_PHASE")
RECORDING = os.environ.get("CG_SWITCH_FILE")
MiB = 1024 * 1024
PART = 5 * MiB

SMALL = {
    "plain.txt": (b"hello, world\n", {}),
    "dir/a.csv": (b"a,b\n1,2\n", {"ContentType": "text/csv", "Metadata": {"owner": "ann"}}),
    "dir/b.bin": (bytes(range(256)) * 40, {"ContentDisposition": "attachment"}),
    "dir/sub/deep key with spaces+plus.txt": (b"odd", {"CacheControl": "max-age=60"}),
    "unicodé/ключ.txt": (b"unicode", {"ContentLanguage": "fr"}),
    "trailing/": (b"", {}),
}
MULTIPART_KEY = "big/multipart.bin"
MULTIPART_BODY = bytes(range(251)) * ((2 * PART + 12345) // 251)


pytestmark = pytest.mark.skipif(PHASE is None, reason="run by the backend-switch test")


def write(s3, bucket):
    for key, (body, extra) in SMALL.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
    upload = s3.create_multipart_upload(Bucket=bucket, Key=MULTIPART_KEY,
                                        ContentType="application/x-test")["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(MULTIPART_BODY), PART), start=1):
        etag = s3.upload_part(Bucket=bucket, Key=MULTIPART_KEY, UploadId=upload, PartNumber=number,
                              Body=MULTIPART_BODY[start:start + PART])["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key=MULTIPART_KEY, UploadId=upload,
                                 MultipartUpload={"Parts": parts})


def error_of(call, **kwargs):
    try:
        response = call(**kwargs)
    except ClientError as error:
        return [error.response["ResponseMetadata"]["HTTPStatusCode"],
                error.response["Error"].get("Code")]
    return ["no error", sorted(k for k in response if k != "ResponseMetadata")]


def observe(s3, bucket):
    """Everything a client can see of the bucket, without timestamps."""
    seen = {}
    pages, token = [], None
    while True:
        kwargs = {"Bucket": bucket, "MaxKeys": 2}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        pages.append([[o["Key"], o["Size"], o["ETag"]] for o in page.get("Contents", [])])
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    seen["list_v2_pages"] = pages
    folders = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="dir/")
    seen["list_v2_delimited"] = [[o["Key"] for o in folders.get("Contents", [])],
                                 [p["Prefix"] for p in folders.get("CommonPrefixes", [])]]
    v1 = s3.list_objects(Bucket=bucket, Marker="dir/", MaxKeys=3)
    seen["list_v1"] = [[o["Key"] for o in v1.get("Contents", [])], v1["IsTruncated"]]
    heads = {}
    for key in list(SMALL) + [MULTIPART_KEY]:
        head = s3.head_object(Bucket=bucket, Key=key)
        heads[key] = {name: head.get(name) for name in (
            "ContentLength", "ETag", "ContentType", "Metadata", "ContentDisposition",
            "CacheControl", "ContentLanguage")}
    seen["heads"] = heads
    body = s3.get_object(Bucket=bucket, Key=MULTIPART_KEY, Range="bytes=5242870-5242889")
    seen["range"] = [body["ContentRange"], body["Body"].read().hex()]
    tail = s3.get_object(Bucket=bucket, Key="dir/b.bin", Range="bytes=-7")
    seen["suffix_range"] = [tail["ContentRange"], tail["Body"].read().hex()]
    etag = heads["plain.txt"]["ETag"]
    seen["if_none_match"] = error_of(s3.get_object, Bucket=bucket, Key="plain.txt", IfNoneMatch=etag)
    seen["if_match_wrong"] = error_of(s3.get_object, Bucket=bucket, Key="plain.txt",
                                      IfMatch='"00000000000000000000000000000000"')
    seen["bad_range"] = error_of(s3.get_object, Bucket=bucket, Key="plain.txt", Range="bytes=100-200")
    seen["missing"] = error_of(s3.get_object, Bucket=bucket, Key="no/such/key")
    seen["parts"] = error_of(s3.list_parts, Bucket=bucket, Key=MULTIPART_KEY, UploadId="nope")
    whole = s3.get_object(Bucket=bucket, Key=MULTIPART_KEY)["Body"].read()
    seen["multipart_intact"] = whole == MULTIPART_BODY
    for key, (data, _) in SMALL.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data, key
    return seen


def copy(s3, source, destination):
    """Copies every object as an operator would: same bodies, same
    headers, multipart objects with the same part size."""
    for key, (body, extra) in SMALL.items():
        head = s3.head_object(Bucket=source, Key=key)
        data = s3.get_object(Bucket=source, Key=key)["Body"].read()
        assert data == body
        s3.put_object(Bucket=destination, Key=key, Body=data, **extra)
        assert s3.head_object(Bucket=destination, Key=key)["ETag"] == head["ETag"]
    data = s3.get_object(Bucket=source, Key=MULTIPART_KEY)["Body"].read()
    upload = s3.create_multipart_upload(Bucket=destination, Key=MULTIPART_KEY,
                                        ContentType="application/x-test")["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), PART), start=1):
        etag = s3.upload_part(Bucket=destination, Key=MULTIPART_KEY, UploadId=upload,
                              PartNumber=number, Body=data[start:start + PART])["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    s3.complete_multipart_upload(Bucket=destination, Key=MULTIPART_KEY, UploadId=upload,
                                 MultipartUpload={"Parts": parts})


def test_the_bucket_looks_the_same_on_either_backend():
    s3 = client()
    if PHASE == "record":
        write(s3, "alpha")
        recorded = observe(s3, "alpha")
        assert recorded["multipart_intact"]
        assert recorded["heads"][MULTIPART_KEY]["ETag"].endswith('-3"')
        copy(s3, "alpha", "beta")
        assert observe(s3, "beta") == recorded
        with open(RECORDING, "w") as out:
            json.dump(recorded, out)
    else:
        with open(RECORDING) as recording:
            recorded = json.load(recording)
        assert observe(s3, "alpha") == recorded
