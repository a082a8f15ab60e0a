"""Graceful shutdown: on SIGTERM the gateway lets a request in flight
finish within its grace period, then exits by itself. The harness starts
it with `--grace-period-seconds 3`."""
import hashlib
import os
import signal
import threading
import time
import urllib.request

from conftest import client

BODY = os.urandom(2 * 1024 * 1024)


def steady():
    """The body in 32 pieces over about 1.6 s."""
    piece = len(BODY) // 32
    for start in range(0, len(BODY), piece):
        time.sleep(0.05)
        yield BODY[start:start + piece]


def test_an_upload_in_flight_finishes_after_sigterm():
    url = client(signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": "alpha", "Key": "drain/in-flight"}, ExpiresIn=300)
    result = {}

    def upload():
        request = urllib.request.Request(url, data=steady(), method="PUT",
                                         headers={"Content-Length": str(len(BODY))})
        with urllib.request.urlopen(request, timeout=30) as response:
            result["status"] = response.status
            result["etag"] = response.headers["ETag"]

    uploader = threading.Thread(target=upload)
    uploader.start()
    time.sleep(0.4)
    pid = int(os.environ["CG_GATEWAY_PID"])
    signalled = time.time()
    os.kill(pid, signal.SIGTERM)
    uploader.join(timeout=30)
    assert result.get("status") == 200, result
    assert result["etag"] == '"%s"' % hashlib.md5(BODY).hexdigest()
    # The process ends by itself once the grace period and the drain are over.
    while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
        assert time.time() - signalled < 15, "the gateway did not exit after SIGTERM"
        time.sleep(0.1)
