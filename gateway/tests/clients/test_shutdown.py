"""Graceful shutdown: on SIGTERM the gateway lets a request in flight
finish within its grace period, then exits by itself. The harness starts
it with `--grace-period-seconds 3`."""
import hashlib
import os
import signal
import time

from conftest import metric, start_slow_upload

BODY = os.urandom(2 * 1024 * 1024)


def test_an_upload_in_flight_finishes_after_sigterm():
    # 32 pieces over about 1.6 s.
    uploader, result = start_slow_upload("alpha", "drain/in-flight", BODY, 32, 0.05)
    deadline = time.time() + 10
    while metric("s3_inflight_requests") < 1:
        assert time.time() < deadline, "the upload did not start"
        time.sleep(0.02)
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
