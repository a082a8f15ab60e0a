"""Every authentication failure reason: code, status (both error profiles)
and the auth_failure_total{reason} metric, against a real gateway."""
import datetime
import os
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlparse

import pytest
import urllib3

import sigv4
from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, metric

PROFILE = os.environ.get("CG_ERROR_PROFILE", "documented")
HOST = urlparse(ENDPOINT).netloc
PATH = "/alpha/auth-probe"
http = urllib3.PoolManager(retries=False, timeout=10)
NOW = datetime.datetime.now(datetime.timezone.utc)


def failures(reason):
    return metric("s3_auth_failure_total", '{reason="%s"}' % reason)


def signed(**overrides):
    args = dict(access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    args.update(overrides)
    return sigv4.sign("GET", HOST, PATH, **args)


def mangle_credential(value):
    def build():
        headers = signed()
        headers["authorization"] = re.sub(r"Credential=[^,]*", "Credential=" + value,
                                          headers["authorization"])
        return headers
    return build


def without_host_signed():
    headers = signed(signed=["x-amz-content-sha256", "x-amz-date"])
    return headers


def with_unsigned_amz_header():
    return signed(headers={"x-amz-expected-bucket-owner": "111122223333"},
                  signed=["host", "x-amz-content-sha256", "x-amz-date"])


# reason, headers builder, documented (status, code), aws (status, code)
CASES = [
    ("unknown_access_key", lambda: signed(access_key="CGNOBODY000000000001"),
     (401, "InvalidAccessKeyId"), (403, "InvalidAccessKeyId")),
    ("bad_signature", lambda: signed(secret_key="wrong-secret"),
     (401, "SignatureDoesNotMatch"), (403, "SignatureDoesNotMatch")),
    ("disabled", lambda: signed(access_key="CGDISABLEDKEY0000001",
                                secret_key="disabled-secret-0000000000000000000000"),
     (401, "InvalidAccessKeyId"), (403, "InvalidAccessKeyId")),
    ("expired", lambda: signed(access_key="CGEXPIREDKEY00000001",
                               secret_key="expired-secret-000000000000000000000000"),
     (403, "AccessDenied"), (403, "AccessDenied")),
    ("bad_authorization_format", lambda: {"host": HOST, "authorization": "AWS4-HMAC-SHA256 nonsense"},
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("bad_authorization_format", lambda: {"host": HOST, "authorization": "Basic dXNlcjpwYXNz"},
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("bad_credential_field", mangle_credential(ACCESS_KEY + "/20260101/us-east-1"),
     (401, "InvalidAccessKeyId"), (403, "InvalidAccessKeyId")),
    ("bad_date", lambda: signed(amz_date="yesterday"),
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("time_skew", lambda: signed(when=NOW - datetime.timedelta(minutes=20)),
     (403, "RequestTimeTooSkewed"), (403, "RequestTimeTooSkewed")),
    ("bad_authorization_format", lambda: signed(scope_date="20200101"),
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("bad_authorization_format", lambda: signed(region="eu-west-1"),
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("bad_authorization_format", lambda: signed(service="sts"),
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("bad_authorization_format", without_host_signed,
     (401, "SignatureDoesNotMatch"), (400, "AuthorizationHeaderMalformed")),
    ("unsigned_header", with_unsigned_amz_header,
     (403, "AccessDenied"), (403, "AccessDenied")),
]


@pytest.mark.parametrize("reason,build,documented,aws", CASES,
                         ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_failure_reason(reason, build, documented, aws):
    expected_status, expected_code = documented if PROFILE == "documented" else aws
    before = failures(reason)
    r = http.request("GET", ENDPOINT + PATH, headers=build())
    assert r.status == expected_status, r.data
    root = ET.fromstring(r.data)
    assert root.find("Code").text == expected_code
    assert root.find("RequestId").text == r.headers["x-amz-request-id"]
    assert failures(reason) == before + 1


def test_a_valid_signature_from_the_same_signer_is_accepted():
    r = http.request("GET", ENDPOINT + PATH, headers=signed())
    assert r.status == 404  # authenticated; the object does not exist
    assert ET.fromstring(r.data).find("Code").text == "NoSuchKey"
