"""Metric labels take values from fixed sets: thousands of unsigned
requests with made-up HTTP methods and made-up bucket names add no series
to /metrics, and operations sent afterwards (DeleteObject, HeadBucket)
still show there."""
import http.client
import os
import urllib.parse
import urllib.request

from conftest import ENDPOINT, client


def exposition():
    return urllib.request.urlopen(os.environ["CG_ADMIN"] + "/metrics", timeout=10).read().decode()


def series(text):
    """Every series of the exposition: its name and labels, without the value."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def flood(methods, buckets):
    """One unsigned request per made-up method, then one GET per made-up
    bucket, over a kept-alive connection (reopened when the gateway closes it)."""
    url = urllib.parse.urlparse(ENDPOINT)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    requests = [(method, "/alpha/flood") for method in methods]
    requests += [("GET", f"/{bucket}/flood") for bucket in buckets]
    answered = 0
    for method, path in requests:
        try:
            conn.request(method, path, headers={"Content-Length": "0"})
            response = conn.getresponse()
            response.read()
            answered += 1
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.close()
    assert answered >= len(requests) * 9 // 10, f"only {answered} of {len(requests)} answered"


def test_made_up_methods_and_buckets_add_no_series():
    # A first round creates whatever series such requests make...
    flood([f"MADEUP{i}" for i in range(200)], [f"flood-a-{i:05d}" for i in range(200)])
    before = series(exposition())
    # ...and 1,800 more of each add none.
    flood([f"OTHER{i}" for i in range(1800)], [f"flood-b-{i:05d}" for i in range(1800)])
    text = exposition()
    after = series(text)
    assert after == before, f"new series: {sorted(after - before)[:10]}"
    assert 'method="other"' in text
    assert "MADEUP1" not in text and "flood-b-" not in text

    # Operations sent after the flood are still counted under their names.
    s3 = client()
    s3.put_object(Bucket="alpha", Key="metrics/after-flood", Body=b"x")
    s3.delete_object(Bucket="alpha", Key="metrics/after-flood")
    s3.head_bucket(Bucket="alpha")
    text = exposition()
    for operation in ("DeleteObject", "HeadBucket"):
        assert any(f'operation="{operation}"' in line and line.startswith("cedargate_s3_request_total")
                   for line in text.splitlines()), f"{operation} missing from /metrics"
    assert "otel_metric_overflow" not in text and "otel.metric.overflow" not in text
