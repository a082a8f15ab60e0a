//! Backend failures, provoked through buckets the deployment wires to a
//! broken backend: one that answers garbage, one that cannot be reached, one
//! that fails unrecoverably, one that lacks an operation. Every 5xx must
//! carry the generic message and reveal no upstream detail (checked by the
//! wire rules on each answer).

use super::{Case, Ctx, Outcome, Step, need};
use crate::request::S3Request;
use crate::table::RowId;

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "backend.garbage_response",
        row: RowId::S3("BadGateway"),
        needs: &["credentials.full", "buckets.garbage_backend"],
        about: "signed GET in a bucket whose backend answers garbage",
        run: garbage_response,
    },
    Case {
        name: "backend.unreachable",
        row: RowId::S3("ServiceUnavailable"),
        needs: &["credentials.full", "buckets.unreachable_backend"],
        about: "signed GET in a bucket whose backend cannot be reached",
        run: unreachable,
    },
    Case {
        name: "backend.internal_error",
        row: RowId::S3("InternalError"),
        needs: &["credentials.full", "buckets.internal_error"],
        about: "signed GET in a bucket whose backend fails unrecoverably",
        run: internal_error,
    },
    Case {
        name: "backend.not_implemented",
        row: RowId::S3("NotImplemented"),
        needs: &["credentials.full", "buckets.not_implemented"],
        about: "signed request for an operation the bucket's backend cannot perform (default CreateMultipartUpload)",
        run: not_implemented,
    },
];

fn signed_get(ctx: &Ctx<'_>, row: RowId, bucket: Option<&String>, fixture: &str) -> Step {
    let bucket = need(bucket, fixture)?;
    let request = S3Request::new("GET", bucket, Some(&ctx.key("backend-probe")));
    let response = ctx.send_signed(request.clone(), ctx.full()?)?;
    ctx.judge(row, &response, &request, Some(bucket))
}

fn garbage_response(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.fixtures.buckets.garbage_backend.as_ref();
    signed_get(
        ctx,
        RowId::S3("BadGateway"),
        bucket,
        "buckets.garbage_backend",
    )
}

fn unreachable(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.fixtures.buckets.unreachable_backend.as_ref();
    signed_get(
        ctx,
        RowId::S3("ServiceUnavailable"),
        bucket,
        "buckets.unreachable_backend",
    )
}

fn internal_error(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.fixtures.buckets.internal_error.as_ref();
    signed_get(
        ctx,
        RowId::S3("InternalError"),
        bucket,
        "buckets.internal_error",
    )
}

/// The request for `operation` on `bucket`/`key`.
pub(crate) fn operation_request(operation: &str, bucket: &str, key: &str) -> Option<S3Request> {
    let (method, key, query) = match operation {
        "CreateMultipartUpload" => ("POST", Some(key), "uploads="),
        "GetObjectAcl" => ("GET", Some(key), "acl="),
        "GetObjectTagging" => ("GET", Some(key), "tagging="),
        "GetBucketAcl" => ("GET", None, "acl="),
        "GetBucketVersioning" => ("GET", None, "versioning="),
        "ListObjectVersions" => ("GET", None, "versions="),
        "GetBucketLifecycleConfiguration" => ("GET", None, "lifecycle="),
        "GetBucketPolicy" => ("GET", None, "policy="),
        _ => return None,
    };
    Some(S3Request::new(method, bucket, key).query(query))
}

fn not_implemented(ctx: &Ctx<'_>) -> Step {
    let fixture = need(
        ctx.fixtures.buckets.not_implemented.as_ref(),
        "buckets.not_implemented",
    )?;
    let operation = fixture
        .operation
        .as_deref()
        .unwrap_or("CreateMultipartUpload");
    let request = operation_request(operation, &fixture.name, &ctx.key("not-implemented"))
        .ok_or_else(|| {
            Outcome::fail(
                "-",
                format!("harness: unknown operation `{operation}` in buckets.not_implemented"),
            )
        })?;
    let response = ctx.send_signed(request.clone(), ctx.full()?)?;
    ctx.judge(
        RowId::S3("NotImplemented"),
        &response,
        &request,
        Some(&fixture.name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_map_to_requests() {
        let r = operation_request("CreateMultipartUpload", "b", "k").unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/b/k", "uploads=")
        );
        let r = operation_request("ListObjectVersions", "b", "k").unwrap();
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/b", "versions="));
        assert!(operation_request("DeleteEverything", "b", "k").is_none());
    }
}
