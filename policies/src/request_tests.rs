//! Unit tests of [`super`]: what is built conforms to the schema.

use std::net::{IpAddr, Ipv4Addr};

use cedar_policy::EvalResult;

use super::*;
use crate::schema::model;

fn context() -> RequestContext {
    let mut context = RequestContext::new(AuthMode::Signed, IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
    context.content_length = Some(42);
    context.bucket_hard_cap = Some(u64::MAX);
    context.list_prefix = Some("home/alice/".into());
    context.copy_source = Some(("src".into(), "a/b".into()));
    context
}

/// Re-checks everything `build` produced against the schema.
fn assert_conforms(request: &AuthzRequest<'_>) -> BuiltRequest {
    let model = model().unwrap();
    let built = build(model, &PolicyUsage::everything(), request).unwrap();
    let schema = model.validator.schema();
    Entities::from_entities(built.entities.iter().cloned(), Some(schema)).unwrap();
    let cedar = &built.request;
    Request::new(
        cedar.principal().unwrap().clone(),
        cedar.action().unwrap().clone(),
        cedar.resource().unwrap().clone(),
        cedar.context().unwrap().clone(),
        Some(schema),
    )
    .unwrap();
    built
}

#[test]
fn every_principal_kind_and_resource_kind_conforms() {
    let context = context();
    let groups = vec!["team-a".to_owned(), "auditors".to_owned()];
    let claims = BTreeMap::from([("email".to_owned(), "a@example.com".to_owned())]);
    let principals = [
        PrincipalRef::Credential {
            name: "alice",
            access_key: "AKIAALICE",
            groups: &groups,
        },
        PrincipalRef::Session {
            role: "ci",
            issuer: "https://issuer.example",
            subject: "repo:x",
            claims: &claims,
        },
        PrincipalRef::Anonymous,
    ];
    for principal in principals {
        for (action, key) in [
            ("GetObject", Some("home/alice/x")),
            ("s3:ListObjectsV2", None),
        ] {
            let request = AuthzRequest {
                principal,
                action,
                bucket: Some("b"),
                key,
                context: &context,
            };
            let built = assert_conforms(&request);
            assert_eq!(built.bucket, "b");
        }
    }
}

#[test]
fn credential_groups_are_parents_and_slicing_inputs() {
    let context = context();
    let groups = vec!["team-a".to_owned()];
    let request = AuthzRequest {
        principal: PrincipalRef::Credential {
            name: "alice",
            access_key: "AK",
            groups: &groups,
        },
        action: "PutObject",
        bucket: Some("b"),
        key: Some("k"),
        context: &context,
    };
    let built = assert_conforms(&request);
    assert_eq!(built.groups, groups);
    assert_eq!(built.principal.to_string(), r#"Credential::"alice""#);
    let group = EntityTypes::uid(&model().unwrap().types.group, "team-a");
    assert!(built.entities.is_ancestor_of(&group, &built.principal));
}

#[test]
fn longs_are_clamped_so_sums_cannot_overflow() {
    let context = context();
    let built = build(
        model().unwrap(),
        &PolicyUsage::everything(),
        &AuthzRequest {
            principal: PrincipalRef::Anonymous,
            action: "HeadBucket",
            bucket: Some("b"),
            key: None,
            context: &context,
        },
    )
    .unwrap();
    let cedar_context = built.request.context().unwrap();
    let cap = cedar_context.get("bucket_hard_cap").unwrap();
    assert_eq!(cap, EvalResult::Long(i64::MAX / 4));
    assert_eq!(
        cedar_context.get("content_length"),
        Some(EvalResult::Long(42))
    );
    assert_eq!(cedar_context.get("bucket_usage"), Some(EvalResult::Long(0)));
}

#[test]
fn requests_that_cannot_be_built_say_why() {
    let context = context();
    let model = model().unwrap();
    let ask = |action, bucket, key| {
        build(
            model,
            &PolicyUsage::everything(),
            &AuthzRequest {
                principal: PrincipalRef::Anonymous,
                action,
                bucket,
                key,
                context: &context,
            },
        )
        .unwrap_err()
    };
    assert_eq!(
        ask("GetObjekt", Some("b"), Some("k")),
        "unknown action `GetObjekt`"
    );
    assert_eq!(
        ask("GetObject", Some("b"), None),
        "action `GetObject` needs an object key"
    );
    assert_eq!(
        ask("ListBuckets", None, None),
        "action `ListBuckets` needs a bucket"
    );
}

#[test]
fn folders_and_segments() {
    assert_eq!(folder("home/alice/x.txt"), "home/alice/");
    assert_eq!(folder("x.txt"), "");
    let record = |path: &str| {
        let built = segments(path).unwrap();
        let context = Context::from_pairs([("s".to_owned(), built)]).unwrap();
        match context.get("s") {
            Some(EvalResult::Record(record)) => {
                let text = |name: &str| match record.get(name) {
                    Some(EvalResult::String(value)) => value.clone(),
                    other => panic!("{other:?}"),
                };
                (text("first"), text("second"))
            }
            other => panic!("{other:?}"),
        }
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(record("home/alice/x.txt"), pair("home", "alice"));
    assert_eq!(record("home/alice/"), pair("home", "alice"));
    assert_eq!(record("home/alice"), pair("home", ""));
    assert_eq!(record("home/"), pair("home", ""));
    assert_eq!(record("home"), pair("", ""));
    assert_eq!(record(""), pair("", ""));
}
