"""Traces exported over OTLP/HTTP to a receiver this test runs on
CG_OTLP_PORT: the request's span carries its request id, with a child span
for each pipeline stage."""
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import SECRET_KEY, client

STAGES = [b"route", b"limit", b"authenticate", b"authorize", b"dispatch"]


def test_a_request_is_exported_with_its_id_and_a_span_per_stage():
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("Content-Type"), body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["CG_OTLP_PORT"])), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = client().put_object(Bucket="alpha", Key="traced/object", Body=b"traced")
        request_id = answer["ResponseMetadata"]["RequestId"].encode()
        # A stage's span ends before the request's and may travel in an
        # earlier export: the spans are looked for across every export.
        names = [b"s3.request", b"cedargate", b"PutObject", b"alpha"] + STAGES
        deadline = time.time() + 10
        found, missing = None, names
        while time.time() < deadline and (found is None or missing):
            found = next((r for r in received if request_id in r[2]), None)
            exported = b"".join(r[2] for r in received)
            missing = [name for name in names if name not in exported]
            time.sleep(0.1)
        assert found is not None, f"no export carried {request_id!r}: {len(received)} exports"
        assert not missing, f"spans missing from every export: {missing}"
        for path, content_type, body in received:
            assert path == "/v1/traces"
            assert content_type == "application/x-protobuf"
            assert SECRET_KEY.encode() not in body
            assert b"traced/object" not in body
    finally:
        server.shutdown()
        server.server_close()
