"""Rate limits and bucket quotas, driven by boto3 and raw signed requests.

The Rust harness (tests/limits.rs) starts the gateways these tests need and
selects tests with -k: quotas may run against two gateways sharing one
Redis (CG_ENDPOINT and CG_ENDPOINT_B), each rate limit against a gateway
configured for it.
"""
import concurrent.futures
import itertools
import json
import os
import time
import urllib.request
from urllib.parse import urlparse

import botocore.exceptions
import pytest
import urllib3

import sigv4
from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, client, metric

MIB = 1024 * 1024
ENDPOINT_B = os.environ.get("CG_ENDPOINT_B", ENDPOINT)
ADMINS = [os.environ["CG_ADMIN"], os.environ.get("CG_ADMIN_B", os.environ["CG_ADMIN"])]
HTTP = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=30))


def clients():
    return [client(), client_for(ENDPOINT_B)]


def client_for(endpoint):
    import boto3
    from botocore.config import Config
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"},
                      retries={"max_attempts": 1, "mode": "standard"}))


def quotas(admin):
    rows = json.loads(urllib.request.urlopen(admin + "/quotas", timeout=10).read())
    return {row["bucket"]: row for row in rows}


def error_of(call):
    """(HTTP status, S3 code) of a call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def put(s3, bucket, key, size):
    """(status, code) of one PutObject; (200, None) on success."""
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * size)
        return 200, None
    except botocore.exceptions.ClientError as error:
        response = error.response
        return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def wait_for_known_usage(bucket, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(quotas(admin)[bucket]["used"] is not None for admin in ADMINS):
            return
        time.sleep(0.1)
    pytest.fail(f"usage of {bucket} still unknown after {timeout} s: {quotas(ADMINS[0])}")


# --- quotas ---------------------------------------------------------------

def test_quota_capped_bucket_counts_a_chunked_put_of_unknown_length_as_5_gib():
    wait_for_known_usage("capped")
    url = urlparse(ENDPOINT)
    headers = sigv4.sign("PUT", url.netloc, "/capped/chunked", ACCESS_KEY, SECRET_KEY)
    # Ten bytes would fit the empty 10 MiB bucket, but without a declared
    # length they count as the largest body the gateway takes.
    response = HTTP.request("PUT", ENDPOINT + "/capped/chunked", body=iter([b"x" * 10]),
                            headers=headers, chunked=True)
    assert (response.status, b"EntityTooLarge" in response.data) == (507, True), response.data
    assert "Contents" not in client().list_objects_v2(Bucket="capped", Prefix="chunked")
    assert quotas(ADMINS[0])["capped"]["used"] == 0


def test_quota_capped_bucket_takes_exactly_ten_concurrent_puts():
    wait_for_known_usage("capped")
    pair = clients()
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(
            lambda i: put(pair[i % 2], "capped", f"obj-{i:02}", MIB), range(20)))
    accepted = [r for r in results if r == (200, None)]
    refused = [r for r in results if r == (507, "EntityTooLarge")]
    assert (len(accepted), len(refused)) == (10, 10), results
    for admin in ADMINS:
        row = quotas(admin)["capped"]
        assert (row["used"], row["reserved"], row["hard"]) == (10 * MIB, 0, 10 * MIB), row
    # The bucket is full: nothing more fits, from either gateway.
    assert put(pair[0], "capped", "one-more", 1) == (507, "EntityTooLarge")
    assert put(pair[1], "capped", "one-more", MIB) == (507, "EntityTooLarge")
    # Deleting one object (through the other gateway) makes room for one.
    pair[1].delete_object(Bucket="capped", Key=listing(pair[1])[0])
    assert quotas(ADMINS[0])["capped"]["used"] == 9 * MIB
    assert put(pair[0], "capped", "after-delete", MIB) == (200, None)
    assert put(pair[1], "capped", "too-many", MIB) == (507, "EntityTooLarge")
    # DeleteObjects frees what it deletes; a key that does not exist frees nothing.
    keys = [k for k in listing(pair[0]) if k.startswith("obj-")][:3]
    pair[0].delete_objects(Bucket="capped", Delete={
        "Objects": [{"Key": k} for k in keys] + [{"Key": "no-such-key"}]})
    assert quotas(ADMINS[1])["capped"]["used"] == 7 * MIB
    # An overwrite counts its new size minus the old one.
    assert put(pair[0], "capped", "after-delete", MIB // 2) == (200, None)
    assert quotas(ADMINS[1])["capped"]["used"] == 7 * MIB - MIB // 2
    assert metric("s3_quota_reject_total") >= 1


def listing(s3):
    return [o["Key"] for o in s3.list_objects_v2(Bucket="capped").get("Contents", [])]


def test_quota_copies_count_their_source():
    wait_for_known_usage("copycap")
    s3 = client()
    assert put(s3, "copycap", "src", 3 * MIB) == (200, None)
    s3.copy_object(Bucket="copycap", Key="copy-1", CopySource={"Bucket": "copycap", "Key": "src"})
    assert quotas(ADMINS[0])["copycap"]["used"] == 6 * MIB
    # A second copy would take the bucket to 9 MiB, past its 8 MiB cap.
    status, code = error_of(lambda: s3.copy_object(
        Bucket="copycap", Key="copy-2", CopySource={"Bucket": "copycap", "Key": "src"}))
    assert (status, code) == (507, "EntityTooLarge")
    # A copy from an uncapped bucket counts too.
    s3.put_object(Bucket="alpha", Key="big", Body=b"y" * (3 * MIB))
    status, code = error_of(lambda: s3.copy_object(
        Bucket="copycap", Key="copy-3", CopySource={"Bucket": "alpha", "Key": "big"}))
    assert (status, code) == (507, "EntityTooLarge")
    assert quotas(ADMINS[0])["copycap"] == {
        "bucket": "copycap", "used": 6 * MIB, "reserved": 0, "soft": 4 * MIB,
        "hard": 8 * MIB, "state": "ok"}
    assert metric("s3_quota_soft_exceeded_total") >= 1


def test_quota_multipart_parts_past_the_cap_are_refused_and_abort_releases():
    wait_for_known_usage("mpcap")
    s3 = client()
    upload = s3.create_multipart_upload(Bucket="mpcap", Key="big")["UploadId"]
    for number in (1, 2):
        s3.upload_part(Bucket="mpcap", Key="big", UploadId=upload, PartNumber=number,
                       Body=b"p" * (5 * MIB))
    assert quotas(ADMINS[0])["mpcap"]["reserved"] == 10 * MIB
    status, code = error_of(lambda: s3.upload_part(
        Bucket="mpcap", Key="big", UploadId=upload, PartNumber=3, Body=b"p" * (3 * MIB)))
    assert (status, code) == (507, "EntityTooLarge")
    # Nor does a single put fit while the parts are held.
    assert put(s3, "mpcap", "small", 3 * MIB) == (507, "EntityTooLarge")
    # Uploading part 2 again replaces it: 5 + 1 MiB held.
    s3.upload_part(Bucket="mpcap", Key="big", UploadId=upload, PartNumber=2, Body=b"q" * MIB)
    assert quotas(ADMINS[0])["mpcap"]["reserved"] == 6 * MIB
    s3.abort_multipart_upload(Bucket="mpcap", Key="big", UploadId=upload)
    row = quotas(ADMINS[0])["mpcap"]
    assert (row["used"], row["reserved"]) == (0, 0), row
    # Completing turns the held parts into the object's size.
    upload = s3.create_multipart_upload(Bucket="mpcap", Key="done")["UploadId"]
    etags = [s3.upload_part(Bucket="mpcap", Key="done", UploadId=upload, PartNumber=n,
                            Body=b"d" * size)["ETag"]
             for n, size in ((1, 5 * MIB), (2, MIB))]
    s3.complete_multipart_upload(Bucket="mpcap", Key="done", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    row = quotas(ADMINS[0])["mpcap"]
    assert (row["used"], row["reserved"]) == (6 * MIB, 0), row
    assert put(s3, "mpcap", "seven", 7 * MIB) == (507, "EntityTooLarge")
    assert put(s3, "mpcap", "six", 6 * MIB) == (200, None)


def test_quota_writes_fail_closed_while_the_store_is_down():
    s3 = client()
    assert put(s3, "capped", "while-down", 10) == (503, "ServiceUnavailable")
    assert put(s3, "alpha", "while-down", 10) == (200, None)
    assert s3.get_object(Bucket="capped", Key="before")["Body"].read() == b"x" * 10
    assert quotas(ADMINS[0])["capped"]["state"] == "unavailable"


def test_quota_writes_resume_when_the_store_is_back():
    # The restarted store is empty: usage is unknown until the rescan.
    deadline = time.time() + 15
    result = None
    while time.time() < deadline:
        result = put(client(), "capped", "after-restart", 10)
        if result == (200, None):
            break
        assert result == (503, "ServiceUnavailable"), result
        time.sleep(0.2)
    assert result == (200, None)
    assert quotas(ADMINS[0])["capped"]["used"] == 20


def test_quota_setup_before_the_store_goes_down():
    wait_for_known_usage("capped")
    assert put(client(), "capped", "before", 10) == (200, None)


PREFIX_SEED = {"tenants/gamma/a": 1000, "tenants/gamma/d/b": 2000, "tenants/gamma/": 16000,
               "tenants/gammax": 32000, "tenants/other/c": 4000, "top": 8000}


def test_quota_prefix_seed():
    """Objects in alpha, some under gamma's prefix, before gamma has a quota."""
    s3 = client()
    for key, size in PREFIX_SEED.items():
        s3.put_object(Bucket="alpha", Key=key, Body=b"s" * size)


def test_quota_prefix_scanned_and_tracked():
    """gamma (alpha under `tenants/gamma/`) counts only the objects under its prefix."""
    wait_for_known_usage("gamma")
    s3 = client()
    used = lambda: quotas(ADMINS[0])["gamma"]["used"]  # noqa: E731
    assert used() == 3000
    s3.put_object(Bucket="gamma", Key="a", Body=b"n" * 500)
    assert used() == 2500
    s3.delete_object(Bucket="gamma", Key="d/b")
    assert used() == 500
    s3.copy_object(Bucket="gamma", Key="copied", CopySource={"Bucket": "alpha", "Key": "top"})
    assert used() == 8500
    s3.delete_objects(Bucket="gamma", Delete={"Objects": [
        {"Key": "a"}, {"Key": "copied"}, {"Key": "top"}, {"Key": "ghost"}]})
    assert used() == 0
    left = [o["Key"] for o in s3.list_objects_v2(Bucket="alpha")["Contents"]]
    assert left == ["tenants/gamma/", "tenants/gammax", "tenants/other/c", "top"]


# --- rate limits ------------------------------------------------------------

def raw_get(target, headers=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY, signed=True):
    url = urlparse(ENDPOINT)
    path, _, query = target.partition("?")
    all_headers = dict(headers or {})
    if signed:
        all_headers = sigv4.sign("GET", url.netloc, path, access_key, secret_key,
                                 query=query, headers=all_headers)
    return HTTP.request("GET", ENDPOINT + target, headers=all_headers)


def burst_until_limited(send, limit=50):
    """Sends until a 429; returns (statuses before it, the 429 response)."""
    statuses = []
    for _ in range(limit):
        response = send()
        if response.status == 429:
            return statuses, response
        statuses.append(response.status)
    pytest.fail(f"no 429 after {limit} requests: {statuses}")


def check_slow_down(response, scope):
    assert b"<Code>SlowDown</Code>" in response.data, response.data
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 2, retry_after
    assert metric("s3_rate_limited_total", '{scope="%s"}' % scope) >= 1
    return retry_after


def test_rate_credential_burst_then_retry_after_lets_the_next_through():
    statuses, limited = burst_until_limited(lambda: raw_get("/alpha?list-type=2"))
    assert statuses == [200] * 5, statuses
    retry_after = check_slow_down(limited, "credential")
    time.sleep(retry_after)
    assert raw_get("/alpha?list-type=2").status == 200
    # Another credential has its own bucket (403: no policy lets it in).
    assert raw_get("/alpha", access_key="CGSCOPEDKEY000000001",
                   secret_key="scoped-secret-0000000000000000000000000").status == 403


def test_rate_source_ip_limits_each_forwarded_client_and_bad_signatures():
    first = {"X-Forwarded-For": "198.51.100.1"}
    statuses, limited = burst_until_limited(lambda: raw_get("/alpha?list-type=2", first))
    assert statuses == [200] * 5, statuses
    retry_after = check_slow_down(limited, "source_ip")
    # Another client behind the same trusted proxy is not affected.
    assert raw_get("/alpha?list-type=2", {"X-Forwarded-For": "198.51.100.2"}).status == 200
    # A flood of bad signatures is cut off before the verifier.
    garbage = {"X-Forwarded-For": "198.51.100.3"}
    statuses, limited = burst_until_limited(
        lambda: raw_get("/alpha", garbage, secret_key="wrong-secret"))
    assert statuses == [401] * 5, statuses
    # Unsigned requests from one client likewise, counted as anonymous rejects.
    anonymous = {"X-Forwarded-For": "198.51.100.4"}
    statuses, limited = burst_until_limited(lambda: raw_get("/alpha", anonymous, signed=False))
    assert statuses == [403] * 5, statuses
    assert metric("s3_anonymous_reject_total", '{reason="rate_limited"}') >= 1
    time.sleep(retry_after)
    assert raw_get("/alpha?list-type=2", first).status == 200


def test_rate_global_limit_applies_to_everyone():
    hosts = itertools.count(1)
    statuses, limited = burst_until_limited(
        lambda: raw_get("/alpha?list-type=2", {"X-Forwarded-For": f"203.0.113.{next(hosts)}"}))
    assert statuses == [200] * 5, statuses
    retry_after = check_slow_down(limited, "global")
    # Untrusted forwarded headers change nothing; another credential is limited too.
    assert raw_get("/alpha", access_key="CGSCOPEDKEY000000001",
                   secret_key="scoped-secret-0000000000000000000000000").status == 429
    time.sleep(retry_after)
    assert raw_get("/alpha?list-type=2").status == 200

