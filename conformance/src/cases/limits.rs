//! Quotas and rate limits: a PUT one byte over a bucket's hard cap, and
//! bursts against a rate-limited credential and a rate-limited anonymous
//! binding until SlowDown (with `Retry-After`) comes back. Bursts are
//! bounded in count and time, and run last so the budgets they exhaust do
//! not disturb other cases.

use std::time::{Duration, Instant, SystemTime};

use super::{Case, Ctx, Outcome, Step, need};
use crate::check::{code_of, counted};
use crate::http::Response;
use crate::request::{Payload, S3Request};
use crate::table::RowId;

/// The most requests one burst sends.
const MAX_BURST: usize = 200;
/// The longest one burst lasts.
const MAX_BURST_TIME: Duration = Duration::from_secs(30);
/// The largest cap the suite will exceed with one PUT.
const MAX_QUOTA_PUT: u64 = 64 * 1024 * 1024;

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "limits.quota_exceeded",
        row: RowId::S3("EntityTooLarge"),
        needs: &["credentials.full", "buckets.quota_capped"],
        about: "signed PUT of cap_bytes + 1 bytes into the quota-capped bucket",
        run: quota_exceeded,
    },
    Case {
        name: "limits.rate_limited_credential",
        row: RowId::S3("SlowDown"),
        needs: &["credentials.rate_limited"],
        about: "burst of signed GETs with the rate-limited credential until SlowDown",
        run: rate_limited_credential,
    },
    Case {
        name: "limits.anonymous_rate_limited",
        row: RowId::Anonymous("rate_limited"),
        needs: &["buckets.anonymous_rate_limited"],
        about: "burst of unsigned GETs on the rate-limited anonymous bucket until SlowDown",
        run: anonymous_rate_limited,
    },
];

fn quota_exceeded(ctx: &Ctx<'_>) -> Step {
    let quota = need(
        ctx.fixtures.buckets.quota_capped.as_ref(),
        "buckets.quota_capped",
    )?;
    if quota.cap_bytes >= MAX_QUOTA_PUT {
        return Err(Outcome::skip(format!(
            "buckets.quota_capped.cap_bytes {} is too large to exceed in one PUT (limit {MAX_QUOTA_PUT})",
            quota.cap_bytes
        )));
    }
    let size = usize::try_from(quota.cap_bytes + 1).unwrap_or(usize::MAX);
    let key = ctx.key("over-quota");
    let request = S3Request::new("PUT", &quota.name, Some(&key)).body(vec![b'q'; size]);
    let request = ctx.signed(request, ctx.full()?, SystemTime::now(), &Payload::Body)?;
    let response = ctx.send(&request);
    ctx.cleanup(&quota.name, &key);
    ctx.judge(
        RowId::S3("EntityTooLarge"),
        &response?,
        &request,
        Some(&quota.name),
    )
}

/// Sends `next()` until an answer looks like a rate-limit rejection, within
/// the burst bounds; returns that answer.
fn burst(
    ctx: &Ctx<'_>,
    expected_status: Option<u16>,
    mut next: impl FnMut() -> Result<S3Request, Outcome>,
) -> Result<(S3Request, Response), Outcome> {
    let started = Instant::now();
    let mut last = String::from("-");
    for sent in 0..MAX_BURST {
        if started.elapsed() > MAX_BURST_TIME {
            return Err(Outcome::fail(
                last,
                format!("no SlowDown within {MAX_BURST_TIME:?} ({sent} requests)"),
            ));
        }
        let request = next()?;
        let response = ctx.send(&request)?;
        let code = code_of(&response);
        if code == "SlowDown"
            || Some(response.status) == expected_status
            || matches!(response.status, 429 | 503)
        {
            return Ok((request, response));
        }
        last = format!("{} {code}", response.status);
    }
    Err(Outcome::fail(
        last,
        format!("no SlowDown after {MAX_BURST} requests"),
    ))
}

fn rate_limited_credential(ctx: &Ctx<'_>) -> Step {
    let credential = need(
        ctx.fixtures.credentials.rate_limited.as_ref(),
        "credentials.rate_limited",
    )?;
    let bucket = ctx
        .fixtures
        .buckets
        .main
        .clone()
        .unwrap_or_else(|| ctx.probe_bucket());
    let row = RowId::S3("SlowDown");
    let expected = ctx.table.expected(row).map(|e| e.status);
    let (request, response) = burst(ctx, expected, || {
        let request = S3Request::new("GET", &bucket, Some(&ctx.key("rate-probe")));
        ctx.signed(request, credential, SystemTime::now(), &Payload::Body)
    })?;
    ctx.judge(row, &response, &request, Some(&bucket))
}

fn anonymous_rate_limited(ctx: &Ctx<'_>) -> Step {
    let anon = need(
        ctx.fixtures.buckets.anonymous_rate_limited.as_ref(),
        "buckets.anonymous_rate_limited",
    )?;
    let row = RowId::Anonymous("rate_limited");
    let expected = ctx.table.expected(row).map(|e| e.status);
    counted(ctx, row, || {
        let (request, response) = burst(ctx, expected, || {
            Ok(S3Request::new("GET", &anon.name, Some(&anon.key)))
        })?;
        ctx.judge(row, &response, &request, Some(&anon.name))
    })
}
