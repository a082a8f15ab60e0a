"""STS sessions against a real gateway and the test OIDC issuer; the Rust
harness (tests/security/sts.rs) picks the scenario in CG_SCENARIO.

live: a session whose role was removed, or whose role no longer trusts its
issuer, is refused on S3 and by GetCallerIdentity; `mint-session` refuses a
lifetime over the role's maximum; an unknown role answers exactly like a
refused one; a `crit` header is refused; control characters in a subject
reach the log escaped; STS answers carry one Content-Type.
limits: sessions of one web identity share one rate budget, and a full
limiter table gives a newcomer its own bucket.
anonymous: AssumeRoleWithWebIdentity takes from `anonymous_source_ip`.
anonymous-forged: it does so whatever Authorization header or signing
query parameters it carries."""
import datetime
import http.client
import json
import os
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, ENDPOINT, SECRET_KEY, TMP, client
from oidc_issuer import Issuer, Key

SCENARIO = os.environ["CG_SCENARIO"]
ROLE = "arn:aws:iam::123456789012:role/ci"
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/deploy"
GONE_ROLE = "arn:aws:iam::123456789012:role/gone"
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
NOT_AUTHORIZED = (403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def scenario(name):
    return pytest.mark.skipif(SCENARIO != name, reason=f"scenario {name}")


@pytest.fixture(scope="module")
def issuer():
    started = Issuer(int(os.environ["CG_ISSUER_PORT"]))
    yield started
    started.stop()


def sts(**credentials):
    return boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}), **credentials)


def s3_with(creds):
    return boto3.client(
        "s3", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def sts_with(creds):
    return sts(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
               aws_session_token=creds["SessionToken"])


def assume(token, role=ROLE):
    return sts().assume_role_with_web_identity(RoleArn=role, RoleSessionName="sec-1",
                                               WebIdentityToken=token)["Credentials"]


def post_form(params, path="/", headers=None):
    """POSTs an STS form; answers the raw response and its body."""
    url = urllib.parse.urlparse(ENDPOINT)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", path, body=urllib.parse.urlencode(params),
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                          **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def exchange(role, token, path="/", headers=None, **extra):
    """(status, code, message) of an AssumeRoleWithWebIdentity."""
    params = {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role,
              "RoleSessionName": "sec-1", "WebIdentityToken": token}
    params.update(extra)
    response, body = post_form(params, path, headers)
    if response.status == 200:
        return 200, None, None
    fields = {e.tag.replace(NS, ""): e.text for e in ET.fromstring(body).iter()}
    return response.status, fields["Code"], fields["Message"]


def status_of(call):
    try:
        return call()["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"]


def mint(config, role, *args):
    output = subprocess.run(
        [os.environ["CG_BIN"], "sts", "mint-session", "--config", config, "--role-arn", role,
         "--subject", "repo:myorg/app", *args], capture_output=True, text=True, timeout=30)
    return output


def minted(config, role, *args):
    output = mint(config, role, *args)
    assert output.returncode == 0, output.stderr
    return json.loads(output.stdout)


def full_config():
    """The gateway's [sts] table as it was before a role was removed, an
    issuer untrusted and a role narrowed: the same seal key, a role `gone`,
    `ci` trusting `other` too, and `deploy` without its claim pattern."""
    path = os.path.join(TMP, "before-removal.toml")
    port = os.environ["CG_ISSUER_PORT"]
    with open(path, "w") as out:
        out.write(f"""
[sts]
account_id = "123456789012"
seal_keys = [{{ id = "k1", key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }}]

[sts.issuers.test]
issuer = "http://127.0.0.1:{port}"

[sts.issuers.other]
issuer = "https://other.example"
jwks_url = "https://other.example/jwks"

[[sts.roles]]
arn = "{ROLE}"
issuers = ["test", "other"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:*"]

[[sts.roles]]
arn = "{GONE_ROLE}"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:*"]

[[sts.roles]]
arn = "{DEPLOY_ROLE}"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:*"]
""")
    return path


@scenario("live")
def test_a_session_its_role_would_no_longer_grant_is_refused():
    before = full_config()
    # Control: a session of a role still configured, sealed the same way, works.
    still = minted(before, ROLE)
    s3_with(still).put_object(Bucket="alpha", Key="sts-sec/ok.txt", Body=b"ok")
    assert sts_with(still).get_caller_identity()["Arn"].endswith("assumed-role/ci/minted")
    narrowed = minted(before, DEPLOY_ROLE, "--claim", "ref=refs/heads/dev")
    granted = minted(before, DEPLOY_ROLE, "--claim", "ref=refs/heads/main")
    assert sts_with(granted).get_caller_identity()["Arn"].endswith("assumed-role/deploy/minted")
    for case, creds in [("role removed", minted(before, GONE_ROLE)),
                        ("issuer no longer trusted", minted(before, ROLE, "--issuer", "https://other.example")),
                        ("claim no longer granted", narrowed)]:
        with pytest.raises(ClientError) as refused:
            s3_with(creds).list_objects_v2(Bucket="alpha")
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId", case
        with pytest.raises(ClientError) as refused:
            sts_with(creds).get_caller_identity()
        error = refused.value.response
        assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == \
            (403, "InvalidClientTokenId"), case


@scenario("live")
def test_mint_session_is_capped_at_the_role_maximum():
    config = os.path.join(TMP, "cedargate.toml")
    output = mint(config, ROLE, "--seconds", "999999999")
    assert output.returncode != 0
    assert "max_session_seconds" in output.stderr and "7200" in output.stderr, output.stderr
    assert "SessionToken" not in output.stdout
    at_most = minted(config, ROLE, "--seconds", "7200")
    expires = datetime.datetime.fromisoformat(at_most["Expiration"].replace("Z", "+00:00")).timestamp()
    assert 7100 < expires - time.time() <= 7200
    # An issuer the role does not trust would mint a session that never works.
    assert mint(config, ROLE, "--issuer", "https://other.example").returncode != 0


@scenario("live")
def test_an_unknown_role_answers_exactly_like_a_refused_one(issuer):
    token = issuer.token()
    unknown = exchange("arn:aws:iam::123456789012:role/nope", token)
    assert unknown == NOT_AUTHORIZED
    refused = {
        "claim mismatch": exchange(DEPLOY_ROLE, issuer.token(claims={"ref": "refs/heads/dev"})),
        "subject mismatch": exchange(DEPLOY_ROLE, issuer.token(sub="repo:other/app")),
    }
    for case, answer in refused.items():
        assert answer == unknown, case
    # Before the token is verified nothing depends on the role either.
    bad = issuer.token(key=Key("rsa-1", "RS256"))
    assert exchange("arn:aws:iam::123456789012:role/nope", bad) == exchange(ROLE, bad)
    assert exchange("arn:aws:iam::123456789012:role/nope", token, DurationSeconds="99999") == \
        exchange(ROLE, token, DurationSeconds="99999")
    assert exchange(ROLE, token)[0] == 200


@scenario("live")
def test_a_crit_header_is_refused(issuer):
    critical = issuer.token(headers={"crit": ["exp"]})
    status, code, _ = exchange(ROLE, critical)
    assert (status, code) == (400, "InvalidIdentityToken")
    assert exchange(ROLE, issuer.token())[0] == 200


@scenario("live")
def test_control_characters_in_a_subject_reach_the_log_escaped(issuer):
    forged = "repo:myorg/app\nINFO cedargate: forged line\x00end"
    assert exchange(ROLE, issuer.token(sub=forged))[0] == 200
    assert exchange(DEPLOY_ROLE, issuer.token(sub="repo:other\r\nWARN forged"))[:2] == NOT_AUTHORIZED[:2]
    # The access log writes a key the same way.
    put = client().put_object(Bucket="alpha", Key="log/a\nINFO cedargate::access: forged\x1b[0m", Body=b"x")
    request_id = put["ResponseMetadata"]["RequestId"]

    def log_text():
        with open(os.path.join(TMP, "gateway.log"), encoding="utf-8", errors="replace") as log:
            return log.read()

    # The log is read once the PUT's own access line is in it.
    deadline = time.time() + 10
    while request_id not in log_text():
        assert time.time() < deadline, f"no access line for {request_id}"
        time.sleep(0.05)
    text = log_text()
    assert "\nINFO cedargate::access: forged" not in text and "\x1b" not in text
    assert "\nINFO cedargate: forged line" not in text
    assert "\x00" not in text
    assert "\nWARN forged" not in text
    assert "repo:myorg/app\\nINFO cedargate: forged line\\0end" in text
    assert "repo:other\\r\\nWARN forged" in text


@scenario("live")
def test_sts_answers_carry_one_content_type(issuer):
    for params in ({"Action": "AssumeRoleWithWebIdentity", "RoleArn": ROLE, "RoleSessionName": "ct",
                    "WebIdentityToken": issuer.token()},
                   {"Action": "NoSuchAction"}):
        response, _ = post_form(params)
        assert response.headers.get_all("Content-Type") == ["text/xml"], response.status


@scenario("limits")
def test_sessions_of_one_web_identity_share_one_budget(issuer):
    # credential = { rate = 0.001, burst = 2 }.
    token = issuer.token()
    sessions = [assume(token) for _ in range(3)]
    statuses = [status_of(lambda c=c: s3_with(c).list_objects_v2(Bucket="alpha")) for c in sessions]
    assert statuses == [200, 200, 429], statuses
    # Another subject is another identity, with its own budget.
    other = assume(issuer.token(sub="repo:myorg/other"))
    assert status_of(lambda: s3_with(other).list_objects_v2(Bucket="alpha")) == 200


@scenario("table")
def test_a_full_limiter_table_gives_a_newcomer_its_own_bucket(issuer):
    # credential = { rate = 0.001, burst = 2 }, max_tracked_keys = 2.
    tester = client()
    scoped = client("CGSCOPEDKEY000000001", "scoped-secret-0000000000000000000000000")
    slow = client("CGRATELIMITEDKEY0001", "rate-limited-secret-000000000000000000")
    session = assume(issuer.token())
    callers = [("tester", tester), ("scoped", scoped), ("slow", slow), ("session", s3_with(session))]
    # Each caller's first two requests fit its own burst, however full the
    # table (two keys) already is: none is answered 429 by a bucket shared
    # with strangers. (403: no policy lets `scoped` and `slow` in.)
    for name, s3 in callers:
        for attempt in range(2):
            status = status_of(lambda: s3.list_objects_v2(Bucket="alpha"))
            assert status != 429, f"{name} request {attempt + 1}"
    # Its own third request is limited.
    assert status_of(lambda: s3_with(session).list_objects_v2(Bucket="alpha")) == 429


@scenario("anonymous")
def test_assume_role_takes_from_the_anonymous_per_address_limit(issuer):
    # anonymous_source_ip = { rate = 0.001, burst = 2 }; no source_ip limit.
    answers = [exchange(ROLE, issuer.token()) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 429], answers
    assert answers[2][1] == "Throttling"


@scenario("anonymous-forged")
def test_assume_role_takes_from_the_anonymous_limit_whatever_auth_it_carries(issuer):
    # anonymous_source_ip = { rate = 0.001, burst = 2 }; no source_ip limit.
    # AssumeRoleWithWebIdentity is unsigned: an Authorization header or a
    # presigned-looking query on it does not spare it the anonymous limit.
    forged = [
        ("/", {"Authorization": "x"}),
        ("/?X-Amz-Algorithm=AWS4-HMAC-SHA256", None),
        ("/", {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request"}),
    ]
    answers = [exchange(ROLE, issuer.token(), path, headers) for path, headers in forged]
    assert [a[0] for a in answers] == [200, 200, 429], answers
    assert answers[2][1] == "Throttling"
    assert exchange(ROLE, issuer.token())[:2] == (429, "Throttling")
    # Signed STS requests are not anonymous.
    identity = sts(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY).get_caller_identity()
    assert identity["Arn"].endswith(":user/tester")
