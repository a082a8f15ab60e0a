"""Real S3 tools against a running gateway: rclone, s3cmd and the AWS CLI.

The harness (tests/tools.rs) runs this file once over a bucket on the fs
backend and once over a bucket on the s3 backend. Every tool is configured
only through files and variables made here, with a HOME of its own, so no
configuration of the machine's user is ever read; every call has a timeout,
and the tools' own retries are off so that a failing request fails the test.
Test data is pseudo-random from fixed seeds, written to temp directories.

CreateBucket is not served yet: rclone is told not to create the bucket
(`no_check_bucket`, see `rclone`).
"""
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, BUCKET, ENDPOINT, SECRET_KEY, TMP, client

# Set by the harness when the bucket lives on an s3 backend: where its
# objects must land upstream.
UPSTREAM_ENDPOINT = os.environ.get("CG_UPSTREAM_ENDPOINT")
UPSTREAM_BUCKET = os.environ.get("CG_UPSTREAM_BUCKET")
UPSTREAM_PREFIX = os.environ.get("CG_UPSTREAM_PREFIX", "")

MIB = 1024 * 1024


# --- running tools ----------------------------------------------------------

def run(args, env, timeout=120, check=True):
    """Runs a tool to completion within `timeout` seconds (the child is
    killed past it); fails the test on a non-zero exit unless `check` is off."""
    assert shutil.which(args[0], path=env["PATH"]), f"{args[0]} is not installed: run scripts/setup"
    result = subprocess.run(args, env=env, capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert result.returncode == 0, (
            f"{' '.join(args)} exited {result.returncode}:\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def home():
    """A HOME of the tools' own: nothing from ~/.aws, ~/.s3cfg or
    ~/.config/rclone can leak in."""
    return tempfile.mkdtemp(prefix="tools-home-", dir=TMP)


def clean_env(home):
    """The environment without any AWS_, RCLONE_ or S3CMD variable of the
    caller (an inherited AWS_CA_BUNDLE alone breaks rclone's client)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "S3CMD"))}
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"), TZ="UTC")
    return env


@pytest.fixture(scope="module")
def rclone(home):
    """`rclone(*args)`: rclone with the remote `cg:` pointing at the gateway,
    configured by RCLONE_CONFIG_CG_* variables over an empty config file."""
    config = os.path.join(home, "rclone.conf")
    open(config, "w").close()
    env = clean_env(home)
    env.update(
        RCLONE_CONFIG_CG_TYPE="s3",
        RCLONE_CONFIG_CG_PROVIDER="Other",
        RCLONE_CONFIG_CG_ENDPOINT=ENDPOINT,
        RCLONE_CONFIG_CG_ACCESS_KEY_ID=ACCESS_KEY,
        RCLONE_CONFIG_CG_SECRET_ACCESS_KEY=SECRET_KEY,
        RCLONE_CONFIG_CG_REGION="us-east-1",
        RCLONE_CONFIG_CG_FORCE_PATH_STYLE="true",
    )

    def call(*args, check=True, timeout=120):
        return run(["rclone", "--config", config, "--low-level-retries", "1",
                    "--retries", "1", "--contimeout", "5s", "--timeout", "60s",
                    *args], env, timeout=timeout, check=check)
    return call


@pytest.fixture(scope="module")
def s3cmd(home):
    """`s3cmd(*args)`: s3cmd with a config file of its own (-c)."""
    config = os.path.join(home, "s3cfg")
    host = ENDPOINT.removeprefix("http://")
    with open(config, "w") as f:
        f.write(
            "[default]\n"
            f"access_key = {ACCESS_KEY}\n"
            f"secret_key = {SECRET_KEY}\n"
            f"host_base = {host}\n"
            f"host_bucket = {host}\n"  # path-style addressing
            "use_https = False\n"
            "signature_v2 = False\n"
            "bucket_location = us-east-1\n"
            "max_retries = 0\n"
            "socket_timeout = 60\n"
            "progress_meter = False\n")
    env = clean_env(home)

    def call(*args, check=True, timeout=120):
        return run(["s3cmd", "-c", config, *args], env, timeout=timeout, check=check)
    return call


@pytest.fixture(scope="module")
def aws(home):
    """`aws(*args)`: the AWS CLI with config and credentials files of its own."""
    config = os.path.join(home, "aws-config")
    credentials = os.path.join(home, "aws-credentials")
    with open(config, "w") as f:
        f.write("[default]\nregion = us-east-1\nmax_attempts = 1\n"
                "s3 =\n    addressing_style = path\n")
    with open(credentials, "w") as f:
        f.write(f"[default]\naws_access_key_id = {ACCESS_KEY}\n"
                f"aws_secret_access_key = {SECRET_KEY}\n")
    env = clean_env(home)
    env.update(AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=credentials,
               AWS_EC2_METADATA_DISABLED="true")

    def call(*args, check=True, timeout=180):
        return run(["aws", "--endpoint-url", ENDPOINT, *args], env, timeout=timeout, check=check)
    return call


@pytest.fixture
def workdir():
    """A fresh local directory for one test's files."""
    return tempfile.mkdtemp(prefix="tools-", dir=TMP)


# --- test data --------------------------------------------------------------

def pseudo_random(seed, size):
    return random.Random(seed).randbytes(size)


def write_tree(root, files, mtime=None):
    """Writes `files` ({relative path: bytes}) under `root`, last modified
    at `mtime` (seconds since the epoch) when given."""
    for name, body in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
        if mtime is not None:
            os.utime(path, (mtime, mtime))


def tree_digests(root):
    """{relative path: sha256} of every file under `root`."""
    digests = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                digests[os.path.relpath(path, root)] = hashlib.file_digest(f, "sha256").hexdigest()
    return digests


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def keys_under(key_prefix):
    """Every key of the bucket under `key_prefix`, as a plain S3 client sees it."""
    pages = client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=key_prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def assert_read_back(key_prefix, files):
    """Each of `files` reads back byte-identical through the gateway."""
    s3 = client()
    for name, body in files.items():
        got = s3.get_object(Bucket=BUCKET, Key=key_prefix + name)["Body"].read()
        assert got == body, f"{key_prefix + name}: {len(got)} bytes read back differ"


def assert_upstream_holds(key_prefix, count):
    """On an s3 backend, the upstream bucket holds `count` objects under the
    bucket's prefix + `key_prefix` (the data really went through it)."""
    if not UPSTREAM_ENDPOINT:
        return
    import boto3
    upstream = boto3.client("s3", endpoint_url=UPSTREAM_ENDPOINT, region_name="us-east-1",
                            aws_access_key_id="upstream", aws_secret_access_key="upstream")
    pages = upstream.get_paginator("list_objects_v2").paginate(
        Bucket=UPSTREAM_BUCKET, Prefix=UPSTREAM_PREFIX + key_prefix)
    held = sum(len(page.get("Contents", [])) for page in pages)
    assert held == count, f"upstream holds {held} objects under {UPSTREAM_PREFIX + key_prefix}"


def rclone_check_counts(output):
    """(differences, matching files) that `rclone check` reported."""
    differences = re.search(r"(\d+) differences found", output)
    matching = re.search(r"(\d+) matching files", output)
    assert differences and matching, output
    return int(differences.group(1)), int(matching.group(1))


# --- rclone -----------------------------------------------------------------

RCLONE_TREE = {
    "a.txt": b"alpha\n",
    "empty.txt": b"",
    "sub dir/b+c.txt": pseudo_random(1, 1000),
    "sub dir/\u00fc \u00e9.txt": pseudo_random(2, 3000),
    "q&x=y;z (1)~.txt": pseudo_random(3, 10),
    "deep/1/2/3/blob.bin": pseudo_random(4, 300 * 1024),
    "deep/1/other.bin": pseudo_random(5, 4096),
}


def test_rclone_copy_check_sync_lsf_delete(rclone, prefix, workdir):
    local = os.path.join(workdir, "tree")
    write_tree(local, RCLONE_TREE)
    remote = f"cg:{BUCKET}/{prefix}tree"
    key_prefix = prefix + "tree/"

    rclone("copy", local, remote)
    listed = rclone("lsf", "-R", "--files-only", remote).stdout.splitlines()
    assert sorted(listed) == sorted(RCLONE_TREE), listed
    assert keys_under(key_prefix) == sorted(key_prefix + name for name in RCLONE_TREE)
    assert_read_back(key_prefix, RCLONE_TREE)
    assert_upstream_holds(key_prefix, len(RCLONE_TREE))

    checked = rclone("check", local, remote)
    assert rclone_check_counts(checked.stderr) == (0, len(RCLONE_TREE)), checked.stderr
    assert "No common hash" not in checked.stderr, checked.stderr
    assert "could not be checked" not in checked.stderr, checked.stderr

    # The same size, other bytes: only the MD5 comparison can see it.
    changed = dict(RCLONE_TREE, **{"sub dir/b+c.txt": pseudo_random(6, 1000)})
    write_tree(local, {"sub dir/b+c.txt": changed["sub dir/b+c.txt"]}, mtime=1_650_000_000)
    differs = rclone("check", local, remote, check=False)
    assert differs.returncode != 0, differs.stderr
    assert rclone_check_counts(differs.stderr) == (1, len(RCLONE_TREE) - 1), differs.stderr

    # sync: one file changed, one gone, one new, one with only a new mtime
    # (rclone updates that one's metadata by a CopyObject onto itself).
    os.remove(os.path.join(local, "a.txt"))
    del changed["a.txt"]
    changed["new/n.bin"] = pseudo_random(7, 777)
    write_tree(local, {"new/n.bin": changed["new/n.bin"]})
    os.utime(os.path.join(local, "deep/1/other.bin"), (1_600_000_000, 1_600_000_000))
    synced = rclone("sync", "-v", local, remote).stderr
    assert "sub dir/b+c.txt: Copied (replaced existing)" in synced, synced
    assert "new/n.bin: Copied (new)" in synced, synced
    assert "a.txt: Deleted" in synced, synced
    assert "deep/1/other.bin: Updated modification time in destination" in synced, synced
    mtime = rclone("lsf", "--format", "t", "--files-only", remote + "/deep/1").stdout
    assert mtime.strip() == "2020-09-13 12:26:40", mtime
    assert keys_under(key_prefix) == sorted(key_prefix + name for name in changed)
    assert_read_back(key_prefix, changed)
    checked = rclone("check", local, remote)
    assert rclone_check_counts(checked.stderr) == (0, len(changed)), checked.stderr

    rclone("delete", remote, "--include", "sub dir/**")
    remaining = sorted(name for name in changed if not name.startswith("sub dir/"))
    assert sorted(rclone("lsf", "-R", "--files-only", remote).stdout.splitlines()) == remaining
    assert keys_under(key_prefix) == [key_prefix + name for name in remaining]
    rclone("delete", remote)
    assert keys_under(key_prefix) == []
    assert_upstream_holds(key_prefix, 0)


def test_rclone_mkdir_copy_purge_a_bucket_of_its_own(rclone, workdir):
    bucket = "rclone-" + uuid.uuid4().hex[:12]
    rclone("mkdir", f"cg:{bucket}")
    assert bucket in rclone("lsd", "cg:").stdout
    local = os.path.join(workdir, "own")
    files = {"one.txt": pseudo_random(11, 300), "nested/two.bin": pseudo_random(12, 70_000)}
    write_tree(local, files)
    rclone("copy", local, f"cg:{bucket}")
    checked = rclone("check", local, f"cg:{bucket}")
    assert rclone_check_counts(checked.stderr) == (0, len(files)), checked.stderr
    got = client().get_object(Bucket=bucket, Key="nested/two.bin")["Body"].read()
    assert got == files["nested/two.bin"]
    rclone("purge", f"cg:{bucket}")
    assert bucket not in rclone("lsd", "cg:").stdout
    with pytest.raises(ClientError) as gone:
        client().head_bucket(Bucket=bucket)
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_rclone_100_mib_single_put_and_multipart_read_back_identical(rclone, prefix, workdir):
    big = os.path.join(workdir, "big.bin")
    body = pseudo_random(100, 100 * MIB)
    with open(big, "wb") as f:
        f.write(body)
    expected = hashlib.sha256(body).hexdigest()
    md5 = hashlib.md5(body).hexdigest()
    del body
    remote = f"cg:{BUCKET}/{prefix}big"

    # Below rclone's 200 MiB upload cutoff: one PutObject of 100 MiB.
    rclone("copyto", big, remote + "/single.bin", timeout=180)
    # 16 MiB parts: CreateMultipartUpload, 7 UploadParts, Complete.
    rclone("copyto", "--s3-upload-cutoff", "16M", "--s3-chunk-size", "16M",
           big, remote + "/multipart.bin", timeout=180)
    s3 = client()
    single = s3.head_object(Bucket=BUCKET, Key=prefix + "big/single.bin")
    assert (single["ContentLength"], single["ETag"]) == (100 * MIB, f'"{md5}"')
    multipart = s3.head_object(Bucket=BUCKET, Key=prefix + "big/multipart.bin")
    assert multipart["ContentLength"] == 100 * MIB
    assert multipart["ETag"].endswith('-7"'), multipart["ETag"]
    # Server-side, in 16 MiB parts: CreateMultipartUpload, 7 UploadPartCopy
    # with x-amz-copy-source-range, Complete (rclone's copy of objects
    # above its 4.6 GiB copy cutoff).
    rclone("copyto", "--s3-copy-cutoff", "16M", remote + "/single.bin",
           remote + "/copied.bin", timeout=180)
    copied = s3.head_object(Bucket=BUCKET, Key=prefix + "big/copied.bin")
    assert copied["ContentLength"] == 100 * MIB
    assert copied["ETag"].endswith('-7"'), copied["ETag"]
    assert_upstream_holds(prefix + "big/", 3)

    for name in ["single.bin", "multipart.bin", "copied.bin"]:
        target = os.path.join(workdir, "read-back-" + name)
        rclone("copyto", f"{remote}/{name}", target, timeout=180)
        assert os.path.getsize(target) == 100 * MIB
        assert file_sha256(target) == expected, f"{name} read back differs"
        os.remove(target)
    rclone("delete", remote)
    assert keys_under(prefix + "big/") == []


def test_rclone_settier_is_honoured_or_refused_never_ignored(rclone, prefix, workdir):
    write_tree(workdir, {"tier.txt": b"tier\n"})
    remote = f"cg:{BUCKET}/{prefix}tier.txt"
    rclone("copyto", os.path.join(workdir, "tier.txt"), remote)
    # A CopyObject onto itself with x-amz-storage-class: STANDARD_IA.
    settier = rclone("settier", "STANDARD_IA", remote, check=False)
    head = client().head_object(Bucket=BUCKET, Key=prefix + "tier.txt")
    if UPSTREAM_ENDPOINT:
        assert settier.returncode == 0 and "ERROR" not in settier.stderr, settier.stderr
        assert head.get("StorageClass") == "STANDARD_IA", head
    else:
        # The fs backend stores only STANDARD and says so (rclone 1.60
        # reports it but still exits 0).
        assert "Failed to do SetTier, NotImplemented" in settier.stderr, settier.stderr
        assert head.get("StorageClass", "STANDARD") == "STANDARD", head
    assert client().get_object(Bucket=BUCKET, Key=prefix + "tier.txt")["Body"].read() == b"tier\n"


# --- s3cmd ------------------------------------------------------------------

def s3cmd_ls(s3cmd, url):
    """{url: size} that `s3cmd ls` prints for objects under `url`."""
    listing = {}
    for line in s3cmd("ls", "-r", url).stdout.splitlines():
        found = re.match(r"^\S+ \S+\s+(\d+)\s+(s3://.+)$", line)
        if found:
            listing[found.group(2)] = int(found.group(1))
    return listing


def test_s3cmd_put_get_ls_info_del(s3cmd, prefix, workdir):
    base = f"s3://{BUCKET}/{prefix}"
    small = os.path.join(workdir, "small.bin")
    small_body = pseudo_random(10, 100 * 1024)
    write_tree(workdir, {"small.bin": small_body})
    s3cmd("put", small, base + "small.bin")
    # 11 MiB in 5 MiB parts: s3cmd's multipart upload.
    large = os.path.join(workdir, "large.bin")
    large_body = pseudo_random(11, 11 * MIB)
    write_tree(workdir, {"large.bin": large_body})
    s3cmd("put", "--multipart-chunk-size-mb=5", large, base + "large.bin")
    assert_upstream_holds(prefix, 2)

    for name, body in [("small.bin", small_body), ("large.bin", large_body)]:
        target = os.path.join(workdir, "got-" + name)
        s3cmd("get", base + name, target)
        with open(target, "rb") as f:
            assert f.read() == body, f"{name} read back differs"

    assert s3cmd_ls(s3cmd, base) == {base + "small.bin": len(small_body),
                                     base + "large.bin": len(large_body)}
    info = s3cmd("info", base + "small.bin").stdout
    assert re.search(r"File size:\s+%d\n" % len(small_body), info), info
    assert re.search(r"MD5 sum:\s+%s\n" % hashlib.md5(small_body).hexdigest(), info), info
    large_info = s3cmd("info", base + "large.bin").stdout
    assert re.search(r"File size:\s+%d\n" % len(large_body), large_info), large_info
    head = client().head_object(Bucket=BUCKET, Key=prefix + "large.bin")
    assert head["ETag"].endswith('-3"'), head["ETag"]

    # cp and mv copy server-side, then put the source's ACL (read with
    # GetObjectAcl) on the copy.
    s3cmd("cp", base + "small.bin", base + "copy.bin")
    s3cmd("mv", base + "copy.bin", base + "moved.bin")
    assert_read_back(prefix, {"moved.bin": small_body})
    assert s3cmd_ls(s3cmd, base) == {base + "small.bin": len(small_body),
                                     base + "large.bin": len(large_body),
                                     base + "moved.bin": len(small_body)}
    s3cmd("del", base + "moved.bin")

    s3cmd("del", base + "small.bin")
    assert s3cmd_ls(s3cmd, base) == {base + "large.bin": len(large_body)}
    with pytest.raises(ClientError) as missing:
        client().head_object(Bucket=BUCKET, Key=prefix + "small.bin")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3cmd("del", base + "large.bin")
    assert keys_under(prefix) == []


S3CMD_TREE = {
    f"level{i % 3}/sub{i % 2}/file {i:02}.bin": pseudo_random(20 + i, 64 * i)
    for i in range(24)
} | {"top.txt": b"top\n", "\u00fcml\u00e4ut/x.txt": b"x\n"}


def test_s3cmd_sync_up_again_and_down(s3cmd, prefix, workdir):
    local = os.path.join(workdir, "tree") + "/"
    write_tree(local, S3CMD_TREE)
    url = f"s3://{BUCKET}/{prefix}tree/"

    up = s3cmd("sync", local, url).stdout
    assert up.count("upload: ") == len(S3CMD_TREE), up
    assert_read_back(prefix + "tree/", S3CMD_TREE)
    assert_upstream_holds(prefix + "tree/", len(S3CMD_TREE))
    # s3cmd compares size and the listing's MD5 ETag: nothing to send again.
    again = s3cmd("sync", local, url).stdout
    assert "upload: " not in again, again

    changed = "level1/sub1/file 01.bin"
    write_tree(local, {changed: pseudo_random(99, 64)})  # same size, other bytes
    os.remove(os.path.join(local, "top.txt"))
    third = s3cmd("sync", "--delete-removed", local, url).stdout
    uploads = re.findall(r"upload: '([^']+)'", third)
    assert [os.path.relpath(path, local) for path in uploads] == [changed], third
    assert f"delete: '{url}top.txt'" in third, third

    down = os.path.join(workdir, "down") + "/"
    fetched = s3cmd("sync", url, down).stdout
    assert fetched.count("download: ") == len(S3CMD_TREE) - 1, fetched
    assert tree_digests(down) == tree_digests(local)
    assert len(tree_digests(down)) == len(S3CMD_TREE) - 1


# --- AWS CLI ----------------------------------------------------------------

def aws_tree():
    """500 small files (0..4 KiB, some empty) in nested prefixes."""
    rng = random.Random(500)
    files = {}
    for i in range(500):
        if i % 4:
            name = f"d{i % 5}/e{i % 7}/f{i % 3}/file-{i:03}.bin"
        else:
            name = f"top{(i // 4) % 2}/file-{i:03}.bin"
        files[name] = rng.randbytes(rng.randrange(0, 4096))
    return files


def test_aws_s3_sync_500_files_up_down_and_again(aws, prefix, workdir):
    files = aws_tree()
    local = os.path.join(workdir, "up")
    # `aws s3 sync` uploads a file again when it was modified after the
    # object's LastModified; S3 (and moto) list LastModified in whole
    # seconds, so files written in the second of their upload would look
    # newer. Files written a while ago, as real trees are, do not.
    write_tree(local, files, mtime=1_600_000_000)
    url = f"s3://{BUCKET}/{prefix}tree"

    up = aws("s3", "sync", "--no-progress", local, url).stdout
    assert up.count("upload: ") == 500, up[-2000:]
    assert len(keys_under(prefix + "tree/")) == 500
    assert_upstream_holds(prefix + "tree/", 500)

    down = os.path.join(workdir, "down")
    fetched = aws("s3", "sync", "--no-progress", url, down).stdout
    assert fetched.count("download: ") == 500, fetched[-2000:]
    local_digests = tree_digests(local)
    assert len(local_digests) == 500
    assert tree_digests(down) == local_digests

    # Listing in pages of 100: the comparison spans five ListObjectsV2 pages.
    again = aws("s3", "sync", "--no-progress", "--page-size", "100", local, url)
    assert again.stdout.strip() == "" and again.stderr.strip() == "", \
        f"second sync up should transfer nothing:\n{again.stdout}\n{again.stderr}"
    again_down = aws("s3", "sync", "--no-progress", "--page-size", "100", url, down)
    assert again_down.stdout.strip() == "", \
        f"second sync down should transfer nothing:\n{again_down.stdout}"
