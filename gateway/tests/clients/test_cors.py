"""CORS as browsers see it: preflights answered without credentials from the
bucket's `cors_rules`, Access-Control-* headers on the answers (errors too)
of requests carrying Origin, and GetBucketCors through boto3.

The gateway runs with these rules on `alpha` and none on `beta`
(tests/e2e.rs, CORS_BUCKETS):

  0. id "web-app": origins https://app.example.com and
     https://*.preview.example.com; GET, PUT, HEAD; request headers
     content-type and x-amz-*; exposes ETag and x-amz-request-id; max age 600
  1. any origin (`*`) may HEAD
"""
import os
import time
import xml.etree.ElementTree as ET

import pytest
import urllib3
from botocore.exceptions import ClientError

from conftest import BUCKET, ENDPOINT, TMP, client, metric

APP = "https://app.example.com"
PREVIEW = "https://pr-42.preview.example.com"
STRANGER = "https://evil.example.net"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = "CORSResponse: This CORS request is not allowed."

http = urllib3.PoolManager(retries=False, timeout=10)


def request(method, url, headers=None, body=None):
    if url.startswith("/"):
        url = ENDPOINT + url
    return http.request(method, url, headers=headers or {}, body=body, redirect=False)


def preflight(path, origin=None, method=None, headers=None):
    sent = {}
    if origin is not None:
        sent["Origin"] = origin
    if method is not None:
        sent["Access-Control-Request-Method"] = method
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return request("OPTIONS", path, sent)


def error_fields(response):
    root = ET.fromstring(response.data)
    assert root.tag == "Error", response.data
    return {child.tag: child.text for child in root}


def cors_headers(response):
    """The response's Access-Control-* headers, by lowercase name."""
    return {name.lower(): value for name, value in response.headers.items()
            if name.lower().startswith("access-control-")}


def presigner():
    return client(signature_version="s3v4")


def presigned(method, key, bucket=BUCKET, **params):
    return presigner().generate_presigned_url(
        method, Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=300)


def test_an_allowed_preflight_answers_the_rule_and_the_asked_headers(prefix):
    r = preflight(f"/{BUCKET}/{prefix}upload.bin", APP, "PUT",
                  "Content-Type, x-amz-meta-note,X-Amz-Date")
    assert r.status == 200, r.data
    assert r.data == b""
    assert r.headers["Content-Length"] == "0"
    assert r.headers["x-amz-request-id"]
    assert cors_headers(r) == {
        "access-control-allow-origin": APP,
        "access-control-allow-methods": "GET, PUT, HEAD",
        "access-control-allow-headers": "Content-Type, x-amz-meta-note, X-Amz-Date",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
    }
    assert r.headers["Vary"] == VARY


def test_wildcard_origins_and_any_origin(prefix):
    r = preflight(f"/{BUCKET}", PREVIEW, "GET")
    assert r.status == 200, r.data
    assert r.headers["Access-Control-Allow-Origin"] == PREVIEW
    assert "Access-Control-Allow-Headers" not in r.headers
    # Rule 1: anyone may HEAD, answered `*` and without credentials.
    r = preflight(f"/{BUCKET}/{prefix}x", STRANGER, "HEAD")
    assert r.status == 200, r.data
    assert cors_headers(r) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "HEAD",
    }
    assert r.headers["Vary"] == VARY


def refused(response):
    assert response.status == 403, response.data
    fields = error_fields(response)
    assert fields["Code"] == "AccessForbidden"
    assert fields["Message"].startswith(NOT_ALLOWED)
    assert cors_headers(response) == {}
    assert "Vary" not in response.headers
    return fields


@pytest.mark.parametrize("path, origin, method, headers", [
    pytest.param("/alpha/k", STRANGER, "GET", None, id="origin-not-allowed"),
    pytest.param("/alpha/k", "https://app.example.com.evil.net", "GET", None, id="origin-suffix"),
    pytest.param("/alpha/k", "http://app.example.com", "GET", None, id="origin-scheme"),
    pytest.param("/alpha/k", APP, "DELETE", None, id="method-not-allowed"),
    pytest.param("/alpha/k", APP, "POST", None, id="post-not-allowed"),
    pytest.param("/alpha/k", APP, "PUT", "content-type, x-custom", id="header-not-allowed"),
    pytest.param("/alpha/k", STRANGER, "HEAD", "x-amz-date", id="any-origin-rule-allows-no-header"),
    pytest.param("/beta/k", APP, "GET", None, id="bucket-without-rules"),
    pytest.param("/no-such-bucket-here/k", APP, "GET", None, id="unknown-bucket"),
    pytest.param("/", APP, "GET", None, id="no-bucket"),
])
def test_preflights_no_rule_allows_are_refused(path, origin, method, headers):
    refused(preflight(path, origin, method, headers))


def test_an_unknown_bucket_is_refused_exactly_like_a_bucket_without_rules():
    def shape(response):
        fields = refused(response)
        names = sorted(name.lower() for name in response.headers)
        return response.status, fields["Code"], fields["Message"], names

    assert shape(preflight("/beta/k", APP, "GET")) == shape(preflight("/nobody-has-it/k", APP, "GET"))


@pytest.mark.parametrize("origin, method, message", [
    (None, "GET", "Insufficient information. Origin request header needed."),
    (None, None, "Insufficient information. Origin request header needed."),
    (APP, None, "Access-Control-Request-Method request header needed"),
    (APP, "PATCH", "Invalid Access-Control-Request-Method: `PATCH`"),
    (APP, "OPTIONS", "Invalid Access-Control-Request-Method: `OPTIONS`"),
])
def test_preflights_need_an_origin_and_a_cors_method(origin, method, message):
    for path in ("/alpha/k", "/no-such-bucket-here/k"):
        r = preflight(path, origin, method)
        assert r.status == 400, r.data
        fields = error_fields(r)
        assert fields["Code"] == "BadRequest"
        assert message in fields["Message"]


def test_preflights_need_no_credentials_and_are_counted():
    labels = '{auth_mode="none",method="OPTIONS",operation="PreflightRequest",result="ok",status="200"}'
    refused_labels = ('{auth_mode="none",method="OPTIONS",operation="PreflightRequest",'
                      'result="AccessForbidden",status="403"}')
    before, before_refused = metric("s3_request_total", labels), metric("s3_request_total", refused_labels)
    # Anonymous access is off: the same request without OPTIONS is refused.
    assert request("GET", "/alpha/k").status == 403
    assert preflight("/alpha/k", APP, "GET").status == 200
    assert preflight("/alpha/k", STRANGER, "GET").status == 403
    assert metric("s3_request_total", labels) == before + 1
    assert metric("s3_request_total", refused_labels) == before_refused + 1


def test_a_browser_get_on_a_presigned_url_gets_the_cors_headers(prefix):
    s3 = client()
    s3.put_object(Bucket=BUCKET, Key=prefix + "page.json", Body=b'{"ok": true}')
    r = request("GET", presigned("get_object", prefix + "page.json"), {"Origin": APP})
    assert r.status == 200, r.data
    assert r.data == b'{"ok": true}'
    assert r.headers["Access-Control-Allow-Origin"] == APP
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert r.headers["Vary"] == VARY
    # The exposed headers are there to be read.
    assert r.headers["ETag"] and r.headers["x-amz-request-id"]
    # HEAD by anyone: rule 1.
    r = request("HEAD", presigned("head_object", prefix + "page.json"), {"Origin": STRANGER})
    assert r.status == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_a_browser_put_on_a_presigned_url_gets_them_and_a_delete_does_not(prefix):
    r = request("PUT", presigned("put_object", prefix + "up.txt"), {"Origin": PREVIEW}, body=b"hi")
    assert r.status == 200, r.data
    assert r.headers["Access-Control-Allow-Origin"] == PREVIEW
    # DELETE is in no rule: the delete happens (Cedar allows it), the page
    # may not read the answer.
    r = request("DELETE", presigned("delete_object", prefix + "up.txt"), {"Origin": PREVIEW})
    assert r.status == 204
    assert cors_headers(r) == {}
    assert r.headers["Vary"] == VARY


def test_error_answers_carry_the_cors_headers_too(prefix):
    cases = []
    # 404 NoSuchKey through a presigned GET of a missing key.
    missing = request("GET", presigned("get_object", prefix + "missing"), {"Origin": APP})
    cases.append((missing, 404, "NoSuchKey"))
    # 401 SignatureDoesNotMatch through a presigned URL with a bad signature.
    url = presigned("get_object", prefix + "missing")
    signature = url.split("X-Amz-Signature=")[1][:64]
    bad = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    cases.append((request("GET", bad, {"Origin": APP}), 401, "SignatureDoesNotMatch"))
    # 403 AccessDenied: no credentials where anonymous access is off...
    cases.append((request("GET", f"/{BUCKET}/{prefix}x", {"Origin": APP}), 403, "AccessDenied"))
    # ...and a credential no policy permits anything.
    scoped = client("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000",
                    signature_version="s3v4")
    url = scoped.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": prefix + "x"})
    cases.append((request("GET", url, {"Origin": APP}), 403, "AccessDenied"))
    for response, status, code in cases:
        assert response.status == status, response.data
        assert error_fields(response)["Code"] == code
        assert response.headers["Access-Control-Allow-Origin"] == APP, code
        assert response.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert response.headers["Vary"] == VARY


def test_an_origin_no_rule_allows_gets_no_cors_header(prefix):
    s3 = client()
    s3.put_object(Bucket=BUCKET, Key=prefix + "o", Body=b"x")
    for url in (presigned("get_object", prefix + "o"), presigned("get_object", prefix + "gone")):
        r = request("GET", url, {"Origin": STRANGER})
        assert r.status in (200, 404)
        assert cors_headers(r) == {}
        assert r.headers["Vary"] == VARY
    # Without Origin there is nothing to allow either.
    r = request("GET", presigned("get_object", prefix + "o"))
    assert r.status == 200
    assert cors_headers(r) == {}
    # A bucket without rules has neither CORS headers nor Vary.
    s3.put_object(Bucket="beta", Key=prefix + "o", Body=b"x")
    r = request("GET", presigned("get_object", prefix + "o", bucket="beta"), {"Origin": APP})
    assert r.status == 200
    assert cors_headers(r) == {}
    assert "Vary" not in r.headers


def test_get_bucket_cors_returns_the_configured_rules():
    s3 = client()
    assert s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"] == [
        {
            "ID": "web-app",
            "AllowedHeaders": ["content-type", "x-amz-*"],
            "AllowedMethods": ["GET", "PUT", "HEAD"],
            "AllowedOrigins": [APP, "https://*.preview.example.com"],
            "ExposeHeaders": ["ETag", "x-amz-request-id"],
            "MaxAgeSeconds": 600,
        },
        {"AllowedMethods": ["HEAD"], "AllowedOrigins": ["*"]},
    ]
    with pytest.raises(ClientError) as none:
        s3.get_bucket_cors(Bucket="beta")
    assert none.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    assert none.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_bucket_cors_is_authorized_by_policy():
    scoped = client("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")
    with pytest.raises(ClientError) as denied:
        scoped.get_bucket_cors(Bucket=BUCKET)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_rules_cannot_be_set_or_deleted_through_s3():
    s3 = client()
    rules = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    for call in (lambda: s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=rules),
                 lambda: s3.delete_bucket_cors(Bucket=BUCKET)):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "NotImplemented"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert len(s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]) == 2


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_rules_reload_with_the_config_file():
    path = os.path.join(TMP, "cedargate.toml")
    with open(path) as f:
        original = f.read()
    newcomer = "https://new.example.com"
    assert preflight("/alpha/k", newcomer, "GET").status == 403
    changed = original.replace(f'"{APP}",', f'"{APP}", "{newcomer}",', 1)
    assert changed != original
    try:
        with open(path, "w") as f:
            f.write(changed)
        assert wait_for(lambda: preflight("/alpha/k", newcomer, "GET").status == 200)
        assert client().get_bucket_cors(Bucket=BUCKET)["CORSRules"][0]["AllowedOrigins"] == [
            APP, newcomer, "https://*.preview.example.com"]
    finally:
        with open(path, "w") as f:
            f.write(original)
    assert wait_for(lambda: preflight("/alpha/k", newcomer, "GET").status == 403)
