//! STS end to end: a test OIDC issuer on 127.0.0.1 (its own RSA and EC
//! keys, discovery document and JWKS; tests/clients/oidc_issuer.py), boto3
//! and the AWS CLI trading its tokens for sessions at a real gateway, the
//! sessions used with boto3 S3 under a Cedar policy on a claim, and every
//! STS error (tests/clients/test_sts.py).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use utils::{TESTER_POLICY, TestGateway, free_port};

/// Sessions whose `repository` claim is under `myorg/` may use `alpha`.
const SESSION_POLICY: &str = r#"
@id("myorg-sessions-use-alpha")
permit (principal is Session, action, resource in Bucket::"alpha")
when { principal.hasTag("repository") && principal.getTag("repository") like "myorg/*" };
"#;

fn sts_table(issuer_port: u16, dead_port: u16) -> String {
    format!(
        r#"
[sts]
account_id = "123456789012"
seal_keys = [
  {{ id = "k2", key = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=" }},
  {{ id = "k1", key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }},
]

[sts.issuers.test]
issuer = "http://127.0.0.1:{issuer_port}"
refetch_interval_seconds = 1

[sts.issuers.from-file]
issuer = "http://127.0.0.1:{issuer_port}/file-issuer"
jwks_file = "file-issuer-jwks.json"

[sts.issuers.keys-down]
issuer = "http://127.0.0.1:{issuer_port}"
jwks_url = "http://127.0.0.1:{dead_port}/jwks"

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/ci"
issuers = ["test", "from-file"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:*"]
max_session_seconds = 7200

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/deploy"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:myorg/*"]
claims = {{ ref = "refs/heads/main" }}

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/broken"
issuers = ["keys-down"]
audiences = ["sts.amazonaws.com"]
subjects = ["*"]
"#
    )
}

#[test]
fn oidc_tokens_become_sessions_that_policies_scope() {
    let (issuer_port, dead_port) = (free_port(), free_port());
    let gateway = TestGateway::start_with_policies(
        &sts_table(issuer_port, dead_port),
        &[
            ("tester.cedar", TESTER_POLICY),
            ("sessions.cedar", SESSION_POLICY),
        ],
    );
    let issuer_port = issuer_port.to_string();
    let dead_port = dead_port.to_string();
    gateway.assert_pytest_env_passes(
        "test_sts.py",
        &[
            ("CG_ISSUER_PORT", &issuer_port),
            ("CG_DEAD_PORT", &dead_port),
            ("CG_BIN", env!("CARGO_BIN_EXE_cedargate")),
        ],
    );
}
