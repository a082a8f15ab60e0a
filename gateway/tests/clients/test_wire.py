"""Raw HTTP against the gateway: the documented wire shape of errors."""
import os
import re
import urllib.request
import xml.etree.ElementTree as ET

import urllib3

from conftest import ENDPOINT

http = urllib3.PoolManager(retries=False, timeout=10)


def request(method, path, headers=None, body=None):
    return http.request(method, ENDPOINT + path, headers=headers or {}, body=body, redirect=False)


def parse_error(response):
    root = ET.fromstring(response.data)
    assert root.tag == "Error", response.data
    return {child.tag: child.text for child in root}


def test_anonymous_error_document_shape():
    r = request("GET", "/alpha/some%20key")
    assert r.status == 403
    assert r.headers["Content-Type"] == "application/xml"
    assert r.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    fields = parse_error(r)
    assert fields["Code"] == "AccessDenied"
    assert fields["BucketName"] == "alpha"
    assert fields["Resource"] == "/alpha/some key"
    assert fields["RequestId"] == r.headers["x-amz-request-id"]
    assert fields["Message"]


def test_request_ids_are_unique():
    ids = {request("GET", "/alpha/x").headers["x-amz-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_head_errors_have_no_body():
    r = request("HEAD", "/alpha/x")
    assert r.status == 403
    assert r.data == b""
    assert r.headers["x-amz-request-id"]


def test_unrecognised_shape_is_invalid_request():
    r = request("PATCH", "/alpha/x")
    assert r.status == 400
    assert parse_error(r)["Code"] == "InvalidRequest"
    r = request("GET", "/alpha/x?uploads&bogus-subresource")
    assert r.status in (400, 403)


def test_hostile_values_are_escaped():
    r = request("GET", "/alpha/%3Cscript%3E%26%22")
    fields = parse_error(r)
    assert fields["Resource"] == '/alpha/<script>&"'
    assert b"<script>" not in r.data
    assert b"&lt;script&gt;&amp;&quot;" in r.data


def test_malformed_authorization_header():
    r = request("GET", "/alpha/x", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status == 401
    assert parse_error(r)["Code"] == "SignatureDoesNotMatch"
    r = request("GET", "/alpha/x", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=nonsense, SignedHeaders=host, Signature=00",
        "x-amz-date": "20260101T000000Z", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert r.status == 401
    assert parse_error(r)["Code"] == "InvalidAccessKeyId"


def test_admin_paths_are_not_served_on_the_s3_listener():
    r = request("GET", "/metrics")
    assert r.status != 200 or b"cedargate_s3" not in r.data
    metrics = urllib.request.urlopen(os.environ["CG_ADMIN"] + "/metrics", timeout=10).read()
    assert re.search(rb"cedargate_s3_request_total\{", metrics)


def signed(method, path, body=b"", headers=None, payload_hash=None):
    """Signs a raw request with SigV4, optionally claiming another payload hash."""
    import hashlib
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from conftest import ACCESS_KEY, SECRET_KEY

    claimed = payload_hash or hashlib.sha256(body).hexdigest()

    class ClaimingAuth(S3SigV4Auth):
        def payload(self, request):
            return claimed

    req = AWSRequest(method=method, url=ENDPOINT + path, data=body, headers=dict(headers or {}))
    ClaimingAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(req)
    assert req.headers["X-Amz-Content-SHA256"] == claimed
    return dict(req.headers.items())


def test_signed_payload_hash_mismatch_stores_nothing(s3, prefix):
    import hashlib

    path = f"/alpha/{prefix}lying-hash"
    headers = signed("PUT", path, b"actual body", payload_hash=hashlib.sha256(b"claimed").hexdigest())
    r = request("PUT", path, headers=headers, body=b"actual body")
    assert r.status == 400, r.data
    assert parse_error(r)["Code"] == "XAmzContentSHA256Mismatch"
    listed = s3.list_objects_v2(Bucket="alpha", Prefix=prefix)
    assert listed["KeyCount"] == 0
    good = signed("PUT", path, b"actual body")
    assert request("PUT", path, headers=good, body=b"actual body").status == 200


def test_client_disconnect_mid_put_leaves_no_object_and_no_temp_file(s3, prefix):
    import socket
    import time
    from urllib.parse import urlparse

    from conftest import DATA_DIR

    path = f"/alpha/{prefix}half"
    body = os.urandom(4 * 1024 * 1024)
    headers = signed("PUT", path, body)
    headers["Content-Length"] = str(len(body))
    url = urlparse(ENDPOINT)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode() + body[: len(body) // 3])
    time.sleep(0.3)
    sock.close()
    deadline = time.time() + 10
    tmp = os.path.join(DATA_DIR, ".cedargate", "tmp")
    while time.time() < deadline and os.path.isdir(tmp) and os.listdir(tmp):
        time.sleep(0.1)
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []
    assert s3.list_objects_v2(Bucket="alpha", Prefix=prefix)["KeyCount"] == 0
    assert not os.path.exists(os.path.join(DATA_DIR, "alpha", prefix.rstrip("/"), "half"))


def test_declared_length_longer_than_body_is_refused(s3, prefix):
    import socket
    from urllib.parse import urlparse

    path = f"/alpha/{prefix}short"
    body = b"0123456789"
    headers = signed("PUT", path, body, payload_hash="UNSIGNED-PAYLOAD")
    headers["Content-Length"] = "10"
    url = urlparse(ENDPOINT)
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode() + body[:4])
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(10)
    response = b""
    try:
        while chunk := sock.recv(65536):
            response += chunk
    except OSError:
        pass
    sock.close()
    assert not response.startswith(b"HTTP/1.1 200"), response[:200]
    assert s3.list_objects_v2(Bucket="alpha", Prefix=prefix)["KeyCount"] == 0


def test_not_modified_has_no_body_but_keeps_etag(s3, prefix):
    path = f"/alpha/{prefix}cached"
    etag = s3.put_object(Bucket="alpha", Key=prefix + "cached", Body=b"cache me")["ETag"]
    headers = signed("GET", path)
    headers["If-None-Match"] = etag
    r = request("GET", path, headers=headers)
    assert r.status == 304
    assert r.data == b""
    assert r.headers["ETag"] == etag
    assert r.headers["x-amz-request-id"]
    head = signed("HEAD", path)
    head["If-Match"] = '"nope"'
    r = request("HEAD", path, headers=head)
    assert r.status == 412
    assert r.data == b""
