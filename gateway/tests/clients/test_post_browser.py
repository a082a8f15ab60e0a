"""A real browser form upload: boto3's generate_presigned_post fields in
an HTML form that headless Chromium submits with a chosen file
(tests/browser/post_form.mjs); the object is then read back with a
signed GET. gateway/tests/post_object.rs runs it."""
import json
import os
import subprocess

from conftest import BUCKET, TMP, client

BROWSER_DIR = os.path.join(os.path.dirname(__file__), "..", "browser")


def test_chromium_submits_a_presigned_post_form(prefix):
    s3 = client(signature_version="s3v4")
    name = "browser upload \u00e9.bin"
    payload = os.urandom(300_000)
    chosen = os.path.join(TMP, name)
    with open(chosen, "wb") as f:
        f.write(payload)
    form = s3.generate_presigned_post(
        BUCKET, prefix + "${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}, ["content-length-range", 1, 1_000_000]],
        ExpiresIn=300)
    form["key"] = prefix + name
    form_file = os.path.join(TMP, "post-form.json")
    with open(form_file, "w") as f:
        json.dump(form, f)
    result = subprocess.run(
        [os.environ.get("CG_NODE", "node"), os.path.join(BROWSER_DIR, "post_form.mjs")],
        cwd=BROWSER_DIR, capture_output=True, text=True, timeout=120,
        env={**os.environ, "CG_FORM": form_file, "CG_FILE": chosen,
             "CG_CHROMIUM": os.environ.get("CG_CHROMIUM", "/usr/bin/chromium")})
    print(result.stdout)
    assert result.returncode == 0 and "all checks passed" in result.stdout, result.stderr
    got = s3.get_object(Bucket=BUCKET, Key=prefix + name)
    assert got["Body"].read() == payload
