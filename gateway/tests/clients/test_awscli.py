"""The AWS CLI against a real gateway on the filesystem backend."""
import filecmp
import json
import os
import subprocess

from conftest import BUCKET, ENDPOINT, TMP


def aws(*args, check=True):
    result = subprocess.run(
        ["aws", "--endpoint-url", ENDPOINT, *args],
        capture_output=True, text=True, timeout=300,
    )
    if check:
        assert result.returncode == 0, f"aws {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result


def test_multipart_copy_of_20_mib_downloads_byte_identical(prefix):
    source = os.path.join(TMP, "upload.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(20 * 1024 * 1024))
    url = f"s3://{BUCKET}/{prefix}big.bin"
    aws("s3", "cp", source, url)
    head = json.loads(aws("s3api", "head-object", "--bucket", BUCKET, "--key", prefix + "big.bin").stdout)
    assert head["ContentLength"] == 20 * 1024 * 1024
    assert head["ETag"].endswith('-3"'), head["ETag"]  # 8 MiB parts: 8 + 8 + 4
    target = os.path.join(TMP, "download.bin")
    aws("s3", "cp", url, target)
    assert filecmp.cmp(source, target, shallow=False)


def test_ls_sync_and_rm(prefix):
    tree = os.path.join(TMP, "tree")
    os.makedirs(os.path.join(tree, "sub dir"), exist_ok=True)
    for name in ["a.txt", "sub dir/b+c.txt", "sub dir/ü.txt"]:
        with open(os.path.join(tree, name), "w") as f:
            f.write(name)
    aws("s3", "sync", tree, f"s3://{BUCKET}/{prefix}tree")
    listing = aws("s3", "ls", "--recursive", f"s3://{BUCKET}/{prefix}tree/").stdout
    for name in ["a.txt", "sub dir/b+c.txt", "sub dir/ü.txt"]:
        assert f"{prefix}tree/{name}" in listing, listing
    again = aws("s3", "sync", tree, f"s3://{BUCKET}/{prefix}tree").stdout
    assert again.strip() == "", f"second sync should upload nothing: {again}"
    aws("s3", "rm", "--recursive", f"s3://{BUCKET}/{prefix}tree")
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", prefix).stdout or "{}")
    assert listed.get("KeyCount", 0) == 0


def test_cli_reports_errors():
    missing = aws("s3api", "head-object", "--bucket", BUCKET, "--key", "definitely-missing", check=False)
    assert missing.returncode != 0
    assert "404" in missing.stderr
    result = subprocess.run(
        ["aws", "--endpoint-url", ENDPOINT, "s3", "ls", f"s3://{BUCKET}"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "AWS_SECRET_ACCESS_KEY": "wrong"},
    )
    assert result.returncode != 0
    assert "SignatureDoesNotMatch" in result.stderr
