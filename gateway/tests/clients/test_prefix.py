"""A bucket under a key prefix of another: `gamma` lives in alpha's backend
bucket under `tenants/gamma/` (tests/e2e.rs configures it).

Every response to a gamma request is captured through botocore's
`after-call` event (status, headers and, unless streamed, the body) and
checked after each test: the prefix must never show, not even
percent-encoded or inside a base64 continuation token.
"""
import base64
import hashlib
import os
import urllib.parse

import pytest
import urllib3
from botocore.exceptions import ClientError

import sigv4
from conftest import ACCESS_KEY, DATA_DIR, ENDPOINT, SECRET_KEY, client

GAMMA = "gamma"
ALPHA = "alpha"
TENANT = "tenants/gamma/"
MIB = 1024 * 1024
HTTP = urllib3.PoolManager(retries=False, timeout=10)

SEEN = []


def _capture(http_response, model, **_kwargs):
    streamed = model.has_streaming_output and http_response.status_code < 300
    body = b"" if streamed else http_response.content
    SEEN.append((model.name, http_response.status_code, dict(http_response.headers), body))


@pytest.fixture(scope="module")
def g():
    """A client used for gamma requests only; it records every response."""
    gamma = client()
    gamma.meta.events.register("after-call.s3", _capture)
    return gamma


@pytest.fixture(scope="module")
def a():
    return client()


def leaks(text):
    lowered = text.lower()
    return "tenants" in lowered or "tenants%2f" in lowered


@pytest.fixture(autouse=True)
def nothing_reveals_the_prefix():
    SEEN.clear()
    yield
    for operation, status, headers, body in SEEN:
        for name, value in headers.items():
            assert not leaks(f"{name}: {value}"), (operation, status, name, value)
        assert not leaks(body.decode("utf-8", "replace")), (operation, status, body)


def decoded_token(token):
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def keys_of(listing):
    return [o["Key"] for o in listing.get("Contents", [])]


def alpha_keys(a, prefix=""):
    pages = a.get_paginator("list_objects_v2").paginate(Bucket=ALPHA, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def gamma_keys(g, prefix=""):
    pages = g.get_paginator("list_objects_v2").paginate(Bucket=GAMMA, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def error_of(excinfo):
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_write_read_head_land_under_the_prefix(g, a, prefix):
    key = prefix + "hello.txt"
    body = b"hello, tenant\n"
    put = g.put_object(Bucket=GAMMA, Key=key, Body=body, Metadata={"m": "1"})
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = g.get_object(Bucket=GAMMA, Key=key)
    assert got["Body"].read() == body
    assert got["Metadata"] == {"m": "1"}
    assert g.get_object(Bucket=GAMMA, Key=key, Range="bytes=0-4")["Body"].read() == b"hello"
    assert g.head_object(Bucket=GAMMA, Key=key)["ContentLength"] == len(body)
    # Stored in alpha under the prefix, and nowhere else.
    assert a.get_object(Bucket=ALPHA, Key=TENANT + key)["Body"].read() == body
    assert [k for k in alpha_keys(a) if k.endswith(key)] == [TENANT + key]
    with pytest.raises(ClientError) as e:
        g.get_object(Bucket=GAMMA, Key=prefix + "missing")
    assert error_of(e) == ("NoSuchKey", 404)
    assert e.value.response["Error"]["Resource"] == f"/{GAMMA}/{prefix}missing"
    g.head_bucket(Bucket=GAMMA)
    g.get_bucket_location(Bucket=GAMMA)
    assert "gamma" in [b["Name"] for b in g.list_buckets()["Buckets"]]


def test_alphas_other_keys_stay_out_of_gamma(g, a, prefix):
    for key in ["outside.txt", "tenants/other/x", "tenants/gammax", prefix + "alpha-own"]:
        a.put_object(Bucket=ALPHA, Key=key, Body=b"alpha")
    g.put_object(Bucket=GAMMA, Key=prefix + "mine", Body=b"gamma")
    listed = gamma_keys(g)
    assert prefix + "mine" in listed
    assert not {"outside.txt", "x", "other/x", prefix + "alpha-own"} & set(listed)
    # Gamma's whole listing is exactly alpha's keys under the prefix.
    assert listed == [k[len(TENANT):] for k in alpha_keys(a, TENANT)]
    for key in ["outside.txt", "../outside.txt", "../other/x", "x"]:
        with pytest.raises(ClientError) as e:
            g.get_object(Bucket=GAMMA, Key=key)
        assert error_of(e) == ("NoSuchKey", 404), key
    top = g.list_objects_v2(Bucket=GAMMA, Delimiter="/")
    assert prefix in [p["Prefix"] for p in top.get("CommonPrefixes", [])]
    assert "outside.txt" not in keys_of(top)


def test_an_object_named_like_the_prefix_is_not_a_gamma_key(g, a, prefix):
    a.put_object(Bucket=ALPHA, Key=TENANT, Body=b"marker")
    try:
        g.put_object(Bucket=GAMMA, Key=prefix + "after-marker", Body=b"1")
        first = g.list_objects_v2(Bucket=GAMMA, MaxKeys=1)
        assert first["KeyCount"] == 1
        assert len(keys_of(first) + [p["Prefix"] for p in first.get("CommonPrefixes", [])]) == 1
        assert all(keys_of(first)), first
        assert "" not in gamma_keys(g)
        v1 = g.list_objects(Bucket=GAMMA, MaxKeys=1)
        assert len(keys_of(v1)) == 1 and all(keys_of(v1)), v1
    finally:
        a.delete_object(Bucket=ALPHA, Key=TENANT)


def test_listing_v1_v2_delimiter_and_pages(g, a, prefix):
    keys = ["a.txt", "dir1/x", "dir1/y", "dir2/z", "zz", "ü/日本"]
    for k in keys:
        g.put_object(Bucket=GAMMA, Key=prefix + k, Body=b"x")
    a.put_object(Bucket=ALPHA, Key=prefix + "a.txt-alpha", Body=b"alpha")
    v2 = g.list_objects_v2(Bucket=GAMMA, Prefix=prefix, Delimiter="/")
    assert keys_of(v2) == [prefix + "a.txt", prefix + "zz"]
    assert [p["Prefix"] for p in v2["CommonPrefixes"]] == [
        prefix + "dir1/", prefix + "dir2/", prefix + "ü/"]
    assert v2["KeyCount"] == 5
    assert v2["Prefix"] == prefix
    v1 = g.list_objects(Bucket=GAMMA, Prefix=prefix, Delimiter="/", MaxKeys=2)
    assert v1["IsTruncated"] is True
    assert keys_of(v1) == [prefix + "a.txt"]
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == [prefix + "dir1/"]
    assert v1["NextMarker"] == prefix + "dir1/"
    v1b = g.list_objects(Bucket=GAMMA, Prefix=prefix, Delimiter="/", Marker=v1["NextMarker"])
    assert [p["Prefix"] for p in v1b["CommonPrefixes"]] == [prefix + "dir2/", prefix + "ü/"]
    assert keys_of(v1b) == [prefix + "zz"]
    assert v1b["Marker"] == prefix + "dir1/"
    # V2 pages of two, followed by continuation tokens.
    seen, token, pages = [], None, 0
    for _ in range(10):
        kwargs = {"ContinuationToken": token} if token else {}
        page = g.list_objects_v2(Bucket=GAMMA, Prefix=prefix, MaxKeys=2, **kwargs)
        assert page["KeyCount"] == len(page.get("Contents", [])) <= 2
        seen += keys_of(page)
        pages += 1
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
        assert not leaks(decoded_token(token)), decoded_token(token)
    else:
        pytest.fail("the listing does not end")
    assert pages == 3
    assert seen == sorted((prefix + k for k in keys), key=lambda s: s.encode())
    # The same through the V1 paginator, pages of two.
    v1_pages = g.get_paginator("list_objects").paginate(
        Bucket=GAMMA, Prefix=prefix, PaginationConfig={"PageSize": 2})
    assert [o["Key"] for p in v1_pages for o in p.get("Contents", [])] == seen
    start = g.list_objects_v2(Bucket=GAMMA, Prefix=prefix, StartAfter=prefix + "dir1/x")
    assert keys_of(start) == [prefix + k for k in ["dir1/y", "dir2/z", "zz", "ü/日本"]]
    assert start["StartAfter"] == prefix + "dir1/x"
    # The whole bucket, a key at a time.
    whole, token = [], None
    for _ in range(1000):
        kwargs = {"ContinuationToken": token} if token else {}
        page = g.list_objects_v2(Bucket=GAMMA, MaxKeys=1, **kwargs)
        whole += keys_of(page)
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    else:
        pytest.fail("the listing does not end")
    assert whole == [k[len(TENANT):] for k in alpha_keys(a, TENANT)]
    # A forged continuation token is a position inside gamma, never outside.
    for start in [b"", b"../", b"../../outside.txt", b"zzz"]:
        forged = base64.urlsafe_b64encode(start).decode().rstrip("=")
        after = keys_of(g.list_objects_v2(Bucket=GAMMA, ContinuationToken=forged))
        assert set(after) <= set(whole), (start, after)


def test_raw_listing_bodies_name_no_prefix(g, prefix):
    g.put_object(Bucket=GAMMA, Key=prefix + "raw/one", Body=b"1")
    g.put_object(Bucket=GAMMA, Key=prefix + "raw/two", Body=b"2")
    for query in [f"list-type=2&prefix={urllib.parse.quote(prefix)}&max-keys=1",
                  f"prefix={urllib.parse.quote(prefix)}&delimiter=%2F&max-keys=1",
                  f"uploads&prefix={urllib.parse.quote(prefix)}"]:
        host = urllib.parse.urlparse(ENDPOINT).netloc
        headers = sigv4.sign("GET", host, f"/{GAMMA}", ACCESS_KEY, SECRET_KEY, query=query)
        r = HTTP.request("GET", f"{ENDPOINT}/{GAMMA}?{query}", headers=headers)
        assert r.status == 200, r.data
        assert prefix.encode() in r.data
        assert b"tenants" not in r.data, r.data


def test_copies_within_and_into_gamma(g, a, prefix):
    g.put_object(Bucket=GAMMA, Key=prefix + "src", Body=b"copy me", Metadata={"m": "1"})
    g.copy_object(Bucket=GAMMA, Key=prefix + "dst", CopySource={"Bucket": GAMMA, "Key": prefix + "src"})
    assert g.get_object(Bucket=GAMMA, Key=prefix + "dst")["Body"].read() == b"copy me"
    assert a.get_object(Bucket=ALPHA, Key=TENANT + prefix + "dst")["Metadata"] == {"m": "1"}
    a.put_object(Bucket=ALPHA, Key=prefix + "alpha-src", Body=b"from alpha")
    g.copy_object(Bucket=GAMMA, Key=prefix + "from-alpha",
                  CopySource={"Bucket": ALPHA, "Key": prefix + "alpha-src"})
    assert g.get_object(Bucket=GAMMA, Key=prefix + "from-alpha")["Body"].read() == b"from alpha"
    assert a.head_object(Bucket=ALPHA, Key=TENANT + prefix + "from-alpha")["ContentLength"] == 10
    # And out of gamma into alpha: the source key is gamma's.
    a.copy_object(Bucket=ALPHA, Key=prefix + "to-alpha", CopySource={"Bucket": GAMMA, "Key": prefix + "src"})
    assert a.get_object(Bucket=ALPHA, Key=prefix + "to-alpha")["Body"].read() == b"copy me"
    with pytest.raises(ClientError) as e:
        g.copy_object(Bucket=GAMMA, Key=prefix + "x",
                      CopySource={"Bucket": GAMMA, "Key": prefix + "alpha-src"})
    assert error_of(e) == ("NoSuchKey", 404)
    # Refused by the backend, whose message names no key.
    with pytest.raises(ClientError) as e:
        g.copy_object(Bucket=GAMMA, Key=prefix + "src", CopySource={"Bucket": GAMMA, "Key": prefix + "src"})
    assert error_of(e) == ("InvalidRequest", 400)
    assert "copy an object to itself without changing" in e.value.response["Error"]["Message"]


def test_batch_delete_answers_client_keys(g, a, prefix):
    for k in ["a", "b", "c"]:
        g.put_object(Bucket=GAMMA, Key=prefix + k, Body=b"1")
    a.put_object(Bucket=ALPHA, Key=prefix + "b", Body=b"alpha keeps this")
    result = g.delete_objects(Bucket=GAMMA, Delete={"Objects": [
        {"Key": prefix + "a"}, {"Key": prefix + "b"}, {"Key": prefix + "ghost"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == [prefix + "a", prefix + "b", prefix + "ghost"]
    assert "Errors" not in result
    assert gamma_keys(g, prefix) == [prefix + "c"]
    assert alpha_keys(a, TENANT + prefix) == [TENANT + prefix + "c"]
    assert a.get_object(Bucket=ALPHA, Key=prefix + "b")["Body"].read() == b"alpha keeps this"
    g.delete_object(Bucket=GAMMA, Key=prefix + "c")
    assert alpha_keys(a, TENANT + prefix) == []


def test_multipart_lists_parts_and_uploads_without_the_prefix(g, a, prefix):
    key = prefix + "mp/big"
    created = g.create_multipart_upload(Bucket=GAMMA, Key=key)
    assert created["Key"] == key
    uid = created["UploadId"]
    other = g.create_multipart_upload(Bucket=GAMMA, Key=prefix + "mp/aborted")["UploadId"]
    top = g.create_multipart_upload(Bucket=GAMMA, Key=prefix + "top")["UploadId"]
    alpha_uid = a.create_multipart_upload(Bucket=ALPHA, Key=prefix + "mp/alpha-only")["UploadId"]
    data = os.urandom(5 * MIB)
    etag1 = g.upload_part(Bucket=GAMMA, Key=key, UploadId=uid, PartNumber=1, Body=data)["ETag"]
    a.put_object(Bucket=ALPHA, Key=prefix + "part-src", Body=b"0123456789")
    copied = g.upload_part_copy(Bucket=GAMMA, Key=key, UploadId=uid, PartNumber=2,
                                CopySource={"Bucket": ALPHA, "Key": prefix + "part-src"},
                                CopySourceRange="bytes=2-5")
    parts = g.list_parts(Bucket=GAMMA, Key=key, UploadId=uid)
    assert parts["Key"] == key
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, 5 * MIB), (2, 4)]
    listed = g.list_multipart_uploads(Bucket=GAMMA, Prefix=prefix)
    assert sorted((u["Key"], u["UploadId"]) for u in listed["Uploads"]) == sorted(
        [(key, uid), (prefix + "mp/aborted", other), (prefix + "top", top)])
    rolled = g.list_multipart_uploads(Bucket=GAMMA, Prefix=prefix, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == [prefix + "mp/"]
    assert [u["Key"] for u in rolled["Uploads"]] == [prefix + "top"]
    everything = g.list_multipart_uploads(Bucket=GAMMA, Delimiter="/")
    assert [p["Prefix"] for p in everything.get("CommonPrefixes", [])] == [prefix]
    # Pages of one, following NextKeyMarker / NextUploadIdMarker.
    paged, marker = [], {}
    for _ in range(10):
        page = g.list_multipart_uploads(Bucket=GAMMA, Prefix=prefix, MaxUploads=1, **marker)
        paged += [u["Key"] for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        marker = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    else:
        pytest.fail(f"the upload listing does not end: {paged}")
    assert paged == sorted([key, prefix + "mp/aborted", prefix + "top"])
    # Alpha sees gamma's uploads under the prefix; gamma never sees alpha's.
    in_alpha = a.list_multipart_uploads(Bucket=ALPHA, Prefix=TENANT + prefix)
    assert TENANT + key in [u["Key"] for u in in_alpha["Uploads"]]
    assert alpha_uid not in [u["UploadId"] for u in listed["Uploads"]]
    g.abort_multipart_upload(Bucket=GAMMA, Key=prefix + "mp/aborted", UploadId=other)
    g.abort_multipart_upload(Bucket=GAMMA, Key=prefix + "top", UploadId=top)
    a.abort_multipart_upload(Bucket=ALPHA, Key=prefix + "mp/alpha-only", UploadId=alpha_uid)
    assert [u["Key"] for u in g.list_multipart_uploads(Bucket=GAMMA, Prefix=prefix)["Uploads"]] == [key]
    done = g.complete_multipart_upload(Bucket=GAMMA, Key=key, UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag1},
                  {"PartNumber": 2, "ETag": copied["CopyPartResult"]["ETag"]}]})
    assert done["Key"] == key
    assert done["Location"].endswith(f"/{GAMMA}/{key}")
    assert g.get_object(Bucket=GAMMA, Key=key)["Body"].read() == data + b"2345"
    assert alpha_keys(a, TENANT + prefix + "mp/") == [TENANT + key]
    with pytest.raises(ClientError) as e:
        g.list_parts(Bucket=GAMMA, Key=key, UploadId=uid)
    assert error_of(e) == ("NoSuchUpload", 404)
    assert "Uploads" not in g.list_multipart_uploads(Bucket=GAMMA, Prefix=prefix)


def test_error_messages_name_client_keys(g, prefix):
    key = prefix + "d/" + "s" * 256
    with pytest.raises(ClientError) as e:
        g.put_object(Bucket=GAMMA, Key=key, Body=b"a segment too long to store")
    assert error_of(e) == ("InvalidArgument", 400)
    message = e.value.response["Error"]["Message"]
    assert f"`{key}`" in message, message
    assert "tenants/" not in message, message


def test_dot_dot_keys_stay_under_the_prefix(g, a, prefix):
    top = os.path.join(DATA_DIR, ALPHA)
    before = set(os.listdir(top))
    for key in ["../x", "../../x", prefix + "../../escape", "..", "./."]:
        g.put_object(Bucket=GAMMA, Key=key, Body=b"hostile")
        assert g.get_object(Bucket=GAMMA, Key=key)["Body"].read() == b"hostile"
        assert key in gamma_keys(g), key
        assert TENANT + key in alpha_keys(a, TENANT), key
        outside = set(alpha_keys(a)) - set(alpha_keys(a, TENANT))
        assert not {"x", "tenants/x", "escape", "tenants/escape"} & outside, outside
        assert set(os.listdir(top)) <= before | {"tenants"}
        g.delete_object(Bucket=GAMMA, Key=key)
        assert TENANT + key not in alpha_keys(a, TENANT), key


def test_a_key_too_long_under_the_prefix_is_key_too_long(g):
    key = "k" * (1024 - len("tenants/gamma/") + 1)
    with pytest.raises(ClientError) as refused:
        g.put_object(Bucket="gamma", Key=key, Body=b"x")
    assert refused.value.response["Error"]["Code"] == "KeyTooLongError"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
