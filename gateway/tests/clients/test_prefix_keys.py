"""Keys that are also prefixes of other keys (`dir`, `dir/`, `dir/x`,
`dir/x/y`) coexist on the fs backend through the gateway, as on S3:
Hadoop-style and rclone directory markers work."""
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, client

KEYS = ["d", "d!", "d/", "d/x", "d/x/y", "d0", "d//z"]


@pytest.fixture
def base():
    s3 = client()
    prefix = f"prefix-keys-{uuid.uuid4().hex[:8]}/"
    yield prefix
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    for entry in listed:
        s3.delete_object(Bucket=BUCKET, Key=entry["Key"])


def relative(base, names):
    return [name[len(base):] for name in names]


def test_keys_and_their_prefixes_round_trip_and_list_in_s3_order(base):
    s3 = client()
    for key in reversed(KEYS):
        s3.put_object(Bucket=BUCKET, Key=base + key, Body=key.encode())
    for key in KEYS:
        body = s3.get_object(Bucket=BUCKET, Key=base + key)["Body"].read()
        assert body == key.encode(), key
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=base)
    assert relative(base, [o["Key"] for o in listed["Contents"]]) == sorted(KEYS)
    assert sorted(KEYS) == ["d", "d!", "d/", "d//z", "d/x", "d/x/y", "d0"]

    top = s3.list_objects_v2(Bucket=BUCKET, Prefix=base, Delimiter="/")
    assert relative(base, [o["Key"] for o in top["Contents"]]) == ["d", "d!", "d0"]
    assert relative(base, [p["Prefix"] for p in top["CommonPrefixes"]]) == ["d/"]

    inside = s3.list_objects_v2(Bucket=BUCKET, Prefix=base + "d/", Delimiter="/")
    assert relative(base, [o["Key"] for o in inside["Contents"]]) == ["d/", "d/x"]
    assert relative(base, [p["Prefix"] for p in inside["CommonPrefixes"]]) == ["d//", "d/x/"]

    after = s3.list_objects_v2(Bucket=BUCKET, Prefix=base, StartAfter=base + "d/")
    assert relative(base, [o["Key"] for o in after["Contents"]]) == ["d//z", "d/x", "d/x/y", "d0"]

    v1 = s3.list_objects(Bucket=BUCKET, Prefix=base, Delimiter="/", Marker=base + "d!")
    assert relative(base, [o["Key"] for o in v1["Contents"]]) == ["d0"]
    assert relative(base, [p["Prefix"] for p in v1["CommonPrefixes"]]) == ["d/"]


def test_pages_of_one_walk_every_key_in_order(base):
    s3 = client()
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=base + key, Body=b"")
    seen, token = [], None
    for _ in range(len(KEYS) + 1):
        extra = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=BUCKET, Prefix=base, MaxKeys=1, **extra)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert relative(base, seen) == sorted(KEYS)


def test_directory_markers_survive_deletes_around_them(base):
    s3 = client()
    s3.put_object(Bucket=BUCKET, Key=base + "dir/", Body=b"")
    s3.put_object(Bucket=BUCKET, Key=base + "dir/file", Body=b"content")
    s3.put_object(Bucket=BUCKET, Key=base + "dir", Body=b"object")
    s3.delete_object(Bucket=BUCKET, Key=base + "dir/file")
    assert s3.head_object(Bucket=BUCKET, Key=base + "dir/")["ContentLength"] == 0
    assert s3.get_object(Bucket=BUCKET, Key=base + "dir")["Body"].read() == b"object"
    s3.delete_object(Bucket=BUCKET, Key=base + "dir/")
    with pytest.raises(ClientError) as gone:
        s3.head_object(Bucket=BUCKET, Key=base + "dir/")
    assert gone.value.response["Error"]["Code"] == "404"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=base)
    assert relative(base, [o["Key"] for o in listed["Contents"]]) == ["dir"]


def test_copy_and_multipart_onto_a_key_under_an_object(base):
    s3 = client()
    s3.put_object(Bucket=BUCKET, Key=base + "obj", Body=b"source")
    s3.copy_object(Bucket=BUCKET, Key=base + "obj/copy",
                   CopySource={"Bucket": BUCKET, "Key": base + "obj"})
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=base + "obj/")
    part = s3.upload_part(Bucket=BUCKET, Key=base + "obj/", UploadId=upload["UploadId"],
                          PartNumber=1, Body=b"marker")
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=base + "obj/", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=BUCKET, Key=base + "obj/copy")["Body"].read() == b"source"
    assert s3.get_object(Bucket=BUCKET, Key=base + "obj/")["Body"].read() == b"marker"
    assert s3.get_object(Bucket=BUCKET, Key=base + "obj")["Body"].read() == b"source"
