"""Signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER])
sent raw: valid ones store the decoded payload; a tampered chunk, a tampered
trailer or a wrong checksum stores nothing and is counted."""
import base64
import xml.etree.ElementTree as ET
import zlib
from urllib.parse import urlparse

import pytest
import urllib3

import sigv4
from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, metric

HOST = urlparse(ENDPOINT).netloc
http = urllib3.PoolManager(retries=False, timeout=20)


def bad_signatures():
    return metric("s3_auth_failure_total", '{reason="bad_signature"}')


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def chunked_put(path, chunks, *, trailer=False, tamper_chunk=None, tamper_trailer=False, checksum=None):
    data = b"".join(chunks)
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    headers = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    if trailer:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    headers = sigv4.sign("PUT", HOST, path, ACCESS_KEY, SECRET_KEY, headers=headers, payload_hash=mode)
    key, amz_date, scope, previous = sigv4.signing_parts(headers, SECRET_KEY)
    body = b""
    for i, chunk in enumerate(list(chunks) + [b""]):
        signature = sigv4.chunk_signature(key, amz_date, scope, previous, chunk)
        previous = signature
        sent = chunk if i != tamper_chunk else bytes([chunk[0] ^ 1]) + chunk[1:]
        body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + sent
        body += b"\r\n" if chunk else b""
    if trailer:
        value = checksum or crc32_b64(data)
        canonical = f"x-amz-checksum-crc32:{value}\n".encode()
        signature = sigv4.trailer_signature(key, amz_date, scope, previous, canonical)
        if tamper_trailer:
            value = crc32_b64(data + b"!")
        body += f"x-amz-checksum-crc32:{value}\r\nx-amz-trailer-signature:{signature}\r\n".encode()
    body += b"\r\n"
    headers["content-length"] = str(len(body))
    return http.request("PUT", ENDPOINT + path, headers=headers, body=body)


CHUNKS = [b"a" * 65536, b"b" * 1024]


@pytest.mark.parametrize("trailer", [False, True])
def test_valid_signed_chunks_store_the_decoded_payload(s3, prefix, trailer):
    path = f"/alpha/{prefix}chunked-{trailer}"
    r = chunked_put(path, CHUNKS, trailer=trailer)
    assert r.status == 200, r.data
    got = s3.get_object(Bucket="alpha", Key=path.split("/", 2)[2])
    assert got["Body"].read() == b"".join(CHUNKS)
    assert "aws-chunked" not in got.get("ContentEncoding", "")


@pytest.mark.parametrize("case,kwargs,code,counted", [
    ("tampered chunk", {"tamper_chunk": 1}, "SignatureDoesNotMatch", True),
    ("tampered first chunk", {"tamper_chunk": 0}, "SignatureDoesNotMatch", True),
    ("tampered trailer", {"trailer": True, "tamper_trailer": True}, "SignatureDoesNotMatch", True),
    ("wrong checksum", {"trailer": True, "checksum": "AAAAAA=="}, "BadDigest", False),
])
def test_a_bad_stream_stores_nothing(s3, prefix, case, kwargs, code, counted):
    path = f"/alpha/{prefix}bad"
    before = bad_signatures()
    r = chunked_put(path, CHUNKS, **kwargs)
    assert r.status in (400, 401, 403), (case, r.status, r.data)
    assert ET.fromstring(r.data).find("Code").text == code, (case, r.data)
    assert s3.list_objects_v2(Bucket="alpha", Prefix=prefix)["KeyCount"] == 0, case
    assert bad_signatures() == before + (1 if counted else 0), case
