"""Operations under traffic: the credentials file reloaded while requests
flow (a new key works, a removed key is refused, a broken file changes
nothing), the bucket map reloaded from the config file (a request in
flight keeps the map it started with), and oversized requests refused
with S3 errors."""
import os
import socket
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ENDPOINT, TMP, client, metric, start_slow_upload

CREDENTIALS = os.path.join(TMP, "credentials.toml")
NEW = ("CGNEWKEY000000000001", "new-secret-000000000000000000000000000")
SCOPED = ("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")


def replace_credentials(text):
    """Writes the file as tools do: a temporary file renamed over it."""
    temporary = CREDENTIALS + ".tmp"
    with open(temporary, "w") as out:
        out.write(text)
    os.replace(temporary, CREDENTIALS)


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "ok"


def refusals(what):
    """How many reloads of `what` the gateway's log (CG_TMP/gateway.log)
    reports refused so far."""
    with open(os.path.join(TMP, "gateway.log")) as log:
        return sum(1 for line in log if "reload refused" in line and what in line)


def eventually(check, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_credentials_reload_under_load():
    original = open(CREDENTIALS).read()
    s3 = client()
    s3.put_object(Bucket="alpha", Key="reload/object", Body=b"steady")
    failures, served, stop = [], [0], threading.Event()

    def load():
        worker = client()
        while not stop.is_set():
            try:
                assert worker.get_object(Bucket="alpha", Key="reload/object")["Body"].read() == b"steady"
                served[0] += 1
            except Exception as error:  # noqa: BLE001 - every failure is reported
                failures.append(repr(error))

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        new = client(*NEW)
        scoped = client(*SCOPED)
        assert error_code(lambda: new.list_objects_v2(Bucket="alpha")) == "InvalidAccessKeyId"
        assert error_code(lambda: scoped.list_objects_v2(Bucket="alpha")) == "AccessDenied"
        reloads = metric("s3_credential_cache_size")

        # The new key is added (as another name for the tester), the scoped one removed.
        kept = original.split("[[credential]]\naccess_key = \"CGSCOPEDKEY000000001\"")[0]
        rest = original.split("groups = [\"beta-team\"]\n", 1)[1]
        replace_credentials(kept + rest + f'''
[[credential]]
access_key = "{NEW[0]}"
secret_key = "{NEW[1]}"
principal = "tester"
''')
        assert eventually(lambda: error_code(lambda: new.list_objects_v2(Bucket="alpha")) == "ok")
        assert error_code(lambda: scoped.list_objects_v2(Bucket="alpha")) == "InvalidAccessKeyId"
        assert metric("s3_credential_cache_size") == reloads

        # A broken file is refused; the credentials in force stay.
        refused = refusals("credentials")
        replace_credentials(original + "\n[[credential]]\naccess_key = \"x\"\n")
        assert eventually(lambda: refusals("credentials") > refused), "no refusal logged"
        assert error_code(lambda: new.list_objects_v2(Bucket="alpha")) == "ok"
        assert error_code(lambda: scoped.list_objects_v2(Bucket="alpha")) == "InvalidAccessKeyId"
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        replace_credentials(original)
    assert failures == [], failures[:5]
    assert served[0] > 20, served[0]
    assert eventually(lambda: error_code(lambda: client(*NEW).list_objects_v2(Bucket="alpha"))
                      == "InvalidAccessKeyId")


def raw_request(head, body=b"", read=True):
    host, port = ENDPOINT.replace("http://", "").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head + body)
        if not read:
            return b""
        answer = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def status_and_code(answer):
    status = int(answer.split(b"\r\n")[0].split(b" ")[1])
    code = answer.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in answer else None
    return status, code


def test_oversized_header_sections_are_refused_with_an_s3_error():
    head = b"GET /alpha/k HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    many = b"".join(b"x-extra-%d: v\r\n" % i for i in range(150))
    assert status_and_code(raw_request(head + many + b"\r\n")) == (400, "RequestHeaderSectionTooLarge")
    big = b"x-extra: " + b"v" * (20 * 1024) + b"\r\n"
    assert status_and_code(raw_request(head + big + b"\r\n")) == (400, "RequestHeaderSectionTooLarge")
    # Past pingora's own limit of 256 headers the connection is refused as a bad request.
    too_many = b"".join(b"x-extra-%d: v\r\n" % i for i in range(300))
    answer = raw_request(head + too_many + b"\r\n")
    assert answer == b"" or status_and_code(answer)[0] == 400, answer[:100]
    # A request within the limits is served as usual.
    assert status_and_code(raw_request(head + b"x-extra: ok\r\n\r\n"))[0] == 403


def test_oversized_xml_bodies_are_refused():
    s3 = client()
    keys = [{"Key": f"k{i}"} for i in range(1001)]
    with pytest.raises(ClientError) as refused:
        s3.delete_objects(Bucket="alpha", Delete={"Objects": keys})
    assert refused.value.response["Error"]["Code"] == "MalformedXML"
    upload = s3.create_multipart_upload(Bucket="alpha", Key="xml/parts")["UploadId"]
    parts = [{"PartNumber": i, "ETag": '"%032x"' % i} for i in range(1, 10002)]
    with pytest.raises(ClientError) as refused:
        s3.complete_multipart_upload(Bucket="alpha", Key="xml/parts", UploadId=upload,
                                     MultipartUpload={"Parts": parts})
    assert refused.value.response["Error"]["Code"] in ("MalformedXML", "InvalidArgument")
    s3.abort_multipart_upload(Bucket="alpha", Key="xml/parts", UploadId=upload)


CONFIG = os.path.join(TMP, "cedargate.toml")


def replace_config(text):
    temporary = CONFIG + ".tmp"
    with open(temporary, "w") as out:
        out.write(text)
    os.replace(temporary, CONFIG)


def test_the_bucket_map_reloads_and_requests_in_flight_keep_their_snapshot():
    s3 = client()
    original = open(CONFIG).read()
    beta = '[buckets.beta]\nbackend = "local"\n'
    assert beta in original
    s3.put_object(Bucket="alpha", Key="remap/one", Body=b"alpha's")
    assert error_code(lambda: s3.list_objects_v2(Bucket="gamma")) == "NoSuchBucket"

    body = os.urandom(1024 * 1024)
    # 16 pieces over about 1.6 s.
    uploader, result = start_slow_upload("beta", "in-flight", body, 16, 0.1)
    assert eventually(lambda: metric("s3_inflight_requests") >= 1), "the upload did not start"
    try:
        # `beta` goes away, `gamma` appears as another name for alpha's data.
        replace_config(original.replace(beta, '[buckets.gamma]\nbackend = "local"\nbackend_bucket = "alpha"\n'))
        assert eventually(lambda: error_code(lambda: s3.list_objects_v2(Bucket="gamma")) == "ok")
        assert s3.get_object(Bucket="gamma", Key="remap/one")["Body"].read() == b"alpha's"
        assert error_code(lambda: s3.list_objects_v2(Bucket="beta")) == "NoSuchBucket"
        uploader.join(timeout=30)
        assert result.get("status") == 200, "the upload started on the old map must finish"

        # A config that does not validate changes nothing.
        refused = refusals("bucket map")
        replace_config(original.replace(beta, '[buckets.beta]\nbackend = "no-such-backend"\n'))
        assert eventually(lambda: refusals("bucket map") > refused), "no refusal logged"
        assert s3.get_object(Bucket="gamma", Key="remap/one")["Body"].read() == b"alpha's"
        assert error_code(lambda: s3.list_objects_v2(Bucket="beta")) == "NoSuchBucket"
    finally:
        uploader.join(timeout=30)
        replace_config(original)
    assert eventually(lambda: error_code(lambda: s3.list_objects_v2(Bucket="beta")) == "ok")
    assert s3.get_object(Bucket="beta", Key="in-flight")["Body"].read() == body
