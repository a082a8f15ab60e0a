//! Implied actions: request headers that make one S3 request perform a
//! second action, which S3 authorizes as that action too. A PutObject
//! carrying `x-amz-tagging` also tags the object, so it needs
//! `s3:PutObjectTagging` as well as `s3:PutObject`; a DeleteObject with
//! `x-amz-bypass-governance-retention: true` needs
//! `s3:BypassGovernanceRetention`.
//!
//! [`IMPLIED_ACTIONS`] is the one table of these rules. The gateway asks
//! each implied action of a request after its operation, with the same
//! principal, resource and context, and the first deny decides; `cedargate
//! policy explain` and policy test files do the same for a request written
//! with its headers ([`decide_with_implied`]).

use crate::decide::Decision;
use crate::request::AuthzRequest;
use crate::snapshot::PolicySnapshot;

/// How a rule names its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderName {
    /// Exactly this lowercase name.
    Exact(&'static str),
    /// Every header whose lowercase name starts with this.
    Prefix(&'static str),
}

impl HeaderName {
    fn matches(self, name: &str) -> bool {
        match self {
            Self::Exact(exact) => name.eq_ignore_ascii_case(exact),
            Self::Prefix(prefix) => name
                .get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix)),
        }
    }

    /// The name as documented: `x-amz-acl`, or `x-amz-grant-*` for a prefix.
    pub fn pattern(self) -> String {
        match self {
            Self::Exact(exact) => exact.to_owned(),
            Self::Prefix(prefix) => format!("{prefix}*"),
        }
    }
}

/// One rule: `header` sent on one of `operations` implies `actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpliedRule {
    /// The header.
    pub header: HeaderName,
    /// Whether the header counts only when its value is not `false`
    /// (boolean headers such as `x-amz-bypass-governance-retention`).
    pub unless_false: bool,
    /// The operations it applies to (`PutObject`).
    pub operations: &'static [&'static str],
    /// The actions it implies, without the `s3:` prefix, asked in order.
    pub actions: &'static [&'static str],
}

/// The operations that create an object from a request's headers.
const OBJECT_WRITES: &[&str] = &["PutObject", "CopyObject", "CreateMultipartUpload"];

/// Every implied-action rule, in the order the actions are asked.
pub const IMPLIED_ACTIONS: &[ImpliedRule] = &[
    ImpliedRule {
        header: HeaderName::Exact("x-amz-tagging"),
        unless_false: false,
        operations: OBJECT_WRITES,
        actions: &["PutObjectTagging"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-acl"),
        unless_false: false,
        operations: OBJECT_WRITES,
        actions: &["PutObjectAcl"],
    },
    ImpliedRule {
        header: HeaderName::Prefix("x-amz-grant-"),
        unless_false: false,
        operations: OBJECT_WRITES,
        actions: &["PutObjectAcl"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-object-lock-mode"),
        unless_false: false,
        operations: OBJECT_WRITES,
        actions: &["PutObjectRetention"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-object-lock-retain-until-date"),
        unless_false: false,
        operations: OBJECT_WRITES,
        actions: &["PutObjectRetention"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-object-lock-legal-hold"),
        unless_false: false,
        operations: OBJECT_WRITES,
        actions: &["PutObjectLegalHold"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-bypass-governance-retention"),
        unless_false: true,
        operations: &["DeleteObject", "DeleteObjects", "PutObjectRetention"],
        actions: &["BypassGovernanceRetention"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-acl"),
        unless_false: false,
        operations: &["CreateBucket"],
        actions: &["PutBucketAcl"],
    },
    ImpliedRule {
        header: HeaderName::Prefix("x-amz-grant-"),
        unless_false: false,
        operations: &["CreateBucket"],
        actions: &["PutBucketAcl"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-bucket-object-lock-enabled"),
        unless_false: true,
        operations: &["CreateBucket"],
        actions: &["PutObjectLockConfiguration", "PutBucketVersioning"],
    },
    ImpliedRule {
        header: HeaderName::Exact("x-amz-object-ownership"),
        unless_false: false,
        operations: &["CreateBucket"],
        actions: &["PutBucketOwnershipControls"],
    },
];

/// An action a request implies, with the header that implies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpliedAction {
    /// The action, without the `s3:` prefix (`PutObjectTagging`).
    pub action: &'static str,
    /// The header that implies it, lowercase, as sent.
    pub header: String,
}

/// The actions `operation` (`PutObject` or `s3:PutObject`) implies when
/// sent with `headers` (name, value), each once, in table order.
pub fn implied_actions(operation: &str, headers: &[(&str, &str)]) -> Vec<ImpliedAction> {
    let operation = operation
        .strip_prefix(crate::schema::ACTION_PREFIX)
        .unwrap_or(operation);
    let mut implied: Vec<ImpliedAction> = Vec::new();
    for rule in IMPLIED_ACTIONS {
        if !rule.operations.contains(&operation) {
            continue;
        }
        let sent = headers.iter().find(|(name, value)| {
            rule.header.matches(name)
                && !(rule.unless_false && value.trim().eq_ignore_ascii_case("false"))
        });
        let Some((name, _)) = sent else { continue };
        for &action in rule.actions {
            if implied.iter().all(|known| known.action != action) {
                implied.push(ImpliedAction {
                    action,
                    header: name.to_ascii_lowercase(),
                });
            }
        }
    }
    implied
}

/// Explains `request` (its action being the operation) and then each of
/// `implied`, as the gateway decides them: the first deny decides, with
/// the implied action that denied; an allow is the operation's.
pub fn decide_with_implied<'i>(
    snapshot: &PolicySnapshot,
    request: &AuthzRequest<'_>,
    implied: &'i [ImpliedAction],
) -> (Decision, Option<&'i ImpliedAction>) {
    let decision = snapshot.explain(request);
    if !decision.allowed {
        return (decision, None);
    }
    for each in implied {
        let asked = AuthzRequest {
            action: each.action,
            ..*request
        };
        let denied = snapshot.explain(&asked);
        if !denied.allowed {
            return (denied, Some(each));
        }
    }
    (decision, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::action_resource;

    fn actions(operation: &str, headers: &[(&str, &str)]) -> Vec<&'static str> {
        implied_actions(operation, headers)
            .into_iter()
            .map(|implied| implied.action)
            .collect()
    }

    /// An operation, the headers sent, the actions they imply.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
    );

    const LOCK: &[(&str, &str)] = &[
        ("x-amz-object-lock-mode", "COMPLIANCE"),
        (
            "x-amz-object-lock-retain-until-date",
            "2099-01-01T00:00:00Z",
        ),
        ("x-amz-object-lock-legal-hold", "ON"),
    ];

    #[test]
    fn headers_imply_the_actions_of_the_table() {
        let table: &[Case] = &[
            ("PutObject", &[], &[]),
            ("PutObject", &[("content-type", "text/plain")], &[]),
            (
                "PutObject",
                &[("x-amz-tagging", "a=b")],
                &["PutObjectTagging"],
            ),
            (
                "s3:CopyObject",
                &[("X-Amz-Tagging", "a=b")],
                &["PutObjectTagging"],
            ),
            (
                "CreateMultipartUpload",
                &[("x-amz-tagging", "")],
                &["PutObjectTagging"],
            ),
            ("PutObject", &[("x-amz-acl", "private")], &["PutObjectAcl"]),
            (
                "CopyObject",
                &[("x-amz-grant-read", "id=x")],
                &["PutObjectAcl"],
            ),
            (
                "PutObject",
                &[
                    ("x-amz-acl", "public-read"),
                    ("x-amz-grant-full-control", "id=x"),
                ],
                &["PutObjectAcl"],
            ),
            (
                "PutObject",
                LOCK,
                &["PutObjectRetention", "PutObjectLegalHold"],
            ),
            (
                "CreateMultipartUpload",
                &[("x-amz-object-lock-legal-hold", "OFF")],
                &["PutObjectLegalHold"],
            ),
            (
                "DeleteObject",
                &[("x-amz-bypass-governance-retention", "true")],
                &["BypassGovernanceRetention"],
            ),
            (
                "DeleteObjects",
                &[("x-amz-bypass-governance-retention", "TRUE")],
                &["BypassGovernanceRetention"],
            ),
            (
                "PutObjectRetention",
                &[("x-amz-bypass-governance-retention", "yes")],
                &["BypassGovernanceRetention"],
            ),
            (
                "DeleteObject",
                &[("x-amz-bypass-governance-retention", " False ")],
                &[],
            ),
            // Headers an operation does not take imply nothing.
            (
                "GetObject",
                &[("x-amz-tagging", "a=b"), ("x-amz-acl", "public-read")],
                &[],
            ),
            ("PutObjectTagging", &[("x-amz-tagging", "a=b")], &[]),
            ("PutObjectAcl", &[("x-amz-acl", "public-read")], &[]),
            ("UploadPart", LOCK, &[]),
            (
                "CreateBucket",
                &[("x-amz-acl", "public-read")],
                &["PutBucketAcl"],
            ),
            (
                "CreateBucket",
                &[("x-amz-bucket-object-lock-enabled", "true")],
                &["PutObjectLockConfiguration", "PutBucketVersioning"],
            ),
            (
                "CreateBucket",
                &[("x-amz-bucket-object-lock-enabled", "false")],
                &[],
            ),
            (
                "CreateBucket",
                &[("x-amz-object-ownership", "BucketOwnerEnforced")],
                &["PutBucketOwnershipControls"],
            ),
        ];
        for (operation, headers, expected) in table {
            assert_eq!(
                &actions(operation, headers),
                expected,
                "{operation} {headers:?}"
            );
        }
        let implied = implied_actions("PutObject", &[("X-Amz-Grant-Read", "id=x")]);
        assert_eq!(implied[0].header, "x-amz-grant-read");
    }

    #[test]
    fn every_rule_names_schema_actions_on_the_operations_resource() {
        for rule in IMPLIED_ACTIONS {
            for operation in rule.operations {
                let kind = action_resource(operation);
                assert!(kind.is_some(), "{operation} is not in the schema");
                for action in rule.actions {
                    assert_eq!(action_resource(action), kind, "{action} on {operation}");
                }
            }
        }
    }

    #[test]
    fn the_first_implied_deny_decides_and_is_named() {
        let text = r#"
            @id("writes") permit (principal, action, resource);
            @id("no-legal-holds") @reason("no_legal_holds")
            forbid (principal, action == Action::"s3:PutObjectLegalHold", resource);
        "#;
        let snapshot = PolicySnapshot::from_sources(&[("p.cedar", text)], 1).unwrap();
        let context = crate::RequestContext::new(crate::AuthMode::Signed, [127, 0, 0, 1].into());
        let request = AuthzRequest {
            principal: crate::PrincipalRef::Credential {
                name: "ann",
                access_key: "AK",
                groups: &[],
            },
            action: "PutObject",
            bucket: Some("b"),
            key: Some("k"),
            context: &context,
        };
        let headers = [
            ("x-amz-object-lock-mode", "GOVERNANCE"),
            ("x-amz-object-lock-legal-hold", "ON"),
        ];
        let implied = implied_actions("PutObject", &headers);
        let (decision, by) = decide_with_implied(&snapshot, &request, &implied);
        assert!(!decision.allowed);
        assert_eq!(decision.policies, ["no-legal-holds"]);
        assert_eq!(decision.reason.as_deref(), Some("no_legal_holds"));
        let by = by.unwrap();
        assert_eq!(
            (by.action, by.header.as_str()),
            ("PutObjectLegalHold", "x-amz-object-lock-legal-hold")
        );
        let (allowed, by) = decide_with_implied(&snapshot, &request, &implied[..1]);
        assert!(allowed.allowed && by.is_none());
        assert_eq!(allowed.policies, ["writes"]);
    }
}
