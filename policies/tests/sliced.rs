//! Property: on random policy sets and random requests, the sliced decision
//! equals the unsliced one (allowed, deciding ids, error code, reason and
//! errors). Seeded, so a failure replays; the seed and policy text are in
//! the failure message.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use cedargate_policies::{
    AuthMode, AuthzRequest, PolicySnapshot, PrincipalRef, RequestContext, ResourceKind,
    action_resource,
};

use crate::support::Rng;

const SETS: usize = 60;
const REQUESTS_PER_SET: usize = 10;
const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];
const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];
const BUCKETS: [&str; 4] = ["b0", "b1", "b2", "b3"];
const KEYS: [&str; 4] = ["a/x", "a/y", "k0", "home/u1/f"];
const ACTIONS: [&str; 10] = [
    "GetObject",
    "PutObject",
    "DeleteObject",
    "UploadPart",
    "ListParts",
    "ListObjectsV2",
    "HeadBucket",
    "PutBucketPolicy",
    "DeleteBucket",
    "ListBuckets",
];
const GROUPS_OF_ACTIONS: [&str; 4] = ["read", "write", "list", "bucket-config"];
const CONDITIONS: [&str; 8] = [
    "context.secure_transport",
    "context.content_length > 100",
    "context has bucket_hard_cap && context.bucket_usage + context.content_length > context.bucket_hard_cap",
    "context.source_ip.isInRange(ip(\"10.0.0.0/8\"))",
    "resource is Object && resource.key like \"a/*\"",
    "principal is Credential && principal.name == \"u1\"",
    // Overflows (an evaluation error) when content_length >= 2.
    "context.content_length * 4611686018427387903 > 10",
    "resource is Object && resource.segments.second == \"u1\"",
];

fn principal_scope(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => format!("principal == Credential::\"{}\"", rng.pick(&USERS)),
        1 | 2 => format!("principal in Group::\"{}\"", rng.pick(&GROUPS)),
        3 => "principal is Anonymous".into(),
        4 => format!(
            "principal is Credential in Group::\"{}\"",
            rng.pick(&GROUPS)
        ),
        _ => "principal".into(),
    }
}

fn action_scope(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("action == Action::\"s3:{}\"", rng.pick(&ACTIONS)),
        1 => format!("action in Action::\"{}\"", rng.pick(&GROUPS_OF_ACTIONS)),
        _ => "action".into(),
    }
}

fn resource_scope(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 | 1 => format!("resource in Bucket::\"{}\"", rng.pick(&BUCKETS)),
        2 => format!("resource == Bucket::\"{}\"", rng.pick(&BUCKETS)),
        3 => format!(
            "resource == Object::\"{}/{}\"",
            rng.pick(&BUCKETS),
            rng.pick(&KEYS)
        ),
        4 => format!("resource is Object in Bucket::\"{}\"", rng.pick(&BUCKETS)),
        _ => "resource".into(),
    }
}

fn random_policy(rng: &mut Rng, index: usize) -> String {
    let forbid = rng.chance(35);
    let mut text = format!("@id(\"p{index}\")\n");
    if forbid && rng.chance(40) {
        text.push_str("@error(\"EntityTooLarge\")\n");
    }
    if rng.chance(50) {
        text.push_str(&format!("@reason(\"r{}\")\n", rng.below(3)));
    }
    let effect = if forbid { "forbid" } else { "permit" };
    let principal = principal_scope(rng);
    let action = action_scope(rng);
    let resource = resource_scope(rng);
    text.push_str(&format!("{effect} ({principal}, {action}, {resource})"));
    if rng.chance(60) {
        text.push_str(&format!(" when {{ {} }}", rng.pick(&CONDITIONS)));
    }
    text.push_str(";\n");
    text
}

/// A random valid policy set: policies that fail strict validation (an
/// action that cannot apply to the scoped resource) are redrawn.
fn random_set(rng: &mut Rng) -> (PolicySnapshot, String) {
    let count = 1 + rng.below(30);
    let mut text = String::new();
    for index in 0..count {
        loop {
            let policy = random_policy(rng, index);
            if PolicySnapshot::from_sources(&[("p.cedar", &policy)], 1).is_ok() {
                text.push_str(&policy);
                break;
            }
        }
    }
    let snapshot = PolicySnapshot::from_sources(&[("p.cedar", &text)], 1).unwrap();
    (snapshot, text)
}

struct RandomRequest {
    principal: usize,
    groups: Vec<String>,
    action: &'static str,
    bucket: &'static str,
    key: &'static str,
    context: RequestContext,
}

fn random_request(rng: &mut Rng) -> RandomRequest {
    let ip = if rng.chance(50) {
        IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))
    } else {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))
    };
    let principal = rng.below(USERS.len() + 2);
    let mode = if principal == USERS.len() {
        AuthMode::Anonymous
    } else {
        AuthMode::Signed
    };
    let mut context = RequestContext::new(mode, ip);
    context.secure_transport = rng.chance(50);
    context.content_length = Some(rng.pick(&[0, 1, 5, 200]));
    context.bucket_usage = Some(rng.pick(&[0, 100, 1000]));
    context.bucket_hard_cap = rng.chance(50).then_some(1000);
    context.has_response_overrides = rng.chance(20);
    if rng.chance(30) {
        context.list_prefix = Some("a/".into());
    }
    let groups = GROUPS
        .iter()
        .filter(|_| rng.chance(40))
        .map(|group| (*group).to_owned())
        .collect();
    RandomRequest {
        principal,
        groups,
        action: rng.pick(&ACTIONS),
        bucket: rng.pick(&BUCKETS),
        key: rng.pick(&KEYS),
        context,
    }
}

#[test]
fn sliced_decisions_equal_unsliced_decisions() {
    let seed = 0x00CE_DA26_A7E5;
    let mut rng = Rng::new(seed);
    let claims = BTreeMap::from([("team".to_owned(), "g1".to_owned())]);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut compared = 0;
    for set in 0..SETS {
        let (snapshot, text) = random_set(&mut rng);
        for _ in 0..REQUESTS_PER_SET {
            let request = random_request(&mut rng);
            let principal = match request.principal {
                index if index < USERS.len() => PrincipalRef::Credential {
                    name: USERS[index],
                    access_key: "AK",
                    groups: &request.groups,
                },
                index if index == USERS.len() => PrincipalRef::Anonymous,
                _ => PrincipalRef::Session {
                    role: "r",
                    issuer: "i",
                    subject: "s",
                    claims: &claims,
                },
            };
            let key = (action_resource(request.action) == Some(ResourceKind::Object))
                .then_some(request.key);
            let authz = AuthzRequest {
                principal,
                action: request.action,
                bucket: Some(request.bucket),
                key,
                context: &request.context,
            };
            let explained = snapshot.explain(&authz);
            let unsliced = snapshot.decide_unsliced(&authz);
            let why = || format!("seed {seed:#x}, set {set}, request {authz:?}\npolicies:\n{text}");
            assert_eq!(explained, unsliced, "{}", why());
            // The request path's answer: the same, except that an allow
            // names one of the satisfied permits (the first loaded).
            let sliced = snapshot.decide(&authz);
            if sliced.allowed {
                assert!(explained.allowed, "{}", why());
                assert_eq!(sliced.policies.len(), 1, "{}", why());
                assert_eq!(
                    Some(&sliced.policies[0]),
                    first_loaded(&explained.policies, &text),
                    "{}",
                    why()
                );
            } else {
                assert_eq!(sliced.policies, explained.policies, "{}", why());
            }
            assert_eq!(
                (sliced.allowed, &sliced.error_code, &sliced.reason),
                (explained.allowed, &explained.error_code, &explained.reason),
                "{}",
                why()
            );
            // Permits after the first satisfied one are not evaluated, so
            // their errors (for the log only) are not seen.
            assert!(
                sliced.errors.iter().all(|e| explained.errors.contains(e)),
                "{}",
                why()
            );
            compared += 1;
            let outcome = match (
                &sliced.allowed,
                sliced.reason.as_deref(),
                &sliced.error_code,
            ) {
                (true, _, _) => "allow".to_owned(),
                (false, _, Some(code)) => format!("deny {code}"),
                (false, Some(reason), None) => format!("deny {reason}"),
                (false, None, None) => "deny by forbid".to_owned(),
            };
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    println!("{compared} comparisons: {outcomes:?}");
    assert!(compared >= 300);
    // The generator reaches every kind of outcome.
    for outcome in [
        "allow",
        "deny no_permit",
        "deny EntityTooLarge",
        "deny evaluation_error",
        "deny operation_not_allowed",
    ] {
        assert!(
            outcomes.contains_key(outcome),
            "never saw `{outcome}`: {outcomes:?}"
        );
    }
}

/// Of `ids`, the one whose `@id("...")` comes first in `text`.
fn first_loaded<'a>(ids: &'a [String], text: &str) -> Option<&'a String> {
    ids.iter()
        .min_by_key(|id| text.find(&format!("@id(\"{id}\")")).unwrap_or(usize::MAX))
}
