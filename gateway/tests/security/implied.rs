//! Implied permissions: a request is allowed only if every action it
//! performs is allowed. Headers that tag, set an ACL, lock an object or
//! bypass governance retention are decided as `s3:PutObjectTagging`,
//! `s3:PutObjectAcl`, `s3:PutObjectRetention` / `s3:PutObjectLegalHold`
//! and `s3:BypassGovernanceRetention` besides the operation itself; a copy
//! also needs `s3:GetObject` on its source, and GetObjectAttributes
//! `s3:GetObject` on its object. boto3 drives the requests (it
//! signs every header it sends) against a gateway whose bucket `alpha`
//! forbids those implied actions and `beta` does not.

use crate::utils::{S3Upstream, TestGateway};

/// The tester may do everything, except the implied actions in `alpha` and
/// reading `beta`'s `private/` keys.
const POLICIES: &str = r#"
@id("tester-may-do-everything")
permit (principal == Credential::"tester", action, resource);

@id("no-implied-actions-in-alpha")
forbid (
  principal,
  action in [
    Action::"s3:PutObjectTagging",
    Action::"s3:PutObjectAcl",
    Action::"s3:PutObjectRetention",
    Action::"s3:PutObjectLegalHold",
    Action::"s3:BypassGovernanceRetention"
  ],
  resource in Bucket::"alpha"
);

@id("private-stays-private")
forbid (principal, action == Action::"s3:GetObject", resource in Bucket::"beta")
when { resource.key like "private/*" };
"#;

#[test]
fn tags_acls_and_governance_bypasses_are_decided_as_their_own_actions() {
    let gateway = TestGateway::start_with_policies("", &[("implied.cedar", POLICIES)]);
    gateway.assert_pytest_env_passes("test_security_implied.py", &[("CG_IMPLIED", "fs")]);
}

/// `alpha` and `beta` under two prefixes of moto's object-lock bucket `locked`.
const LOCK_BUCKETS: &str = r#"
[buckets.alpha]
backend = "upstream"
backend_bucket = "locked"
prefix = "vault/"

[buckets.beta]
backend = "upstream"
backend_bucket = "locked"
prefix = "open/"
"#;

#[test]
fn object_lock_headers_cannot_lock_an_object_upstream_past_a_forbid() {
    let upstream = S3Upstream::moto(&[]);
    let gateway = TestGateway::start_custom(
        LOCK_BUCKETS,
        &upstream.backend_toml("upstream"),
        &[("implied.cedar", POLICIES)],
        None,
    );
    gateway.assert_pytest_env_passes(
        "test_security_implied.py",
        &[
            ("CG_IMPLIED", "lock"),
            ("CG_UPSTREAM", &upstream.endpoint()),
        ],
    );
}
