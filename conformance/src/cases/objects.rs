//! Object and bucket errors that come from the backend: missing key,
//! bucket and upload; conditional requests (304, 412); unsatisfiable ranges.
//! Objects the suite writes live under `conformance-<run id>/` in
//! `buckets.main` and are deleted afterwards.

use super::{Case, Ctx, Outcome, Step};
use crate::request::S3Request;
use crate::table::RowId;

const MAIN: &[&str] = &["credentials.full", "buckets.main"];

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "objects.no_such_key",
        row: RowId::S3("NoSuchKey"),
        needs: MAIN,
        about: "signed GET of a key never written",
        run: no_such_key,
    },
    Case {
        name: "objects.no_such_bucket",
        row: RowId::S3("NoSuchBucket"),
        needs: &["credentials.full", "buckets.nonexistent"],
        about: "signed GET in a bucket the deployment does not have",
        run: no_such_bucket,
    },
    Case {
        name: "objects.no_such_upload",
        row: RowId::S3("NoSuchUpload"),
        needs: MAIN,
        about: "signed ListParts (`GET /main/key?uploadId=...`) for an unknown upload id",
        run: no_such_upload,
    },
    Case {
        name: "objects.not_modified",
        row: RowId::S3("NotModified"),
        needs: MAIN,
        about: "PUT an object, then GET it with If-None-Match: its ETag",
        run: not_modified,
    },
    Case {
        name: "objects.precondition_failed",
        row: RowId::S3("PreconditionFailed"),
        needs: MAIN,
        about: "PUT an object, then GET it with If-Match: another ETag",
        run: precondition_failed,
    },
    Case {
        name: "objects.invalid_range",
        row: RowId::S3("InvalidRange"),
        needs: MAIN,
        about: "PUT a 5-byte object, then GET it with Range: bytes=100-200",
        run: invalid_range,
    },
];

/// Judges a signed GET of `key` in the main bucket with `headers`.
fn get(ctx: &Ctx<'_>, row: RowId, key: &str, query: &str, headers: &[(&str, &str)]) -> Step {
    let bucket = ctx.main_bucket()?;
    let mut request = S3Request::new("GET", bucket, Some(key)).query(query);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = ctx.signed(
        request,
        ctx.full()?,
        std::time::SystemTime::now(),
        &crate::request::Payload::Body,
    )?;
    let response = ctx.send(&request)?;
    ctx.judge(row, &response, &request, Some(bucket))
}

/// Writes a small object, runs `check` with its ETag, and deletes it.
fn with_object(ctx: &Ctx<'_>, name: &str, check: impl FnOnce(&str, &str) -> Step) -> Step {
    let bucket = ctx.main_bucket()?;
    let key = ctx.key(name);
    let put = ctx.put_object(bucket, &key, b"hello")?;
    let result = match put.header("etag") {
        Some(etag) => check(&key, etag),
        None => Err(Outcome::fail(
            "-",
            "setup: the PUT answer has no ETag header",
        )),
    };
    ctx.cleanup(bucket, &key);
    result
}

fn no_such_key(ctx: &Ctx<'_>) -> Step {
    get(
        ctx,
        RowId::S3("NoSuchKey"),
        &ctx.key("never-written"),
        "",
        &[],
    )
}

fn no_such_bucket(ctx: &Ctx<'_>) -> Step {
    let bucket = super::need(
        ctx.fixtures.buckets.nonexistent.as_deref(),
        "buckets.nonexistent",
    )?;
    let request = S3Request::new("GET", bucket, Some(&ctx.key("x")));
    let response = ctx.send_signed(request.clone(), ctx.full()?)?;
    ctx.judge(RowId::S3("NoSuchBucket"), &response, &request, Some(bucket))
}

fn no_such_upload(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key("multipart");
    get(
        ctx,
        RowId::S3("NoSuchUpload"),
        &key,
        "uploadId=conformance-no-such-upload",
        &[],
    )
}

fn not_modified(ctx: &Ctx<'_>) -> Step {
    with_object(ctx, "conditional-304", |key, etag| {
        get(
            ctx,
            RowId::S3("NotModified"),
            key,
            "",
            &[("If-None-Match", etag)],
        )
    })
}

fn precondition_failed(ctx: &Ctx<'_>) -> Step {
    with_object(ctx, "conditional-412", |key, _| {
        let other = "\"00000000000000000000000000000000\"";
        get(
            ctx,
            RowId::S3("PreconditionFailed"),
            key,
            "",
            &[("If-Match", other)],
        )
    })
}

fn invalid_range(ctx: &Ctx<'_>) -> Step {
    with_object(ctx, "range", |key, _| {
        get(
            ctx,
            RowId::S3("InvalidRange"),
            key,
            "",
            &[("Range", "bytes=100-200")],
        )
    })
}
