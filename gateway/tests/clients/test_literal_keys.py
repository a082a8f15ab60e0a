"""The fs backend stores keys literally: `a/../b` is its own object, not
`b`, and never a path outside the bucket's directory."""
import os

import pytest
from botocore.exceptions import ClientError

from conftest import DATA_DIR, client
from test_key_segments import TESTER, send

KEYS = {
    # raw path: (key, decoded path to sign)
    "/alpha/lit/a/../b": ("lit/a/../b", None),
    "/alpha/lit/x/%2E%2E": ("lit/x/..", "/alpha/lit/x/.."),
    "/alpha/lit/./c": ("lit/./c", None),
    "/alpha/lit//d": ("lit//d", None),
}


@pytest.mark.parametrize("raw", KEYS)
def test_dot_segment_keys_round_trip_as_themselves(raw):
    key, signed = KEYS[raw]
    status, body = send("PUT", raw, signed, who=TESTER, body=key.encode())
    assert status == 200, body
    assert send("GET", raw, signed, who=TESTER) == (200, key.encode())
    s3 = client()
    assert s3.get_object(Bucket="alpha", Key=key)["Body"].read() == key.encode()


def test_they_are_distinct_objects_listed_as_sent_and_stay_inside():
    s3 = client()
    for raw in KEYS:
        key, signed = KEYS[raw]
        send("PUT", raw, signed, who=TESTER, body=key.encode())
    with pytest.raises(ClientError):
        s3.head_object(Bucket="alpha", Key="lit/b")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="alpha", Prefix="lit/")["Contents"]]
    assert sorted(listed) == sorted(key for key, _ in KEYS.values())
    for root, _dirs, files in os.walk(DATA_DIR):
        for name in files:
            path = os.path.realpath(os.path.join(root, name))
            assert path.startswith(os.path.realpath(DATA_DIR)), path
    answer = s3.delete_objects(Bucket="alpha", Delete={"Objects": [{"Key": "lit/a/../b"}]})
    assert [d["Key"] for d in answer["Deleted"]] == ["lit/a/../b"]
    with pytest.raises(ClientError):
        s3.head_object(Bucket="alpha", Key="lit/a/../b")
    assert s3.get_object(Bucket="alpha", Key="lit/./c")["Body"].read() == b"lit/./c"
