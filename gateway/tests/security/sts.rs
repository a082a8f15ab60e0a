//! STS sessions stay bound to the live configuration and to one budget:
//! a session whose role was removed (or that no longer trusts its issuer)
//! is refused, on S3 and GetCallerIdentity; `mint-session` cannot outlive
//! its role's maximum; exchanging one web identity again gives no new rate
//! budget, and a full limiter table gives a newcomer its own bucket; an
//! unknown role answers exactly like a refused one; a `crit` header is
//! refused; a subject holding a newline or a NUL cannot forge a log line;
//! STS answers carry one Content-Type; unsigned STS requests, and every
//! AssumeRoleWithWebIdentity whatever auth headers it carries, take from
//! the anonymous per-address limit. Python scenarios in
//! `tests/clients/test_security_sts.py`, with the test OIDC issuer.

use crate::utils::{TESTER_POLICY, TestGateway, free_port};

/// Sessions may use `alpha`.
const SESSION_POLICY: &str = r#"
@id("sessions-use-alpha")
permit (principal is Session, action, resource in Bucket::"alpha");
"#;

/// The `[sts]` table the gateway runs with: the roles `ci` and `deploy`,
/// both trusting the issuer `test` only. The scenario mints sessions with
/// a fuller table (a role `gone`, `ci` trusting `other` too) sealed with
/// the same key.
fn sts_table(issuer_port: u16) -> String {
    format!(
        r#"
[sts]
account_id = "123456789012"
seal_keys = [{{ id = "k1", key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }}]

[sts.issuers.test]
issuer = "http://127.0.0.1:{issuer_port}"

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/ci"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:*"]
max_session_seconds = 7200

[[sts.roles]]
arn = "arn:aws:iam::123456789012:role/deploy"
issuers = ["test"]
audiences = ["sts.amazonaws.com"]
subjects = ["repo:myorg/*"]
claims = {{ ref = "refs/heads/main" }}
"#
    )
}

fn run(scenario: &str, extra_toml: &str) {
    let issuer_port = free_port();
    let gateway = TestGateway::start_with_policies(
        &format!("{}\n{extra_toml}", sts_table(issuer_port)),
        &[
            ("tester.cedar", TESTER_POLICY),
            ("sessions.cedar", SESSION_POLICY),
        ],
    );
    let issuer_port = issuer_port.to_string();
    gateway.assert_pytest_env_passes(
        "test_security_sts.py",
        &[
            ("CG_SCENARIO", scenario),
            ("CG_ISSUER_PORT", &issuer_port),
            ("CG_BIN", env!("CARGO_BIN_EXE_cedargate")),
        ],
    );
}

#[test]
fn sessions_are_bound_to_the_live_configuration() {
    run("live", "");
}

#[test]
fn sessions_of_one_web_identity_share_one_budget() {
    run(
        "limits",
        "[rate_limits]\ncredential = { rate = 0.001, burst = 2 }\n",
    );
}

#[test]
fn a_full_limiter_table_gives_a_newcomer_its_own_bucket() {
    run(
        "table",
        "[rate_limits]\ncredential = { rate = 0.001, burst = 2 }\nmax_tracked_keys = 2\n",
    );
}

#[test]
fn unsigned_sts_requests_take_from_the_anonymous_limit() {
    for scenario in ["anonymous", "anonymous-forged"] {
        run(
            scenario,
            "[rate_limits]\nanonymous_source_ip = { rate = 0.001, burst = 2 }\n",
        );
    }
}
