"""Connection guards: a slowloris (a header section dribbled out byte by
byte) is cut off at the header deadline while a slow but steady upload
longer than that deadline completes; past max_connections a connection is
answered with SlowDown at once; a body that stalls is answered
RequestTimeout. The harness sets header_timeout_seconds = 2,
body_timeout_seconds = 2 and max_connections = 8."""
import hashlib
import os
import socket
import time

from conftest import ENDPOINT, client, start_slow_upload

HOST, PORT = ENDPOINT.replace("http://", "").split(":")
PORT = int(PORT)


def test_a_slowloris_is_cut_off_while_a_slow_steady_upload_completes():
    body = os.urandom(4 * 1024 * 1024)
    # 32 pieces over about 4.8 s: far longer than the header deadline.
    uploader, result = start_slow_upload("alpha", "slow/steady", body, 32, 0.15)
    slowloris = socket.create_connection((HOST, PORT), timeout=10)
    started = time.time()
    closed_after = None
    request = b"GET /alpha/slow/steady HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200
    try:
        for byte in request:
            slowloris.sendall(bytes([byte]))
            time.sleep(0.2)
            if time.time() - started > 10:
                break
    except OSError:
        closed_after = time.time() - started
    slowloris.settimeout(3)
    answer = b""
    try:
        while True:
            chunk = slowloris.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    if closed_after is None:
        closed_after = time.time() - started
    slowloris.close()
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:100]
    assert b"<Code>RequestTimeout</Code>" in answer
    uploader.join(timeout=30)
    assert closed_after is not None and closed_after < 6, closed_after
    assert result.get("status") == 200, result
    assert result["etag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = client().get_object(Bucket="alpha", Key="slow/steady")["Body"].read()
    assert got == body


def over_the_limit_answer(settle):
    """What a ninth connection hears while eight are held open, once the
    gateway has had `settle` seconds to take the eight in."""
    held = [socket.create_connection((HOST, PORT), timeout=5) for _ in range(8)]
    try:
        time.sleep(settle)
        extra = socket.create_connection((HOST, PORT), timeout=5)
        answer = b""
        while True:
            chunk = extra.recv(65536)
            if not chunk:
                break
            answer += chunk
        extra.close()
        return answer
    finally:
        for connection in held:
            connection.close()


def test_connections_past_the_limit_get_slowdown():
    # The gateway counts a connection once its task runs; on a loaded
    # machine that can take longer than a short pause, so the ninth
    # connection is tried again (three times at most) after longer pauses,
    # each shorter than the 2 s header deadline that closes the eight.
    for settle in (0.2, 0.6, 1.2):
        answer = over_the_limit_answer(settle)
        if answer.startswith(b"HTTP/1.1 429 "):
            break
    assert answer.startswith(b"HTTP/1.1 429 "), answer[:100]
    assert b"Retry-After: 1" in answer
    assert b"<Code>SlowDown</Code>" in answer
    # Once they are gone, requests are served again.
    deadline = time.time() + 5
    while True:
        try:
            client().list_objects_v2(Bucket="alpha")
            break
        except Exception:
            assert time.time() < deadline
            time.sleep(0.2)


def test_a_body_that_stalls_is_answered_request_timeout_and_stores_nothing():
    # The harness sets body_timeout_seconds = 2: the body below sends 10 of
    # its 100 declared bytes, then nothing.
    url = client(signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": "alpha", "Key": "slow/stalled"}, ExpiresIn=300)
    target = url.split(f":{PORT}", 1)[1]
    stalled = socket.create_connection((HOST, PORT), timeout=10)
    started = time.time()
    stalled.sendall(
        f"PUT {target} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Length: 100\r\n\r\n".encode()
        + b"x" * 10)
    answer = b""
    try:
        while time.time() - started < 10:
            chunk = stalled.recv(65536)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    waited = time.time() - started
    stalled.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"<Code>RequestTimeout</Code>" in answer, answer
    assert 1.5 < waited < 9, waited
    s3 = client()
    listed = s3.list_objects_v2(Bucket="alpha", Prefix="slow/stalled")
    assert listed.get("KeyCount", 0) == 0, listed
