//! Unit tests of [`super`]: deny precedence, fail-closed forbids, the base
//! set, and requests that cannot be built.

use std::net::{IpAddr, Ipv4Addr};

use crate::{AuthMode, AuthzRequest, Decision, PolicySnapshot, PrincipalRef, RequestContext};

fn snapshot(text: &str) -> PolicySnapshot {
    PolicySnapshot::from_sources(&[("test.cedar", text)], 1).unwrap()
}

fn context(mode: AuthMode) -> RequestContext {
    RequestContext::new(mode, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
}

/// Decides sliced and unsliced and checks they agree: the explanation is
/// the unsliced evaluation, and the request path's answer is the same
/// except that an allow names only the first satisfied permit (in load
/// order) and that the errors of permits after it are not seen.
fn decide(
    snapshot: &PolicySnapshot,
    principal: PrincipalRef<'_>,
    action: &str,
    key: Option<&str>,
    context: &RequestContext,
) -> Decision {
    let request = AuthzRequest {
        principal,
        action,
        bucket: Some("b"),
        key,
        context,
    };
    let sliced = snapshot.decide(&request);
    let explained = snapshot.explain(&request);
    assert_eq!(explained, snapshot.decide_unsliced(&request), "{action}");
    assert_eq!(
        (sliced.allowed, &sliced.error_code, &sliced.reason),
        (explained.allowed, &explained.error_code, &explained.reason),
        "{action}"
    );
    if sliced.allowed {
        assert_eq!(sliced.policies.len(), 1, "{action}");
        assert!(explained.policies.contains(&sliced.policies[0]), "{action}");
    } else {
        assert_eq!(sliced.policies, explained.policies, "{action}");
    }
    assert!(sliced.errors.iter().all(|e| explained.errors.contains(e)));
    sliced
}

const NO_GROUPS: &[String] = &[];

fn alice() -> PrincipalRef<'static> {
    PrincipalRef::Credential {
        name: "alice",
        access_key: "AKALICE",
        groups: NO_GROUPS,
    }
}

const QUOTA: &str = r#"
@id("quota") @error("EntityTooLarge") @reason("quota")
forbid (principal, action in [Action::"write", Action::"multipart"], resource)
when { context has bucket_hard_cap && context.bucket_usage + context.content_length > context.bucket_hard_cap };
"#;

#[test]
fn deny_by_default_says_no_permit() {
    let snapshot = snapshot("");
    let decision = decide(
        &snapshot,
        alice(),
        "GetObject",
        Some("k"),
        &context(AuthMode::Signed),
    );
    assert!(!decision.allowed);
    assert!(decision.is_no_permit());
    assert!(decision.policies.is_empty());
    assert_eq!(decision.error_code, None);
}

#[test]
fn an_allow_names_the_satisfied_permits() {
    let snapshot = snapshot(
        "@id(\"p1\") permit (principal, action, resource in Bucket::\"b\");\n@id(\"p2\") permit (principal == Credential::\"alice\", action, resource);\n@id(\"p3\") permit (principal == Credential::\"bob\", action, resource);",
    );
    let context = context(AuthMode::Signed);
    let decision = decide(&snapshot, alice(), "PutObject", Some("k"), &context);
    assert!(decision.allowed);
    // The request path stops at the first satisfied permit in load order...
    assert_eq!(decision.policies, ["p1"]);
    assert_eq!(decision.reason, None);
    // ...an explanation names them all.
    let explained = snapshot.explain(&AuthzRequest {
        principal: alice(),
        action: "PutObject",
        bucket: Some("b"),
        key: Some("k"),
        context: &context,
    });
    assert_eq!(explained.policies, ["p1", "p2"]);
}

#[test]
fn the_first_permit_is_the_first_loaded_whatever_its_slice() {
    // z-early sits in the always slice, a-late in the bucket's and
    // m-principal in alice's: load order decides, not the slices or ids.
    let first = |text: &str| {
        let set = snapshot(text);
        decide(
            &set,
            alice(),
            "GetObject",
            Some("k"),
            &context(AuthMode::Signed),
        )
        .policies
    };
    let early = "@id(\"z-early\") permit (principal, action, resource);\n@id(\"a-late\") permit (principal, action, resource in Bucket::\"b\");\n@id(\"m-principal\") permit (principal == Credential::\"alice\", action, resource);";
    assert_eq!(first(early), ["z-early"]);
    let principal_first = "@id(\"m-principal\") permit (principal == Credential::\"alice\", action, resource);\n@id(\"a-late\") permit (principal, action, resource in Bucket::\"b\");";
    assert_eq!(first(principal_first), ["m-principal"]);
}

#[test]
fn the_base_set_keeps_anonymous_read_only() {
    let snapshot = snapshot("@id(\"open\") permit (principal, action, resource);");
    let anonymous = context(AuthMode::Anonymous);
    let get = decide(
        &snapshot,
        PrincipalRef::Anonymous,
        "GetObject",
        Some("k"),
        &anonymous,
    );
    assert!(get.allowed, "{get:?}");
    for (action, key) in [
        ("PutObject", Some("k")),
        ("ListObjectVersions", None),
        ("GetObjectAcl", Some("k")),
    ] {
        let denied = decide(&snapshot, PrincipalRef::Anonymous, action, key, &anonymous);
        assert!(!denied.allowed, "{action}");
        assert_eq!(
            denied.policies,
            ["cedargate-base/anonymous-read-only"],
            "{action}"
        );
        assert_eq!(denied.reason.as_deref(), Some("operation_not_allowed"));
        assert_eq!(denied.error_code, None);
    }
    let mut overrides = anonymous.clone();
    overrides.has_response_overrides = true;
    let denied = decide(
        &snapshot,
        PrincipalRef::Anonymous,
        "GetObject",
        Some("k"),
        &overrides,
    );
    assert_eq!(
        denied.policies,
        ["cedargate-base/anonymous-no-response-overrides"]
    );
    assert_eq!(denied.reason.as_deref(), Some("operation_not_allowed"));
}

#[test]
fn the_base_set_enforces_hard_caps_with_no_quota_policy() {
    let mut full = context(AuthMode::Signed);
    full.bucket_usage = Some(50);
    full.bucket_reserved = Some(0);
    full.bucket_hard_cap = Some(60);
    full.write_bytes = Some(50);
    let open = snapshot("@id(\"open\") permit (principal, action, resource);");
    for action in ["PutObject", "CopyObject", "UploadPart", "UploadPartCopy"] {
        let denied = decide(&open, alice(), action, Some("k"), &full);
        assert!(!denied.allowed, "{action}");
        assert_eq!(denied.policies, ["cedargate-base/quota"], "{action}");
        assert_eq!(denied.error_code.as_deref(), Some("EntityTooLarge"));
        assert_eq!(denied.reason.as_deref(), Some("quota"));
    }
    // Deletes free space; a write that fits, or a bucket without a cap, passes.
    assert!(decide(&open, alice(), "DeleteObject", Some("k"), &full).allowed);
    let mut fits = full.clone();
    fits.write_bytes = Some(10);
    assert!(decide(&open, alice(), "PutObject", Some("k"), &fits).allowed);
    let mut uncapped = full.clone();
    uncapped.bucket_hard_cap = None;
    assert!(decide(&open, alice(), "PutObject", Some("k"), &uncapped).allowed);
    // The quota-exempt group is the one way past the cap.
    let exempt = ["quota-exempt".to_owned()];
    let root = PrincipalRef::Credential {
        name: "root",
        access_key: "AKROOT",
        groups: &exempt,
    };
    assert!(decide(&open, root, "PutObject", Some("k"), &full).allowed);
    // Without a permit the caller learns nothing about the quota.
    let decision = decide(&snapshot(""), alice(), "PutObject", Some("k"), &full);
    assert!(decision.is_no_permit(), "{decision:?}");
    assert_eq!(decision.error_code, None);
}

#[test]
fn error_codes_show_only_when_a_permit_would_allow() {
    let mut full = context(AuthMode::Signed);
    full.bucket_usage = Some(100);
    full.bucket_hard_cap = Some(100);
    full.content_length = Some(1);

    let scoped = snapshot(&format!(
        "@id(\"alice-b\") permit (principal == Credential::\"alice\", action, resource in Bucket::\"b\");\n{QUOTA}"
    ));
    let decision = decide(&scoped, alice(), "PutObject", Some("k"), &full);
    assert!(!decision.allowed);
    assert_eq!(decision.policies, ["quota"]);
    assert_eq!(decision.error_code.as_deref(), Some("EntityTooLarge"));
    assert_eq!(decision.reason.as_deref(), Some("quota"));

    // Without a permit the caller learns nothing about the quota.
    let unscoped = snapshot(QUOTA);
    let decision = decide(&unscoped, alice(), "PutObject", Some("k"), &full);
    assert!(decision.is_no_permit(), "{decision:?}");
    assert_eq!(decision.error_code, None);
}

#[test]
fn plain_forbids_beat_error_forbids() {
    let mut full = context(AuthMode::Signed);
    full.bucket_hard_cap = Some(0);
    full.content_length = Some(1);
    let text = format!(
        "@id(\"all\") permit (principal, action, resource);\n@id(\"no-tls\") @reason(\"insecure_transport\") forbid (principal, action, resource) unless {{ context.secure_transport }};\n{QUOTA}"
    );
    let snapshot = snapshot(&text);
    let decision = decide(&snapshot, alice(), "PutObject", Some("k"), &full);
    assert_eq!(decision.policies, ["no-tls"]);
    assert_eq!(decision.error_code, None);
    assert_eq!(decision.reason.as_deref(), Some("insecure_transport"));
}

#[test]
fn an_erroring_forbid_denies() {
    // Multiplying by a large constant overflows at evaluation time.
    let text = "@id(\"all\") permit (principal, action, resource);\n@id(\"broken\") forbid (principal, action, resource) when { context.content_length * 4611686018427387903 > 10 };";
    let snapshot = snapshot(text);
    let mut big = context(AuthMode::Signed);
    big.content_length = Some(4);
    let decision = decide(&snapshot, alice(), "PutObject", Some("k"), &big);
    assert!(!decision.allowed);
    assert_eq!(decision.reason.as_deref(), Some("evaluation_error"));
    assert_eq!(decision.policies, ["broken"]);
    assert_eq!(decision.errors.len(), 1);
    assert!(
        decision.errors[0].contains("broken"),
        "{:?}",
        decision.errors
    );

    // An erroring permit just does not grant.
    let text = "@id(\"broken\") permit (principal, action, resource) when { context.content_length * 4611686018427387903 > 10 };";
    let decision = decide(&self::snapshot(text), alice(), "PutObject", Some("k"), &big);
    assert!(decision.is_no_permit());
    assert_eq!(decision.errors.len(), 1);
}

#[test]
fn unknown_actions_are_denied_not_panics() {
    let snapshot = snapshot("permit (principal, action, resource);");
    let signed = context(AuthMode::Signed);
    let decision = decide(&snapshot, alice(), "GetObjekt", Some("k"), &signed);
    assert!(!decision.allowed);
    assert_eq!(decision.reason.as_deref(), Some("invalid_request"));
    assert_eq!(decision.errors, ["unknown action `GetObjekt`"]);
    let prefixed = decide(&snapshot, alice(), "s3:GetObject", Some("k"), &signed);
    assert!(prefixed.allowed);
}

#[test]
fn object_tags_decide_and_only_resource_tag_rules_ask_for_them() {
    let tagged = snapshot(
        r#"
        permit (principal, action == Action::"s3:GetObject", resource);
        forbid (principal, action == Action::"s3:GetObject", resource)
        when { resource.hasTag("classification") && resource.getTag("classification") == "secret" };
        "#,
    );
    assert!(tagged.reads_object_tags());
    let mut ctx = context(AuthMode::Signed);
    let allowed =
        |ctx: &RequestContext| decide(&tagged, alice(), "GetObject", Some("k"), ctx).allowed;
    assert!(allowed(&ctx), "no tags");
    ctx.object_tags = Some([("classification".to_owned(), "public".to_owned())].into());
    assert!(allowed(&ctx), "another value");
    ctx.object_tags = Some([("classification".to_owned(), "secret".to_owned())].into());
    assert!(!allowed(&ctx), "the forbidden value");

    let principal_tags = snapshot(
        r#"permit (principal is Session, action, resource) when { principal.hasTag("email") };"#,
    );
    assert!(
        !principal_tags.reads_object_tags(),
        "principal tags are not object tags"
    );
    assert!(!snapshot(r#"permit (principal, action, resource);"#).reads_object_tags());
}

#[test]
fn the_resource_acl_decides_and_only_policies_reading_it_ask_for_it() {
    let public = snapshot(
        r#"
        permit (principal, action == Action::"s3:GetObject", resource)
        when { resource.acl == "public-read" };
        permit (principal, action == Action::"s3:HeadBucket", resource)
        when { resource.acl == "public-read" };
        "#,
    );
    assert!(public.reads_acl());
    let mut ctx = context(AuthMode::Anonymous);
    let allowed = |ctx: &RequestContext, action, key| {
        decide(&public, PrincipalRef::Anonymous, action, key, ctx).allowed
    };
    assert!(!allowed(&ctx, "GetObject", Some("k")), "no ACL is private");
    ctx.resource_acl = Some("private".to_owned());
    assert!(!allowed(&ctx, "GetObject", Some("k")));
    ctx.resource_acl = Some("public-read".to_owned());
    assert!(allowed(&ctx, "GetObject", Some("k")), "objects");
    assert!(allowed(&ctx, "HeadBucket", None), "buckets");
    ctx.resource_acl = Some("public-read-write".to_owned());
    assert!(!allowed(&ctx, "GetObject", Some("k")));
    assert!(!snapshot(r#"permit (principal, action, resource);"#).reads_acl());
    assert!(
        !snapshot(
            r#"permit (principal, action, resource is Object) when { resource.key == "k" };"#
        )
        .reads_acl()
    );
}

#[test]
fn leaving_out_unread_fields_never_changes_a_decision() {
    let sets = [
        r#"permit (principal == Credential::"alice", action, resource);"#,
        r#"permit (principal, action, resource)
           when { context.source_ip.isInRange(ip("192.0.2.0/24")) && context.auth_mode == "signed" };"#,
        r#"permit (principal, action in Action::"read", resource)
           when { resource has prefix && resource.prefix == "home/" };
           forbid (principal, action, resource)
           when { context.content_length > 10 };"#,
        r#"permit (principal, action, resource) when { context has list_prefix };
           permit (principal is Credential, action in Action::"read", resource)
           when { resource.segments.second == principal.name };"#,
        r#"permit (principal, action, resource) when { context == context };"#,
    ];
    let mut contexts = Vec::new();
    for (ip, length, prefix) in [
        ([192, 0, 2, 7], Some(5), None),
        ([198, 51, 100, 1], Some(50), Some("home/alice/")),
        ([192, 0, 2, 9], None, Some("x")),
    ] {
        let mut ctx = RequestContext::new(AuthMode::Signed, IpAddr::V4(Ipv4Addr::from(ip)));
        ctx.content_length = length;
        ctx.list_prefix = prefix.map(str::to_owned);
        contexts.push(ctx);
    }
    for text in sets {
        let set = snapshot(text);
        for ctx in &contexts {
            for (action, key) in [
                ("GetObject", Some("home/alice/f")),
                ("GetObject", Some("other")),
                ("PutObject", Some("home/x")),
                ("ListObjectsV2", None),
            ] {
                let request = AuthzRequest {
                    principal: alice(),
                    action,
                    bucket: Some("b"),
                    key,
                    context: ctx,
                };
                assert_eq!(
                    set.explain(&request),
                    set.decide_with_everything(&request),
                    "{text} {action} {key:?} {ctx:?}"
                );
            }
        }
    }
}

#[test]
fn a_request_no_policy_can_apply_to_is_denied_by_default_or_refused_as_invalid() {
    let snapshot =
        snapshot("@id(\"bob-only\") permit (principal == Credential::\"bob\", action, resource);");
    let signed = context(AuthMode::Signed);
    let ask = |action: &str, key| decide(&snapshot, alice(), action, key, &signed);
    // Nothing names alice, her groups or the bucket: denied without Cedar,
    // exactly as an evaluation would deny it.
    let decision = ask("GetObject", Some("k"));
    assert!(decision.is_no_permit(), "{decision:?}");
    assert!(decision.policies.is_empty() && decision.errors.is_empty());
    // A request the builder refuses keeps its reason.
    for (action, key) in [("GetObject", None), ("NoSuchAction", Some("k"))] {
        let decision = ask(action, key);
        assert_eq!(
            decision.reason.as_deref(),
            Some(crate::REASON_INVALID_REQUEST)
        );
    }
}

#[test]
fn an_ipv4_client_on_a_dual_stack_socket_is_decided_by_its_ipv4_address() {
    let snapshot = snapshot(
        r#"@id("office")
permit (principal, action, resource)
when { context.source_ip.isInRange(ip("10.0.0.0/8")) };"#,
    );
    let mapped = std::net::Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped();
    let context = RequestContext::new(AuthMode::Signed, IpAddr::V6(mapped));
    let decision = decide(&snapshot, alice(), "GetObject", Some("k"), &context);
    assert!(decision.allowed, "{decision:?}");
    assert_eq!(decision.policies, ["office"]);
}
