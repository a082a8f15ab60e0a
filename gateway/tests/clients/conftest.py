"""Fixtures for driving a running cedargate with real S3 clients.

The Rust harness (tests/utils) starts the gateway and passes its endpoint
and credentials through CG_* environment variables.
"""
import os
import re
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

ENDPOINT = os.environ["CG_ENDPOINT"]
ACCESS_KEY = os.environ["CG_ACCESS_KEY"]
SECRET_KEY = os.environ["CG_SECRET_KEY"]
DATA_DIR = os.environ["CG_DATA_DIR"]
TMP = os.environ["CG_TMP"]
BUCKET = "alpha"


def client(access_key=ACCESS_KEY, secret_key=SECRET_KEY, **config):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            **config,
        ),
    )


def start_slow_upload(bucket, key, body, pieces, delay):
    """Starts PUTting `body` through a presigned URL in `pieces` parts,
    `delay` seconds apart, on a thread; returns (thread, result), where
    result gets `status` and `etag` once the answer is in."""
    import threading
    import time
    import urllib.request

    url = client(signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    piece = max(1, -(-len(body) // pieces))
    result = {}

    def steady():
        for start in range(0, len(body), piece):
            time.sleep(delay)
            yield body[start:start + piece]

    def upload():
        request = urllib.request.Request(url, data=steady(), method="PUT",
                                         headers={"Content-Length": str(len(body))})
        with urllib.request.urlopen(request, timeout=30) as response:
            result["status"] = response.status
            result["etag"] = response.headers["ETag"]

    thread = threading.Thread(target=upload)
    thread.start()
    return thread, result


def metric(name, labels=""):
    """The value of `cedargate_<name><labels>` on the admin listener (0 when absent)."""
    text = urllib.request.urlopen(os.environ["CG_ADMIN"] + "/metrics", timeout=10).read().decode()
    found = re.search(r"^cedargate_%s%s (\d+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return int(found.group(1)) if found else 0


@pytest.fixture(scope="session")
def s3():
    return client()


@pytest.fixture
def prefix():
    """A fresh key prefix so tests never see each other's objects."""
    return f"t-{uuid.uuid4().hex[:12]}/"
