"""POST Object: forms from boto3's generate_presigned_post, sent as a
browser sends them (multipart/form-data, the file last), against a
gateway whose policies forbid PutObject under `denied/` and tagging under
`untagged/` (see gateway/tests/post_object.rs)."""
import base64
import hashlib
import hmac
import http.client
import json
import urllib.request
import os
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from conftest import BUCKET, ENDPOINT, client

HOST = urllib.parse.urlparse(ENDPOINT)


def presigned(key, fields=None, conditions=None, expires=300, s3=None, bucket=BUCKET):
    return (s3 or client(signature_version="s3v4")).generate_presigned_post(
        bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)


def body_of(fields, file=("upload.bin", b"", "application/octet-stream"), after=(),
            boundary="----cedargateFormBoundary7MA4YWxk"):
    """A multipart/form-data body: `fields`, the file part, `after`."""
    out = b""
    for name, value in list(fields.items()) if isinstance(fields, dict) else fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                .encode() + (value if isinstance(value, bytes) else str(value).encode()) + b"\r\n")
    if file is not None:
        filename, content, content_type = file
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
        out += content + b"\r\n"
    for name, value in after:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def post(url, body, content_type):
    target = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    connection.request("POST", target.path or "/", body=body,
                       headers={"Content-Type": content_type})
    response = connection.getresponse()
    answer = (response.status, response.headers, response.read())
    connection.close()
    return answer


def send(form, file, **kwargs):
    body, content_type = body_of(form["fields"], file, **kwargs)
    return post(form["url"], body, content_type)


def code(body):
    return ET.fromstring(body).find("Code").text


def message(body):
    return ET.fromstring(body).find("Message").text


def stored(key):
    return client().get_object(Bucket=BUCKET, Key=key)


def absent(key):
    with pytest.raises(ClientError) as error:
        client().head_object(Bucket=BUCKET, Key=key)
    return error.value.response["Error"]["Code"] in ("404", "NoSuchKey")


def test_presigned_post_stores_the_file_with_its_fields(prefix):
    key = prefix + "photo one.png"
    payload = os.urandom(200_000)
    form = presigned(key, fields={"Content-Type": "image/png", "x-amz-meta-owner": "ada",
                                  "Cache-Control": "max-age=60"},
                     conditions=[{"Content-Type": "image/png"}, {"x-amz-meta-owner": "ada"},
                                 {"Cache-Control": "max-age=60"}])
    status, headers, body = send(form, ("photo.png", payload, "image/png"))
    assert status == 204, body
    etag = headers["ETag"]
    assert etag == '"%s"' % hashlib.md5(payload).hexdigest()
    got = stored(key)
    assert got["Body"].read() == payload
    assert got["ContentType"] == "image/png"
    assert got["Metadata"] == {"owner": "ada"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ETag"] == etag


def test_success_action_status_and_redirect(prefix):
    form = presigned(prefix + "created", fields={"success_action_status": "201"},
                     conditions=[{"success_action_status": "201"}])
    status, headers, body = send(form, ("a.txt", b"created", "text/plain"))
    assert status == 201, body
    doc = ET.fromstring(body)
    assert doc.tag == "PostResponse"
    assert doc.find("Bucket").text == BUCKET
    assert doc.find("Key").text == prefix + "created"
    assert doc.find("ETag").text == headers["ETag"]
    assert doc.find("Location").text.endswith("/%s/%s" % (BUCKET, urllib.parse.quote(prefix + "created")))

    form = presigned(prefix + "ok", fields={"success_action_status": "200"},
                     conditions=[{"success_action_status": "200"}])
    status, _, body = send(form, ("a.txt", b"ok", "text/plain"))
    assert (status, body) == (200, b"")

    done = "https://app.example.com/done?from=form"
    form = presigned(prefix + "moved", fields={"success_action_redirect": done},
                     conditions=[{"success_action_redirect": done}])
    status, headers, _ = send(form, ("a.txt", b"moved", "text/plain"))
    assert status == 303
    location = urllib.parse.urlparse(headers["Location"])
    query = urllib.parse.parse_qs(location.query)
    assert location.netloc == "app.example.com"
    assert query["bucket"] == [BUCKET]
    assert query["key"] == [prefix + "moved"]
    assert query["etag"] == [headers["ETag"]]
    assert stored(prefix + "moved")["Body"].read() == b"moved"


def test_key_from_filename_and_fields_after_the_file_are_ignored(prefix):
    form = presigned(prefix + "${filename}")
    status, _, body = send(form, ("report 2024.csv", b"a,b\n", "text/csv"),
                           after=[("x-amz-meta-late", "ignored")])
    assert status == 204, body
    got = stored(prefix + "report 2024.csv")
    assert got["Body"].read() == b"a,b\n"
    assert got["Metadata"] == {}


def test_tagging_field_is_stored(prefix):
    tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>blue sky</Value></Tag>"
               "</TagSet></Tagging>")
    form = presigned(prefix + "tagged", fields={"tagging": tagging},
                     conditions=[{"tagging": tagging}])
    status, _, body = send(form, ("t.txt", b"tagged", "text/plain"))
    assert status == 204, body
    tags = client().get_object_tagging(Bucket=BUCKET, Key=prefix + "tagged")["TagSet"]
    assert tags == [{"Key": "team", "Value": "blue sky"}]


def test_conditions_that_fail(prefix):
    limited = presigned(prefix + "small", conditions=[["content-length-range", 1, 10]])
    status, _, body = send(limited, ("big.bin", b"x" * 11, "application/octet-stream"))
    assert (status, code(body)) == (400, "EntityTooLarge"), body
    assert absent(prefix + "small")
    status, _, body = send(limited, ("empty.bin", b"", "application/octet-stream"))
    assert (status, code(body)) == (400, "EntityTooSmall"), body
    assert absent(prefix + "small")

    form = presigned(prefix + "${filename}", conditions=[["starts-with", "$key", prefix + "in/"]])
    form["fields"]["key"] = prefix + "out/${filename}"
    status, _, body = send(form, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (403, "AccessDenied"), body
    assert message(body).startswith("Invalid according to Policy: Policy Condition failed")
    assert absent(prefix + "out/f.txt")

    extra = presigned(prefix + "extra")
    extra["fields"]["x-amz-meta-sneaky"] = "1"
    status, _, body = send(extra, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (403, "AccessDenied"), body
    assert message(body) == "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky"
    assert absent(prefix + "extra")

    expired = presigned(prefix + "late", expires=1)
    time.sleep(2.1)
    status, _, body = send(expired, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (403, "AccessDenied"), body
    assert message(body) == "Invalid according to Policy: Policy expired."


def test_bad_signatures_and_unknown_keys(prefix):
    form = presigned(prefix + "forged")
    form["fields"]["x-amz-signature"] = "0" * 64
    status, _, body = send(form, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (401, "SignatureDoesNotMatch"), body

    other = presigned(prefix + "forged",
                      s3=client(secret_key="not-the-secret", signature_version="s3v4"))
    status, _, body = send(other, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (401, "SignatureDoesNotMatch"), body

    unknown = presigned(prefix + "forged",
                        s3=client(access_key="AKIDNOBODYKNOWS00000", signature_version="s3v4"))
    status, _, body = send(unknown, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (401, "InvalidAccessKeyId"), body

    tampered = presigned(prefix + "forged")
    document = json.loads(base64.b64decode(tampered["fields"]["policy"]))
    document["conditions"].append(["starts-with", "$x-amz-meta-any", ""])
    tampered["fields"]["policy"] = base64.b64encode(json.dumps(document).encode()).decode()
    status, _, body = send(tampered, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (401, "SignatureDoesNotMatch"), body
    assert absent(prefix + "forged")


def test_sigv2_forms_as_boto3_makes_them_by_default(prefix):
    form = client().generate_presigned_post(BUCKET, prefix + "v2")
    assert "AWSAccessKeyId" in form["fields"] and "signature" in form["fields"]
    status, _, body = send(form, ("f.txt", b"v2", "text/plain"))
    assert status == 204, body
    assert stored(prefix + "v2")["Body"].read() == b"v2"

    policy = base64.b64encode(json.dumps({
        "expiration": "2099-01-01T00:00:00Z",
        "conditions": [{"bucket": BUCKET}, ["starts-with", "$key", prefix]]}).encode())
    signature = base64.b64encode(hmac.new(b"not-the-secret", policy, hashlib.sha1).digest())
    forged = {"key": prefix + "v2-forged", "AWSAccessKeyId": form["fields"]["AWSAccessKeyId"],
              "policy": policy.decode(), "signature": signature.decode()}
    body, content_type = body_of(forged, ("f.txt", b"x", "text/plain"))
    status, _, answer = post("%s/%s" % (ENDPOINT, BUCKET), body, content_type)
    assert (status, code(answer)) == (401, "SignatureDoesNotMatch"), answer
    assert absent(prefix + "v2-forged")


def test_anonymous_forms_are_putobject_by_anonymous(prefix):
    body, content_type = body_of({"key": prefix + "anon"}, ("f.txt", b"x", "text/plain"))
    status, _, answer = post("%s/%s" % (ENDPOINT, BUCKET), body, content_type)
    assert (status, code(answer)) == (403, "AccessDenied"), answer
    assert absent(prefix + "anon")


def test_cedar_decides_as_putobject_for_the_signer(prefix):
    form = presigned("denied/" + prefix + "x")
    status, _, body = send(form, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (403, "AccessDenied"), body
    assert absent("denied/" + prefix + "x")

    tagging = "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
    form = presigned("untagged/" + prefix + "x", fields={"tagging": tagging},
                     conditions=[{"tagging": tagging}])
    status, _, body = send(form, ("f.txt", b"x", "text/plain"))
    assert (status, code(body)) == (403, "AccessDenied"), body
    untagged = presigned("untagged/" + prefix + "y")
    status, _, body = send(untagged, ("f.txt", b"plain", "text/plain"))
    assert status == 204, body


def test_malformed_and_oversized_forms(prefix):
    url = "%s/%s" % (ENDPOINT, BUCKET)
    form = presigned(prefix + "huge")
    fields = dict(form["fields"])
    fields["x-ignore-padding"] = "p" * 21_000
    body, content_type = body_of(fields, ("f.txt", b"x", "text/plain"))
    status, _, answer = post(url, body, content_type)
    assert (status, code(answer)) == (400, "MaxPostPreDataLengthExceeded"), answer

    body, content_type = body_of(form["fields"], None)
    status, _, answer = post(url, body, content_type)
    assert (status, code(answer)) == (400, "IncorrectNumberOfFilesInPostRequest"), answer

    body, _ = body_of(form["fields"], ("f.txt", b"x", "text/plain"))
    status, _, answer = post(url, body, "multipart/form-data; boundary=somethingelse")
    assert status == 400, answer
    assert absent(prefix + "huge")

    bad = b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"
    status, _, answer = post(url, bad, "multipart/form-data; boundary=b")
    assert (status, code(answer)) == (400, "MalformedPOSTRequest"), answer


def raw_post(url, head_length, payload):
    """Sends `payload` under a Content-Length of `head_length`, then
    closes its side; the answer's status line, if any."""
    target = urllib.parse.urlparse(url)
    with socket.create_connection((target.hostname, target.port), timeout=30) as sock:
        sock.sendall((f"POST {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\n"
                      f"Content-Type: multipart/form-data; boundary=B0undary\r\n"
                      f"Content-Length: {head_length}\r\n\r\n").encode() + payload)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def test_a_form_cut_short_stores_nothing(prefix):
    form = presigned(prefix + "cut")
    content = os.urandom(100_000)
    body, _ = body_of(form["fields"], ("f.bin", content, "application/octet-stream"),
                      boundary="B0undary")
    url = "%s/%s" % (ENDPOINT, BUCKET)
    # The connection closes inside the file.
    raw_post(url, len(body), body[: len(body) - 60_000])
    assert absent(prefix + "cut")
    # Every byte arrives but the closing boundary never does.
    unclosed = body[: body.rindex(b"\r\n--B0undary--")] + b"\r\n"
    raw_post(url, len(unclosed), unclosed)
    assert absent(prefix + "cut")
    # The whole form stores it.
    assert raw_post(url, len(body), body).startswith(b"HTTP/1.1 204")
    assert stored(prefix + "cut")["Body"].read() == content


def test_browser_style_form_with_expect_continue(prefix):
    form = presigned(prefix + "continued")
    body, content_type = body_of(form["fields"], ("c.txt", b"continued", "text/plain"))
    target = urllib.parse.urlparse(form["url"])
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    connection.request("POST", target.path, body=body,
                       headers={"Content-Type": content_type, "Expect": "100-continue"})
    assert connection.getresponse().status == 204
    assert stored(prefix + "continued")["Body"].read() == b"continued"


def quota(bucket):
    rows = json.loads(urllib.request.urlopen(os.environ["CG_ADMIN"] + "/quotas", timeout=10).read())
    return {row["bucket"]: row for row in rows}[bucket]


def test_a_capped_bucket_counts_what_was_stored(prefix):
    """`beta` is capped at 64 KiB: a form reserves the bytes left in its
    body, and its usage moves by the file's size alone."""
    deadline = time.time() + 15
    while quota("beta")["used"] is None and time.time() < deadline:
        time.sleep(0.1)
    before = quota("beta")["used"]
    assert before is not None
    form = presigned(prefix + "counted", bucket="beta")
    status, _, body = send(form, ("c.bin", b"c" * 1000, "application/octet-stream"))
    assert status == 204, body
    row = quota("beta")
    assert (row["used"], row["reserved"]) == (before + 1000, 0), row

    big = presigned(prefix + "over", bucket="beta")
    status, _, body = send(big, ("o.bin", b"o" * 70_000, "application/octet-stream"))
    assert (status, code(body)) == (507, "EntityTooLarge"), body
    row = quota("beta")
    assert (row["used"], row["reserved"]) == (before + 1000, 0), row
    with pytest.raises(ClientError):
        client().head_object(Bucket="beta", Key=prefix + "over")


def test_a_form_cannot_declare_its_own_length(prefix):
    """A form field naming how the body is measured (which policies and
    quotas read) is refused, even when the form's policy signs it."""
    for field in ["x-amz-decoded-content-length", "x-amz-content-sha256", "x-amz-trailer"]:
        key = prefix + "declared-" + field
        form = presigned(key, bucket="beta", fields={field: "0"}, conditions=[{field: "0"}])
        status, _, body = send(form, ("d.bin", b"d" * 70_000, "application/octet-stream"))
        assert (status, code(body)) == (400, "InvalidArgument"), (field, body)
        with pytest.raises(ClientError):
            client().head_object(Bucket="beta", Key=key)


def test_a_form_is_decided_on_the_acl_it_sets(prefix):
    """`private/` allows no ACL but `private`: a form's `acl` field is what
    Cedar sees as resource.acl, as for PutObject's x-amz-acl."""
    key = "private/" + prefix + "public"
    form = presigned(key, fields={"acl": "public-read"}, conditions=[{"acl": "public-read"}])
    status, _, body = send(form, ("p.bin", b"public", "application/octet-stream"))
    assert (status, code(body)) == (403, "AccessDenied"), body
    assert absent(key)
    key = "private/" + prefix + "private"
    form = presigned(key, fields={"acl": "private"}, conditions=[{"acl": "private"}])
    status, _, body = send(form, ("p.bin", b"private", "application/octet-stream"))
    assert status == 204, body
    assert stored(key)["Body"].read() == b"private"
