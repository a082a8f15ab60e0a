"""STS at the gateway's endpoint: OIDC tokens from a test issuer traded for
session credentials with boto3 and the AWS CLI, the sessions used with
boto3 S3 and decided by a Cedar policy on a claim, and every STS error.

The Rust harness writes the gateway's [sts] table for the issuer on
CG_ISSUER_PORT; a second issuer (`/file-issuer`) reads its keys from a
JWKS file this module writes before first use."""
import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, TMP, metric
from oidc_issuer import Issuer, Key

ROLE = "arn:aws:iam::123456789012:role/ci"
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/deploy"
BROKEN_ROLE = "arn:aws:iam::123456789012:role/broken"
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


@pytest.fixture(scope="module")
def issuer():
    started = Issuer(int(os.environ["CG_ISSUER_PORT"]))
    file_issuer_key = Key("file-1", "ES256")
    started.file_key = file_issuer_key
    with open(os.path.join(TMP, "file-issuer-jwks.json"), "w") as out:
        json.dump({"keys": [file_issuer_key.jwk]}, out)
    yield started
    started.stop()


def sts(**credentials):
    return boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}), **credentials)


def s3_with(creds):
    return boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def assume(token, role=ROLE, **extra):
    return sts().assume_role_with_web_identity(RoleArn=role, RoleSessionName="build-42",
                                               WebIdentityToken=token, **extra)


def raw_sts(params):
    """POSTs the form; answers (status, root element, {path: text}, request id header)."""
    body = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(ENDPOINT + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    data = response.read()
    root = ET.fromstring(data)
    fields = {}
    for element in root.iter():
        fields[element.tag.replace(NS, "")] = element.text
    return response.status, root.tag.replace(NS, ""), fields, response.headers["x-amz-request-id"]


def test_boto3_trades_a_token_and_the_session_reaches_s3_under_policy(issuer):
    answer = assume(issuer.token(), DurationSeconds=1800)
    creds = answer["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert creds["SessionToken"].startswith("cgs1.")
    remaining = creds["Expiration"].timestamp() - time.time()
    assert 1700 < remaining <= 1800
    assert answer["SubjectFromWebIdentityToken"] == "repo:myorg/app:ref:refs/heads/main"
    assert answer["Audience"] == "sts.amazonaws.com"
    assert answer["Provider"] == issuer.url
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/ci/build-42"
    assert answer["AssumedRoleUser"]["AssumedRoleId"].endswith(":build-42")

    s3 = s3_with(creds)
    s3.put_object(Bucket="alpha", Key="sts/hello.txt", Body=b"from a session")
    assert s3.get_object(Bucket="alpha", Key="sts/hello.txt")["Body"].read() == b"from a session"
    # The policy names only alpha.
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="beta", Key="sts/hello.txt", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"

    identity = sts(aws_access_key_id=creds["AccessKeyId"],
                   aws_secret_access_key=creds["SecretAccessKey"],
                   aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/ci/build-42"
    assert identity["Account"] == "123456789012"
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":build-42")


def test_a_claim_policy_keeps_another_subject_out(issuer):
    token = issuer.token(sub="repo:other/tool:ref:refs/heads/main",
                         claims={"repository": "other/tool", "repository_owner": "other"})
    creds = assume(token)["Credentials"]
    with pytest.raises(ClientError) as denied:
        s3_with(creds).put_object(Bucket="alpha", Key="sts/intruder.txt", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_es256_tokens_and_jwks_files_are_accepted(issuer):
    creds = assume(issuer.token(kid="ec-1"))["Credentials"]
    assert s3_with(creds).list_objects_v2(Bucket="alpha")["ResponseMetadata"]["HTTPStatusCode"] == 200
    token = issuer.token(kid="file-1", key=issuer.file_key, iss=issuer.url + "/file-issuer")
    assert assume(token)["Provider"] == issuer.url + "/file-issuer"


def test_an_unknown_kid_refetches_the_issuer_keys(issuer):
    assume(issuer.token())  # the keys are cached
    before = issuer.jwks_fetches
    issuer.add_key("rsa-2")
    issuer.published.append("rsa-2")
    time.sleep(1.1)  # the refetch interval of the test issuer
    assert assume(issuer.token(kid="rsa-2"))["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert issuer.jwks_fetches == before + 1
    # A kid nobody publishes is refused, and refetches stay rate-limited.
    issuer.add_key("rsa-unpublished")
    for _ in range(3):
        with pytest.raises(ClientError) as refused:
            assume(issuer.token(kid="rsa-unpublished"))
        assert refused.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert issuer.jwks_fetches <= before + 2


def test_get_caller_identity_for_a_static_credential():
    identity = sts(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/tester"
    assert identity["UserId"] == ACCESS_KEY
    assert identity["Account"] == "123456789012"
    with pytest.raises(ClientError) as refused:
        sts(aws_access_key_id=ACCESS_KEY, aws_secret_access_key="wrong").get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_the_aws_cli_assumes_a_role(issuer, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(issuer.token())
    output = subprocess.run(
        ["aws", "sts", "assume-role-with-web-identity", "--endpoint-url", ENDPOINT,
         "--region", "us-east-1", "--role-arn", ROLE, "--role-session-name", "cli",
         "--web-identity-token", token_file.read_text(), "--output", "json"],
        capture_output=True, text=True, timeout=60)
    assert output.returncode == 0, output.stderr
    answer = json.loads(output.stdout)
    assert answer["AssumedRoleUser"]["Arn"].endswith("assumed-role/ci/cli")
    assert answer["Credentials"]["SessionToken"].startswith("cgs1.")


def unsigned_hs256(issuer):
    return jwt.encode({"iss": issuer.url, "sub": "repo:myorg/app", "aud": "sts.amazonaws.com",
                       "exp": int(time.time()) + 300}, "shared-secret", algorithm="HS256",
                      headers={"kid": "rsa-1"})


def alg_none(issuer):
    header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"rsa-1"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(
        {"iss": issuer.url, "sub": "repo:myorg/app", "aud": "sts.amazonaws.com",
         "exp": int(time.time()) + 300}).encode()).rstrip(b"=").decode()
    return f"{header}.{body}."


ERRORS = {
    "unknown role": (lambda i: {"RoleArn": "arn:aws:iam::123456789012:role/nope",
                                "WebIdentityToken": i.token()}, 403, "AccessDenied"),
    "wrong issuer": (lambda i: {"WebIdentityToken": i.token(iss="http://127.0.0.1:1/evil")},
                     400, "InvalidIdentityToken"),
    "bad signature": (lambda i: {"WebIdentityToken": i.token(key=Key("rsa-1", "RS256"))},
                      400, "InvalidIdentityToken"),
    "wrong audience": (lambda i: {"WebIdentityToken": i.token(aud="someone-else")},
                       400, "InvalidIdentityToken"),
    "subject mismatch": (lambda i: {"WebIdentityToken": i.token(sub="user:alice")},
                         403, "AccessDenied"),
    "expired token": (lambda i: {"WebIdentityToken": i.token(lifetime=-600)},
                      400, "InvalidIdentityToken"),
    "token without exp": (lambda i: {"WebIdentityToken": i.token(omit=("exp",))},
                          400, "InvalidIdentityToken"),
    "token without kid": (lambda i: {"WebIdentityToken": jwt.encode(
        {"iss": i.url, "sub": "repo:x", "aud": "sts.amazonaws.com", "exp": int(time.time()) + 60},
        i.keys["rsa-1"].private, algorithm="RS256")}, 400, "InvalidIdentityToken"),
    "alg none": (lambda i: {"WebIdentityToken": alg_none(i)}, 400, "InvalidIdentityToken"),
    "hs256": (lambda i: {"WebIdentityToken": unsigned_hs256(i)}, 400, "InvalidIdentityToken"),
    "issued in the future": (lambda i: {"WebIdentityToken": i.token(
        claims={"iat": int(time.time()) + 3600})}, 400, "InvalidIdentityToken"),
    "missing token": (lambda i: {"WebIdentityToken": None}, 400, "InvalidParameterValue"),
    "missing role": (lambda i: {"RoleArn": None, "WebIdentityToken": i.token()},
                     400, "InvalidParameterValue"),
    "duration too short": (lambda i: {"WebIdentityToken": i.token(), "DurationSeconds": "100"},
                           400, "InvalidParameterValue"),
    "duration over the role's maximum": (lambda i: {"WebIdentityToken": i.token(),
                                                    "DurationSeconds": "7201"},
                                         400, "InvalidParameterValue"),
    "session policy": (lambda i: {"WebIdentityToken": i.token(), "Policy": "{}"},
                       400, "InvalidParameterValue"),
    "claim condition": (lambda i: {"RoleArn": DEPLOY_ROLE, "WebIdentityToken": i.token(
        claims={"ref": "refs/heads/feature"})}, 403, "AccessDenied"),
    "issuer keys unreachable": (lambda i: {"RoleArn": BROKEN_ROLE, "WebIdentityToken": i.token()},
                                500, "InternalError"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_each_sts_error_in_the_error_response_shape(issuer, case):
    make, status, code = ERRORS[case]
    params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": ROLE,
              "RoleSessionName": "errors"}
    params.update(make(issuer))
    params = {k: v for k, v in params.items() if v is not None}
    got_status, root, fields, request_id = raw_sts(params)
    assert (got_status, fields.get("Code")) == (status, code), fields
    assert root == "ErrorResponse"
    assert fields["Type"] == ("Receiver" if status >= 500 else "Sender")
    assert fields["RequestId"] == request_id
    assert fields["Message"]
    if status >= 500:
        assert fields["Message"] == "We encountered an internal error. Please try again."
        assert "127.0.0.1" not in fields["Message"]


def test_a_deny_claim_role_admits_the_right_ref(issuer):
    assert assume(issuer.token(), role=DEPLOY_ROLE)["AssumedRoleUser"]["Arn"].endswith("deploy/build-42")


def mint(seconds):
    output = subprocess.run(
        [os.environ["CG_BIN"], "sts", "mint-session", "--config", os.path.join(TMP, "cedargate.toml"),
         "--role-arn", ROLE, "--subject", "repo:myorg/app", "--claim", "repository=myorg/app",
         "--seconds", str(seconds)], capture_output=True, text=True, timeout=30)
    assert output.returncode == 0, output.stderr
    return json.loads(output.stdout)


def test_a_session_past_its_expiry_is_expired_token():
    before = metric("s3_auth_failure_total", '{reason="expired"}')
    live = s3_with(mint(600))
    live.put_object(Bucket="alpha", Key="sts/minted.txt", Body=b"ok")
    with pytest.raises(ClientError) as expired:
        s3_with(mint(-60)).get_object(Bucket="alpha", Key="sts/minted.txt")
    assert expired.value.response["Error"]["Code"] == "ExpiredToken"
    assert expired.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert metric("s3_auth_failure_total", '{reason="expired"}') == before + 1


def test_a_tampered_session_token_is_refused_and_counted(issuer):
    creds = assume(issuer.token())["Credentials"]
    token = creds["SessionToken"]
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    before = metric("s3_auth_failure_total", '{reason="invalid_token"}')
    for tampered in (dict(creds, SessionToken=flipped), dict(creds, SessionToken=token[:-3]),
                     dict(creds, AccessKeyId="ASIAAAAAAAAAAAAAAAAA")):
        with pytest.raises(ClientError) as refused:
            s3_with(tampered).list_objects_v2(Bucket="alpha")
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert metric("s3_auth_failure_total", '{reason="invalid_token"}') == before + 3
    # The untouched token still works.
    assert s3_with(creds).list_objects_v2(Bucket="alpha")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_an_oversized_form_is_refused_before_parsing():
    status, root, fields, _ = raw_sts({"Action": "AssumeRoleWithWebIdentity",
                                       "WebIdentityToken": "x" * 70000})
    assert (status, root, fields["Code"]) == (400, "ErrorResponse", "InvalidParameterValue")
    assert "exceeds" in fields["Message"]
