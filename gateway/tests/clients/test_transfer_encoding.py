"""PUTs whose body comes with `Transfer-Encoding: chunked` and no
Content-Length, as S3 accepts them: boto3 told to frame the body that way,
and a raw HTTP client streaming an unsigned or hash-signed payload, a
part, or an aws-chunked body with its decoded length."""
import base64
import hashlib
import http.client
import urllib.parse
import uuid
import zlib

import pytest

import sigv4
from conftest import ACCESS_KEY, BUCKET, ENDPOINT, SECRET_KEY, client

URL = urllib.parse.urlsplit(ENDPOINT)
HOST = URL.netloc


def _chunked(request, **_kwargs):
    request.headers.add_header("Transfer-Encoding", "chunked")


def key():
    return f"te-{uuid.uuid4().hex[:12]}"


def put_chunked(path, pieces, payload_hash="UNSIGNED-PAYLOAD", headers=None, query=""):
    """PUTs `pieces` as HTTP/1.1 chunks, without Content-Length; answers
    (status, body)."""
    signed = sigv4.sign("PUT", HOST, path, ACCESS_KEY, SECRET_KEY, query=query,
                        headers=headers, payload_hash=payload_hash)
    signed["transfer-encoding"] = "chunked"
    conn = http.client.HTTPConnection(URL.hostname, URL.port, timeout=30)
    try:
        conn.putrequest("PUT", path + ("?" + query if query else ""), skip_host=True,
                        skip_accept_encoding=True)
        for name, value in signed.items():
            conn.putheader(name, value)
        conn.endheaders()
        for piece in pieces:
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_boto3_with_a_chunked_transfer_encoding():
    s3 = client()
    s3.meta.events.register_first("before-sign.*.*", _chunked)
    name = key()
    answer = s3.put_object(Bucket=BUCKET, Key=name, Body=b"bar")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client().get_object(Bucket=BUCKET, Key=name)["Body"].read() == b"bar"


@pytest.mark.parametrize("signed", [False, True])
def test_a_raw_chunked_put_without_a_length_is_stored(signed):
    pieces = [b"first piece, ", b"second piece, ", b"x" * 70000, b"end"]
    body = b"".join(pieces)
    payload = hashlib.sha256(body).hexdigest() if signed else "UNSIGNED-PAYLOAD"
    name = key()
    status, answer = put_chunked(f"/{BUCKET}/{name}", pieces, payload)
    assert status == 200, answer
    got = client().get_object(Bucket=BUCKET, Key=name)
    assert got["Body"].read() == body
    assert got["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()


def test_a_chunked_body_that_fails_its_signed_hash_stores_nothing():
    name = key()
    status, answer = put_chunked(f"/{BUCKET}/{name}", [b"not what was signed"],
                                 hashlib.sha256(b"other").hexdigest())
    assert status == 400, answer
    assert b"XAmzContentSHA256Mismatch" in answer
    listed = client().list_objects_v2(Bucket=BUCKET, Prefix=name)
    assert "Contents" not in listed


def test_an_upload_part_may_be_chunked_too():
    s3 = client()
    name = key()
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=name)["UploadId"]
    query = f"partNumber=1&uploadId={upload}"
    status, answer = put_chunked(f"/{BUCKET}/{name}", [b"only ", b"part"], query=query)
    assert status == 200, answer
    parts = s3.list_parts(Bucket=BUCKET, Key=name, UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 9)]
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key=name, UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts[0]["ETag"]}]})
    assert s3.get_object(Bucket=BUCKET, Key=name)["Body"].read() == b"only part"


def test_an_aws_chunked_body_may_ride_on_http_chunks():
    data = b"payload " * 2000
    checksum = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    framed = (f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n"
              + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode())
    headers = {"content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
               "x-amz-decoded-content-length": str(len(data))}
    name = key()
    status, answer = put_chunked(f"/{BUCKET}/{name}", [framed[:100], framed[100:]],
                                 "STREAMING-UNSIGNED-PAYLOAD-TRAILER", headers=headers)
    assert status == 200, answer
    assert client().get_object(Bucket=BUCKET, Key=name)["Body"].read() == data
