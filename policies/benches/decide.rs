//! Per-decision cost at 10, 100 and 1,000 policies spread over 100 buckets:
//! sliced (what the gateway calls: the request's slices, permits until one
//! is satisfied), explained (the slices, every permit) and unsliced (every
//! policy evaluated), plus the cost of building the Cedar request alone.
//!
//! `cargo bench -p cedargate-policies` (add `-- --warm-up-time 1
//! --measurement-time 2` for a quick run).

#![expect(
    missing_docs,
    reason = "criterion_group! defines an undocumented public function"
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use cedargate_policies::{AuthMode, AuthzRequest, PolicySnapshot, PrincipalRef, RequestContext};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The gateway's allocator, so the figures are the gateway's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BUCKETS: usize = 100;

/// `count` team policies over 100 buckets (every tenth a forbid with a
/// condition), plus an always-evaluated quota forbid.
fn policy_text(count: usize) -> String {
    let mut text = String::from(
        "@id(\"quota\") @error(\"EntityTooLarge\") @reason(\"quota\")\nforbid (principal, action in [Action::\"write\", Action::\"multipart\"], resource)\nwhen { context has bucket_hard_cap && context.bucket_usage + context.content_length > context.bucket_hard_cap };\n",
    );
    for index in 0..count {
        let bucket = index % BUCKETS;
        if index % 10 == 9 {
            text.push_str(&format!(
                "@id(\"p{index}\")\nforbid (principal, action in Action::\"write\", resource in Bucket::\"bucket{bucket}\")\nwhen {{ resource is Object && resource.key like \"frozen/*\" }};\n"
            ));
        } else {
            text.push_str(&format!(
                "@id(\"p{index}\")\npermit (principal in Group::\"team{bucket}\", action in [Action::\"read\", Action::\"write\", Action::\"list\"], resource in Bucket::\"bucket{bucket}\")\nwhen {{ context.secure_transport || context.source_ip.isInRange(ip(\"10.0.0.0/8\")) }};\n"
            ));
        }
    }
    text
}

fn context() -> RequestContext {
    let mut context = RequestContext::new(AuthMode::Signed, IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
    context.secure_transport = true;
    context.request_time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    context.content_length = Some(1024);
    context.bucket_usage = Some(1 << 20);
    context.bucket_hard_cap = Some(1 << 30);
    context
}

fn decide(c: &mut Criterion) {
    let groups = vec!["team7".to_owned()];
    let context = context();
    let request = AuthzRequest {
        principal: PrincipalRef::Credential {
            name: "alice",
            access_key: "AKIAALICE",
            groups: &groups,
        },
        action: "PutObject",
        bucket: Some("bucket7"),
        key: Some("data/2025/part-0001.parquet"),
        context: &context,
    };
    let mut group = c.benchmark_group("decide");
    for count in [10, 100, 1000] {
        let text = policy_text(count);
        let Ok(snapshot) = PolicySnapshot::from_sources(&[("bench.cedar", &text)], 1) else {
            eprintln!("benchmark policy set with {count} policies is invalid");
            continue;
        };
        let sliced = snapshot.decide(&request);
        let explained = snapshot.explain(&request);
        if !sliced.allowed || explained != snapshot.decide_unsliced(&request) {
            eprintln!("unexpected decision at {count} policies: {sliced:?} / {explained:?}");
        }
        group.bench_with_input(BenchmarkId::new("sliced", count), &request, |b, request| {
            b.iter(|| snapshot.decide(black_box(request)));
        });
        group.bench_with_input(
            BenchmarkId::new("explained", count),
            &request,
            |b, request| {
                b.iter(|| snapshot.explain(black_box(request)));
            },
        );
        group.bench_with_input(
            BenchmarkId::new("unsliced", count),
            &request,
            |b, request| {
                b.iter(|| snapshot.decide_unsliced(black_box(request)));
            },
        );
        if count == 10 {
            group.bench_with_input("build_request", &request, |b, request| {
                b.iter(|| snapshot.build_request(black_box(request)));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, decide);
criterion_main!(benches);
