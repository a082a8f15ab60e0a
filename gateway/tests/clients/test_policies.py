"""Cedar policies deciding real requests: scopes, copy sources, per-key
DeleteObjects, filtered ListBuckets, anonymous read-only, hot reload."""
import os
import threading
import time

import pytest
import urllib3
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from conftest import client, metric

SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")
POLICY_DIR = os.environ["CG_POLICY_DIR"]


def code_of(excinfo):
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def scoped():
    return client(*SCOPED)


def test_scoped_credential_is_refused_outside_its_bucket(s3, scoped, prefix):
    s3.put_object(Bucket="alpha", Key=prefix + "secret", Body=b"s")
    before = metric("s3_scope_violation_total")
    with pytest.raises(ClientError) as e:
        scoped.get_object(Bucket="alpha", Key=prefix + "secret")
    assert code_of(e) == ("AccessDenied", 403)
    assert metric("s3_scope_violation_total") == before + 1
    with pytest.raises(ClientError) as e:
        scoped.list_objects_v2(Bucket="no-such-bucket-anywhere")
    assert code_of(e) == ("AccessDenied", 403), "existence must not leak"
    scoped.put_object(Bucket="beta", Key=prefix + "ok", Body=b"fine")
    assert scoped.get_object(Bucket="beta", Key=prefix + "ok")["Body"].read() == b"fine"


def test_copy_from_a_forbidden_source_is_refused(s3, scoped, prefix):
    s3.put_object(Bucket="alpha", Key=prefix + "src", Body=b"private")
    with pytest.raises(ClientError) as e:
        scoped.copy_object(Bucket="beta", Key=prefix + "stolen",
                           CopySource={"Bucket": "alpha", "Key": prefix + "src"})
    assert code_of(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError):
        s3.head_object(Bucket="beta", Key=prefix + "stolen")
    s3.copy_object(Bucket="beta", Key=prefix + "allowed",
                   CopySource={"Bucket": "alpha", "Key": prefix + "src"})


def test_delete_objects_decides_each_key(s3, scoped, prefix):
    for key in ["keep/a", "tmp/b", "tmp/c"]:
        s3.put_object(Bucket="beta", Key=prefix + key, Body=b"x")
    result = scoped.delete_objects(Bucket="beta", Delete={"Objects": [
        {"Key": prefix + "keep/a"}, {"Key": prefix + "tmp/b"}, {"Key": prefix + "tmp/c"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == [prefix + "tmp/b", prefix + "tmp/c"]
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [(prefix + "keep/a", "AccessDenied")]
    assert s3.get_object(Bucket="beta", Key=prefix + "keep/a")["Body"].read() == b"x"


def test_a_forbid_annotation_picks_the_s3_error(s3, prefix):
    s3.put_object(Bucket="beta", Key=prefix + "small", Body=b"x" * 1000)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="beta", Key=prefix + "big", Body=b"x" * 200000)
    assert code_of(e) == ("EntityTooLarge", 507)
    with pytest.raises(ClientError):
        s3.head_object(Bucket="beta", Key=prefix + "big")


def test_list_buckets_is_filtered(s3, scoped):
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["alpha", "beta"]
    assert [b["Name"] for b in scoped.list_buckets()["Buckets"]] == ["beta"]


def test_list_buckets_pages_after_the_policy_filter(s3, scoped):
    first = s3.list_buckets(MaxBuckets=1)
    assert [b["Name"] for b in first["Buckets"]] == ["alpha"]
    second = s3.list_buckets(MaxBuckets=1, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in second["Buckets"]] == ["beta"]
    assert "ContinuationToken" not in second
    only = scoped.list_buckets(MaxBuckets=1)
    assert [b["Name"] for b in only["Buckets"]] == ["beta"]
    assert "ContinuationToken" not in only, "a token must not hint at a hidden bucket"
    # Another caller's token only says where to start; the filter still holds.
    from_start = scoped.list_buckets(MaxBuckets=5, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in from_start["Buckets"]] == ["beta"]
    assert [b["Name"] for b in s3.list_buckets(Prefix="al")["Buckets"]] == ["alpha"]
    assert s3.list_buckets(Prefix="al")["Prefix"] == "al"
    assert scoped.list_buckets(Prefix="al")["Buckets"] == []
    with pytest.raises(ClientError) as e:
        s3.list_buckets(MaxBuckets=10001)
    assert code_of(e) == ("InvalidArgument", 400)
    assert "max-buckets" in e.value.response["Error"]["Message"]


def test_anonymous_reads_the_public_bucket_but_cannot_write(s3, prefix):
    s3.put_object(Bucket="beta", Key=prefix + "public.txt", Body=b"hello world")
    anonymous = client(signature_version=UNSIGNED)
    assert anonymous.get_object(Bucket="beta", Key=prefix + "public.txt")["Body"].read() == b"hello world"
    served = metric("s3_anonymous_request_total", '{operation="GetObject",status="200"}')
    assert served >= 1
    before = metric("s3_anonymous_reject_total", '{reason="operation_not_allowed"}')
    with pytest.raises(ClientError) as e:
        anonymous.put_object(Bucket="beta", Key=prefix + "vandal", Body=b"x")
    assert code_of(e) == ("AccessDenied", 403)
    assert metric("s3_anonymous_reject_total", '{reason="operation_not_allowed"}') == before + 1
    before = metric("s3_anonymous_reject_total", '{reason="no_binding"}')
    with pytest.raises(ClientError) as e:
        anonymous.get_object(Bucket="alpha", Key=prefix + "anything")
    assert code_of(e) == ("AccessDenied", 403)
    assert metric("s3_anonymous_reject_total", '{reason="no_binding"}') == before + 1


ALLOW = '@id("reload-probe")\npermit (principal == Credential::"scoped", action == Action::"s3:GetObject", resource in Bucket::"alpha");\n'
DENY = '@id("reload-probe")\nforbid (principal == Credential::"scoped", action == Action::"s3:GetObject", resource in Bucket::"alpha");\n'
# A permit-everything followed by garbage: if it were ever half-applied it would allow.
INVALID = '@id("reload-probe")\npermit (principal, action, resource);\npermit (principal == ;\n'


def reload_counts():
    return (metric("policy_reload_total", '{result="ok"}'),
            metric("policy_reload_total", '{result="invalid"}'))


def write_probe(text):
    path = os.path.join(POLICY_DIR, "reload-probe.cedar")
    tmp = os.path.join(POLICY_DIR, ".reload-probe.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def wait_until(condition, what, deadline=10):
    end = time.time() + deadline
    while time.time() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_hot_reload_under_load_never_errors_and_never_uses_an_invalid_set(s3, scoped, prefix):
    key = prefix + "probe"
    s3.put_object(Bucket="alpha", Key=key, Body=b"p")
    http = urllib3.PoolManager(maxsize=4)
    statuses, stop = [], threading.Event()
    presigner = client(*SCOPED, signature_version="s3v4")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": "alpha", "Key": key}, ExpiresIn=600)

    def hammer():
        deadline = time.time() + 120
        while not stop.is_set() and time.time() < deadline:
            statuses.append(http.request("GET", url, retries=False, timeout=10).status)

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        allowed = None
        for i in range(50):
            version = [ALLOW, INVALID, DENY, INVALID][i % 4]
            ok_before, invalid_before = reload_counts()
            write_probe(version)
            if version is INVALID:
                wait_until(lambda: reload_counts()[1] > invalid_before, f"invalid reload {i}")
                status = http.request("GET", url, retries=False, timeout=10).status
                assert status == (200 if allowed else 403), f"write {i}: {status} under an invalid set"
            else:
                allowed = version is ALLOW
                expected = 200 if allowed else 403
                wait_until(lambda: reload_counts()[0] > ok_before, f"reload {i}")
                wait_until(lambda: http.request("GET", url, retries=False, timeout=10).status == expected,
                           f"write {i} to take effect")
    finally:
        stop.set()
        thread.join()
        write_probe(DENY)
    assert len(statuses) > 50
    assert set(statuses) <= {200, 403}, sorted(set(statuses))
    assert metric("policy_reload_total", '{result="invalid"}') >= 25
