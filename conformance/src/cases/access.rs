//! Scope violations and anonymous rejects: a scoped credential on a bucket
//! outside its scope, and unsigned requests the anonymous read-only
//! allowlist does not cover. With a metrics URL, the scope-violation and
//! anonymous-reject counters must rise.

use super::{Case, Ctx, Step, need};
use crate::check::counted;
use crate::request::S3Request;
use crate::table::RowId;

const ANON: &[&str] = &["buckets.anonymous_readable"];

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "scope.forbidden_bucket",
        row: RowId::Scope,
        needs: &["credentials.scoped.forbidden_bucket"],
        about: "GET signed by the scoped credential in a bucket outside its scope",
        run: forbidden_bucket,
    },
    Case {
        name: "scope.nonexistent_bucket",
        row: RowId::Scope,
        needs: &["credentials.scoped"],
        about: "GET signed by the scoped credential in a bucket that does not exist (AccessDenied, not NoSuchBucket)",
        run: nonexistent_bucket,
    },
    Case {
        name: "anonymous.no_credentials",
        row: RowId::S3("AccessDenied"),
        needs: &["buckets.main"],
        about: "unsigned GET in the main bucket",
        run: no_credentials,
    },
    Case {
        name: "anonymous.no_binding",
        row: RowId::Anonymous("no_binding"),
        needs: &["buckets.main", "buckets.anonymous_readable"],
        about: "unsigned GET in the main bucket while anonymous access is on elsewhere",
        run: no_binding,
    },
    Case {
        name: "anonymous.operation_not_allowed",
        row: RowId::Anonymous("operation_not_allowed"),
        needs: ANON,
        about: "unsigned PUT in the anonymous-readable bucket",
        run: operation_not_allowed,
    },
    Case {
        name: "anonymous.subresource_not_allowed",
        row: RowId::Anonymous("operation_not_allowed"),
        needs: ANON,
        about: "unsigned `GET ?acl` of the anonymous-readable object",
        run: subresource_not_allowed,
    },
    Case {
        name: "anonymous.response_override_not_allowed",
        row: RowId::Anonymous("operation_not_allowed"),
        needs: ANON,
        about: "unsigned GET of the anonymous-readable object with response-content-type",
        run: response_override_not_allowed,
    },
    Case {
        name: "anonymous.disabled_globally",
        row: RowId::Anonymous("disabled_globally"),
        needs: &["anonymous.disabled_globally"],
        about: "unsigned GET while anonymous access is switched off",
        run: disabled_globally,
    },
];

/// Sends `request` and judges it against `row`; counts the row's metric
/// when `count` is set.
fn send(ctx: &Ctx<'_>, row: RowId, request: &S3Request, bucket: &str, count: bool) -> Step {
    let step = || {
        let response = ctx.send(request)?;
        ctx.judge(row, &response, request, Some(bucket))
    };
    if count {
        counted(ctx, row, step)
    } else {
        step()
    }
}

fn scoped_get(ctx: &Ctx<'_>, bucket: &str, count: bool) -> Step {
    let scoped = need(
        ctx.fixtures.credentials.scoped.as_ref(),
        "credentials.scoped",
    )?;
    let request = S3Request::new("GET", bucket, Some(&ctx.key("scope-probe")));
    let request = ctx.signed(
        request,
        &scoped.credential(),
        std::time::SystemTime::now(),
        &crate::request::Payload::Body,
    )?;
    send(ctx, RowId::Scope, &request, bucket, count)
}

fn forbidden_bucket(ctx: &Ctx<'_>) -> Step {
    let scoped = need(
        ctx.fixtures.credentials.scoped.as_ref(),
        "credentials.scoped",
    )?;
    let bucket = need(
        scoped.forbidden_bucket.as_deref(),
        "credentials.scoped.forbidden_bucket",
    )?;
    scoped_get(ctx, bucket, true)
}

fn nonexistent_bucket(ctx: &Ctx<'_>) -> Step {
    scoped_get(ctx, &ctx.probe_bucket(), false)
}

fn no_credentials(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.main_bucket()?;
    let request = S3Request::new("GET", bucket, Some(&ctx.key("anonymous-probe")));
    send(ctx, RowId::S3("AccessDenied"), &request, bucket, false)
}

fn no_binding(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.main_bucket()?;
    let request = S3Request::new("GET", bucket, Some(&ctx.key("anonymous-probe")));
    send(ctx, RowId::Anonymous("no_binding"), &request, bucket, true)
}

fn operation_not_allowed(ctx: &Ctx<'_>) -> Step {
    let anon = need(
        ctx.fixtures.buckets.anonymous_readable.as_ref(),
        "buckets.anonymous_readable",
    )?;
    let key = ctx.key("anonymous-put");
    let request = S3Request::new("PUT", &anon.name, Some(&key)).body("anonymous write");
    let result = send(
        ctx,
        RowId::Anonymous("operation_not_allowed"),
        &request,
        &anon.name,
        true,
    );
    ctx.cleanup(&anon.name, &key);
    result
}

fn subresource_not_allowed(ctx: &Ctx<'_>) -> Step {
    let anon = need(
        ctx.fixtures.buckets.anonymous_readable.as_ref(),
        "buckets.anonymous_readable",
    )?;
    let request = S3Request::new("GET", &anon.name, Some(&anon.key)).query("acl=");
    send(
        ctx,
        RowId::Anonymous("operation_not_allowed"),
        &request,
        &anon.name,
        true,
    )
}

fn response_override_not_allowed(ctx: &Ctx<'_>) -> Step {
    let anon = need(
        ctx.fixtures.buckets.anonymous_readable.as_ref(),
        "buckets.anonymous_readable",
    )?;
    let request = S3Request::new("GET", &anon.name, Some(&anon.key))
        .query("response-content-type=text%2Fhtml");
    send(
        ctx,
        RowId::Anonymous("operation_not_allowed"),
        &request,
        &anon.name,
        true,
    )
}

fn disabled_globally(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx
        .fixtures
        .buckets
        .main
        .clone()
        .unwrap_or_else(|| ctx.probe_bucket());
    let request = S3Request::new("GET", &bucket, Some(&ctx.key("anonymous-probe")));
    send(
        ctx,
        RowId::Anonymous("disabled_globally"),
        &request,
        &bucket,
        true,
    )
}
