"""One key, one meaning, on the s3 backend: keys with `.`, `..` or empty
segments (or backslashes) must never reach an upstream that could resolve
them to another key. Buckets `tone` (prefix `t1/`), `ttwo` (prefix `t2/`)
and `shared` (prefix `sh/`) live on one upstream bucket; the `scoped`
credential may use `tone` and, in `shared`, only keys under `alice/`.

Requests are sent raw (http.client normalises nothing) and signed with the
decoded path, which is what SigV4 for S3 signs."""
import base64
import hashlib
import http.client
import os
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import pytest

import sigv4
from conftest import client

ENDPOINT = urlparse(os.environ["CG_ENDPOINT"])
HOST = ENDPOINT.netloc
SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")
TESTER = (os.environ["CG_ACCESS_KEY"], os.environ["CG_SECRET_KEY"])
SECRET = b"ttwo's secret"
BOB = b"bob's own file"


def send(method, raw_path, signed_path=None, who=SCOPED, body=b"", headers=None, query=""):
    """Sends a request with the raw path as given, signed for `signed_path`
    (the decoded path, default: `raw_path`); returns (status, body)."""
    headers = dict(headers or {})
    payload = hashlib.sha256(body).hexdigest()
    signed = sigv4.sign(method, HOST, signed_path or raw_path, who[0], who[1],
                        query=query, headers=headers, payload_hash=payload)
    if body:
        signed["content-length"] = str(len(body))
    conn = http.client.HTTPConnection(ENDPOINT.hostname, ENDPOINT.port, timeout=30)
    try:
        target = raw_path + ("?" + query if query else "")
        conn.request(method, target, body=body or None, headers=signed)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def code(body):
    return ET.fromstring(body).findtext("Code")


@pytest.fixture(scope="module", autouse=True)
def objects():
    s3 = client()
    # `tone` holds an object, so its folder exists on a file-backed upstream.
    s3.put_object(Bucket="tone", Key="hello.txt", Body=b"hello")
    s3.put_object(Bucket="ttwo", Key="secret.txt", Body=SECRET)
    s3.put_object(Bucket="shared", Key="alice/notes.txt", Body=b"alice")
    s3.put_object(Bucket="shared", Key="bob/secret.txt", Body=BOB)
    return s3


def secret_is_intact(s3):
    assert s3.get_object(Bucket="ttwo", Key="secret.txt")["Body"].read() == SECRET
    assert s3.get_object(Bucket="shared", Key="bob/secret.txt")["Body"].read() == BOB


def test_the_policy_keeps_scoped_out_of_ttwo_and_bob():
    assert send("GET", "/ttwo/secret.txt")[0] == 403
    assert send("GET", "/shared/bob/secret.txt")[0] == 403
    status, body = send("GET", "/tone/hello.txt")
    assert (status, body) == (200, b"hello")


# Each raw path, with the decoded path it is signed for.
CROSSING = [
    ("/tone/../t2/secret.txt", None),
    ("/tone/%2E%2E/t2/secret.txt", "/tone/../t2/secret.txt"),
    ("/tone/.%2e/t2/secret.txt", "/tone/../t2/secret.txt"),
    ("/tone/x/../../t2/secret.txt", None),
]


@pytest.mark.parametrize("raw,signed", CROSSING)
def test_dot_segments_cannot_read_another_buckets_object(objects, raw, signed):
    status, body = send("GET", raw, signed)
    assert SECRET not in body
    assert (status, code(body)) == (400, "InvalidArgument"), body
    status, body = send("HEAD", raw, signed)
    assert status == 400


@pytest.mark.parametrize("raw,signed", CROSSING)
def test_dot_segments_cannot_delete_another_buckets_object(objects, raw, signed):
    status, body = send("DELETE", raw, signed)
    assert (status, code(body)) == (400, "InvalidArgument"), body
    secret_is_intact(objects)


@pytest.mark.parametrize("raw,signed", [
    ("/shared/alice/../bob/secret.txt", None),
    ("/shared/alice/%2e%2e/bob/secret.txt", "/shared/alice/../bob/secret.txt"),
])
def test_dot_segments_cannot_overwrite_outside_the_allowed_folder(objects, raw, signed):
    status, body = send("PUT", raw, signed, body=b"overwritten")
    assert (status, code(body)) == (400, "InvalidArgument"), body
    secret_is_intact(objects)
    # The multipart road is closed the same way.
    status, body = send("POST", raw, signed, query="uploads=")
    assert (status, code(body)) == (400, "InvalidArgument"), body


@pytest.mark.parametrize("source", ["/tone/../t2/secret.txt", "/tone/%2E%2E/t2/secret.txt",
                                    "tone/x/../../t2/secret.txt"])
def test_a_copy_source_cannot_cross_the_prefix(objects, source):
    status, body = send("PUT", "/tone/stolen.txt", headers={"x-amz-copy-source": source})
    assert (status, code(body)) == (400, "InvalidArgument"), body
    status, _ = send("GET", "/tone/stolen.txt")
    assert status == 404


def test_delete_objects_refuses_such_keys_one_by_one(objects):
    objects.put_object(Bucket="tone", Key="gone.txt", Body=b"x")
    doc = (b"<Delete><Object><Key>../t2/secret.txt</Key></Object>"
           b"<Object><Key>a//b</Key></Object><Object><Key>gone.txt</Key></Object></Delete>")
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()
    status, body = send("POST", "/tone", query="delete=", body=doc,
                        headers={"content-md5": md5})
    assert status == 200, body
    ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    root = ET.fromstring(body)
    errors = {e.findtext("s3:Key", namespaces=ns): e.findtext("s3:Code", namespaces=ns)
              for e in root.findall("s3:Error", ns)}
    deleted = [d.findtext("s3:Key", namespaces=ns) for d in root.findall("s3:Deleted", ns)]
    assert errors == {"../t2/secret.txt": "InvalidArgument", "a//b": "InvalidArgument"}
    assert deleted == ["gone.txt"]
    secret_is_intact(objects)


@pytest.mark.parametrize("raw,signed", [
    ("/tone//lead", None),
    ("/tone/a//b", None),
    ("/tone/a/./b", None),
    ("/tone/.", None),
    ("/tone/a%5Cb", "/tone/a\\b"),
])
def test_other_keys_an_upstream_may_rewrite_are_refused(raw, signed):
    status, body = send("PUT", raw, signed, who=TESTER, body=b"x")
    assert (status, code(body)) == (400, "InvalidArgument"), body
    assert b"segment" in body or b"backslash" in body


# An upstream that stores objects as files (s3s-fs) cannot hold `dir/`.
PATH_KEYS_ONLY = os.environ.get("CG_UPSTREAM_PATH_KEYS_ONLY") == "1"


def test_legitimate_keys_still_work(objects):
    keys = ["a/..b", "...", ".hidden", "%2E%2E", "x/y.z/w"]
    if not PATH_KEYS_ONLY:
        keys += ["dir/", "x/y.z/"]
    for key in keys:
        objects.put_object(Bucket="tone", Key=key, Body=key.encode())
        assert objects.get_object(Bucket="tone", Key=key)["Body"].read() == key.encode(), key
    listed = [o["Key"] for o in objects.list_objects_v2(Bucket="tone")["Contents"]]
    assert set(keys) <= set(listed)
    # A listing prefix with `..` is only a string to match, inside the prefix.
    crossing = objects.list_objects_v2(Bucket="tone", Prefix="../t2/")
    assert crossing.get("KeyCount") == 0
