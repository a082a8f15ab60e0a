//! The base set cannot be overridden: an open team policy still leaves
//! anonymous requests read-only.

use cedargate_policies::{AuthMode, AuthzRequest, PolicyStore, PrincipalRef};

use crate::support::{context, write};

#[test]
fn an_open_team_policy_does_not_let_anonymous_write() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "open.cedar",
        "@id(\"open\")\npermit (principal, action, resource);\n",
    );
    let store = PolicyStore::load(dir.path()).unwrap();
    let snapshot = store.snapshot();
    let anonymous = context(AuthMode::Anonymous);
    let ask = |action, key| {
        snapshot.decide(&AuthzRequest {
            principal: PrincipalRef::Anonymous,
            action,
            bucket: Some("bucket"),
            key,
            context: &anonymous,
        })
    };

    let get = ask("GetObject", Some("k"));
    assert!(get.allowed, "{get:?}");
    assert_eq!(get.policies, ["open"]);

    for (action, key) in [
        ("PutObject", Some("k")),
        ("DeleteObject", Some("k")),
        ("CreateMultipartUpload", Some("k")),
        ("PutBucketPolicy", None),
        ("DeleteBucket", None),
        ("ListObjectVersions", None),
    ] {
        let denied = ask(action, key);
        assert!(!denied.allowed, "{action}: {denied:?}");
        assert_eq!(
            denied.reason.as_deref(),
            Some("operation_not_allowed"),
            "{action}"
        );
        assert_eq!(
            denied.policies,
            ["cedargate-base/anonymous-read-only"],
            "{action}"
        );
    }

    // The same open policy lets credentials write.
    let signed = context(AuthMode::Signed);
    let put = snapshot.decide(&AuthzRequest {
        principal: PrincipalRef::Credential {
            name: "alice",
            access_key: "AK",
            groups: &[],
        },
        action: "PutObject",
        bucket: Some("bucket"),
        key: Some("k"),
        context: &signed,
    });
    assert!(put.allowed);
}
