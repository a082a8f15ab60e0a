"""The soak run behind bench/soak.sh: mixed signed traffic against a running
gateway for a fixed time, with policy reloads and upstream restarts, then
an audit of everything that was acknowledged.

Environment: CG_ENDPOINT, CG_ADMIN, CG_ACCESS_KEY / CG_SECRET_KEY (full
credential), CG_SCOPED_KEY / CG_SCOPED_SECRET (a credential every write is
denied to), CG_POLICY_FILE (rewritten every 10 s), CG_GATEWAY_PID,
CG_UPSTREAM_CMD / CG_UPSTREAM_PIDFILE (how to restart the upstream),
SOAK_SECONDS (default 1200), SOAK_RESTART_EVERY (default 120).
Everything talks to 127.0.0.1 only; every loop ends by the deadline.
"""
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError, ResponseStreamingError

ENDPOINT = os.environ["CG_ENDPOINT"]
ADMIN = os.environ["CG_ADMIN"]
SECONDS = int(os.environ.get("SOAK_SECONDS", "1200"))
RESTART_EVERY = int(os.environ.get("SOAK_RESTART_EVERY", "120"))
BUCKETS = ["local", "remote"]  # fs backend, s3 backend (restarted upstream)
WORKERS = 6
MiB = 1024 * 1024


def client(key, secret):
    return boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                      connect_timeout=5, read_timeout=30))


class Ledger:
    """What the gateway acknowledged: key -> sha256 (None: deleted); and for
    keys whose writes failed without a clear answer (5xx, connection lost),
    every content they may now have (the attempted write's sha256, None for
    a delete)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {b: {} for b in BUCKETS}
        self.in_doubt = {b: {} for b in BUCKETS}
        self.counts = {}
        self.errors_5xx = []  # (time, bucket, operation, status)
        self.unexpected = []

    def count(self, name):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1


ledger = Ledger()
restart_windows = []  # (start, end) of upstream restarts
stop_at = time.time() + SECONDS


def status_of(error):
    if isinstance(error, ClientError):
        return error.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def record_failure(bucket, key, attempt, error):
    status = status_of(error)
    if status is None or status >= 500:
        ledger.errors_5xx.append((time.time(), bucket, status))
        if attempt is not False:
            with ledger.lock:
                ledger.in_doubt[bucket].setdefault(key, set()).add(attempt)
    else:
        ledger.unexpected.append((bucket, key, status, str(error)[:200]))


def acknowledge(bucket, key, digest):
    with ledger.lock:
        ledger.acked[bucket][key] = digest
        ledger.in_doubt[bucket].pop(key, None)


def worker(seed):
    rng = random.Random(seed)
    s3 = client(os.environ["CG_ACCESS_KEY"], os.environ["CG_SECRET_KEY"])
    scoped = client(os.environ["CG_SCOPED_KEY"], os.environ["CG_SCOPED_SECRET"])
    serial = 0
    while time.time() < stop_at:
        bucket = rng.choice(BUCKETS)
        roll = rng.random()
        serial += 1
        key = f"soak/w{seed}/k{rng.randrange(200)}"
        attempt = False  # reads leave nothing in doubt
        try:
            if roll < 0.35:
                body = rng.randbytes(rng.choice([0, 1, 100, 4096, 65536, 300_000]))
                attempt = hashlib.sha256(body).hexdigest()
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                acknowledge(bucket, key, attempt)
                ledger.count("put")
            elif roll < 0.38:
                body = rng.randbytes(5 * MiB + rng.randrange(1, 300_000))
                attempt = hashlib.sha256(body).hexdigest()
                upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
                parts = []
                for number, start in enumerate(range(0, len(body), 5 * MiB), start=1):
                    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                                          Body=body[start:start + 5 * MiB])["ETag"]
                    parts.append({"PartNumber": number, "ETag": etag})
                s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                             MultipartUpload={"Parts": parts})
                acknowledge(bucket, key, attempt)
                ledger.count("multipart")
            elif roll < 0.70:
                with ledger.lock:
                    expected = ledger.acked[bucket].get(key, "absent")
                    doubtful = key in ledger.in_doubt[bucket]
                try:
                    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    got = hashlib.sha256(data).hexdigest()
                except ClientError as error:
                    if error.response["Error"]["Code"] != "NoSuchKey":
                        raise
                    got = None
                if not doubtful and expected != "absent" and got != expected:
                    # Another worker never writes this key: only this one.
                    ledger.unexpected.append((bucket, key, "read", got, expected))
                ledger.count("get")
            elif roll < 0.80:
                s3.list_objects_v2(Bucket=bucket, Prefix=f"soak/w{seed}/", MaxKeys=50)
                ledger.count("list")
            elif roll < 0.92:
                attempt = None
                s3.delete_object(Bucket=bucket, Key=key)
                acknowledge(bucket, key, None)
                ledger.count("delete")
            else:
                try:
                    scoped.put_object(Bucket=bucket, Key=f"soak/denied/{serial}", Body=b"no")
                    ledger.unexpected.append((bucket, key, 200, "a denied write was allowed"))
                except ClientError as error:
                    if error.response["Error"]["Code"] != "AccessDenied":
                        raise
                ledger.count("denied")
        except (ClientError, BotoConnectionError, EndpointConnectionError, ReadTimeoutError,
                ResponseStreamingError) as error:
            # A body cut short (the upstream died mid-GET) is a failure the
            # client noticed, never data passed off as complete.
            record_failure(bucket, key, attempt, error)


def reload_policies():
    path = os.environ["CG_POLICY_FILE"]
    original = open(path).read()
    generation = 0
    while time.time() < stop_at:
        time.sleep(10)
        generation += 1
        with open(path + ".tmp", "w") as out:
            out.write(original + f"\n// reload {generation}\n")
        os.replace(path + ".tmp", path)
        ledger.count("policy_reload")


def restart_upstream():
    pidfile = os.environ["CG_UPSTREAM_PIDFILE"]
    while time.time() + RESTART_EVERY < stop_at:
        time.sleep(RESTART_EVERY)
        start = time.time()
        pid = int(open(pidfile).read())
        os.kill(pid, signal.SIGKILL)
        time.sleep(3)
        subprocess.run(["bash", "-c", os.environ["CG_UPSTREAM_CMD"]], check=True)
        # The health probe and pooled connections need a few seconds.
        restart_windows.append((start, time.time() + 8))
        ledger.count("upstream_restart")


def process_stats(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) // 1024
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def sample(samples):
    pid = int(os.environ["CG_GATEWAY_PID"])
    while time.time() < stop_at:
        samples.append((time.time(), *process_stats(pid)))
        time.sleep(10)


def audit():
    """Reads back every acknowledged object; a key in doubt must hold its
    acknowledged content or one it was being written with, never a part."""
    s3 = client(os.environ["CG_ACCESS_KEY"], os.environ["CG_SECRET_KEY"])
    checked, problems = 0, []
    for bucket in BUCKETS:
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="soak/w"):
            listed.update(o["Key"] for o in page.get("Contents", []))
        keys = set(ledger.acked[bucket]) | set(ledger.in_doubt[bucket])
        for key in sorted(keys):
            allowed = {ledger.acked[bucket].get(key)} | ledger.in_doubt[bucket].get(key, set())
            if key in listed:
                data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                got = hashlib.sha256(data).hexdigest()
                checked += 1
            else:
                got = None
            if got not in allowed:
                problems.append(f"{bucket}/{key}: holds {got}, acknowledged or attempted: {allowed}")
        problems.extend(f"{bucket}/{key}: visible but never written" for key in sorted(listed - keys))
    return checked, problems


def in_restart_window(at):
    return any(start <= at <= end for start, end in restart_windows)


def main():
    samples = []
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    threads += [threading.Thread(target=reload_policies), threading.Thread(target=restart_upstream),
                threading.Thread(target=sample, args=(samples,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked, problems = audit()
    outside = [e for e in ledger.errors_5xx if not (e[1] == "remote" and in_restart_window(e[0]))]
    in_doubt = sum(len(keys) for keys in ledger.in_doubt.values())
    warm = [s for s in samples if s[0] - samples[0][0] >= 120] or samples
    first_rss, first_fds = warm[0][1], warm[0][2]
    last_rss = sorted(s[1] for s in samples[-6:])[len(samples[-6:]) // 2]
    last_fds = max(s[2] for s in samples[-3:])
    metrics = urllib.request.urlopen(ADMIN + "/metrics", timeout=10).read().decode()
    generation = [l for l in metrics.splitlines() if l.startswith("cedargate_policy_generation ")]
    summary = {
        "seconds": SECONDS,
        "operations": ledger.counts,
        "objects_read_back": checked,
        "keys_in_doubt_checked": in_doubt,
        "audit_problems": problems[:20],
        "unexpected_answers": ledger.unexpected[:20],
        "5xx_total": len(ledger.errors_5xx),
        "5xx_outside_restart_windows": outside[:20],
        "rss_mib_after_warmup": first_rss,
        "rss_mib_at_end": last_rss,
        "fds_after_warmup": first_fds,
        "fds_at_end": last_fds,
        "policy_generation": generation[0].split()[1] if generation else None,
    }
    print(json.dumps(summary, indent=2))
    failed = (problems or ledger.unexpected or outside
              or last_rss > first_rss * 1.25 + 10 or last_fds > first_fds + 16)
    print("soak: FAILED" if failed else "soak: passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
