//! Malformed and invalid requests, correctly signed with the `full`
//! credential on `buckets.main` unless the case says otherwise: an
//! unrecognised shape, broken XML, invalid arguments, body hashes and
//! digests that do not match, a streaming PUT without a decoded length, and
//! presigned URLs that are expired or valid for too long.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};

use super::{Case, Ctx, Step};
use crate::request::{Payload, S3Request, sha256_hex};
use crate::table::RowId;

const MAIN: &[&str] = &["credentials.full", "buckets.main"];

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "request.unrecognised_shape",
        row: RowId::S3("InvalidRequest"),
        needs: MAIN,
        about: "signed `PATCH /main/key`",
        run: unrecognised_shape,
    },
    Case {
        name: "request.delete_objects_malformed_xml",
        row: RowId::S3("MalformedXML"),
        needs: MAIN,
        about: "signed `POST /main?delete` with truncated XML and a correct Content-MD5",
        run: delete_objects_malformed_xml,
    },
    Case {
        name: "request.max_keys_negative",
        row: RowId::S3("InvalidArgument"),
        needs: MAIN,
        about: "signed `GET /main?list-type=2&max-keys=-1`",
        run: max_keys_negative,
    },
    Case {
        name: "request.presign_expires_too_long",
        row: RowId::S3("InvalidArgument"),
        needs: MAIN,
        about: "presigned GET with X-Amz-Expires=604801",
        run: presign_expires_too_long,
    },
    Case {
        name: "request.content_sha256_mismatch",
        row: RowId::S3("XAmzContentSHA256Mismatch"),
        needs: MAIN,
        about: "PUT whose signed x-amz-content-sha256 is the hash of other bytes",
        run: content_sha256_mismatch,
    },
    Case {
        name: "request.bad_content_md5",
        row: RowId::S3("BadDigest"),
        needs: MAIN,
        about: "PUT whose Content-MD5 is the digest of other bytes",
        run: bad_content_md5,
    },
    Case {
        name: "request.invalid_content_md5",
        row: RowId::S3("InvalidDigest"),
        needs: MAIN,
        about: "PUT whose Content-MD5 is not base64 of 16 bytes",
        run: invalid_content_md5,
    },
    Case {
        name: "request.streaming_without_length",
        row: RowId::S3("MissingContentLength"),
        needs: MAIN,
        about: "raw aws-chunked PUT (STREAMING-UNSIGNED-PAYLOAD-TRAILER, Transfer-Encoding: chunked) with no decoded length",
        run: streaming_without_length,
    },
    Case {
        name: "presign.expired",
        row: RowId::S3("AccessDenied"),
        needs: MAIN,
        about: "GET with a URL presigned two hours ago for 60 seconds",
        run: presign_expired,
    },
];

fn content_md5(bytes: &[u8]) -> String {
    STANDARD.encode(Md5::digest(bytes))
}

/// Signs and sends `request` on the main bucket, judges it, and removes
/// `cleanup_key` afterwards (the gateway may have stored it wrongly).
fn signed_case(
    ctx: &Ctx<'_>,
    row: RowId,
    request: S3Request,
    payload: &Payload,
    cleanup_key: Option<&str>,
) -> Step {
    let bucket = ctx.main_bucket()?;
    let request = ctx.signed(request, ctx.full()?, SystemTime::now(), payload)?;
    let response = ctx.send(&request);
    if let Some(key) = cleanup_key {
        ctx.cleanup(bucket, key);
    }
    ctx.judge(row, &response?, &request, Some(bucket))
}

fn unrecognised_shape(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key("patch");
    let request = S3Request::new("PATCH", ctx.main_bucket()?, Some(&key)).body("patch");
    signed_case(
        ctx,
        RowId::S3("InvalidRequest"),
        request,
        &Payload::Body,
        Some(&key),
    )
}

fn delete_objects_malformed_xml(ctx: &Ctx<'_>) -> Step {
    let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Object><Key>a</Key></Object><Object><Key>b</Ke";
    let request = S3Request::new("POST", ctx.main_bucket()?, None)
        .query("delete=")
        .header("Content-MD5", &content_md5(body))
        .header("Content-Type", "application/xml")
        .body(body.as_slice());
    signed_case(
        ctx,
        RowId::S3("MalformedXML"),
        request,
        &Payload::Body,
        None,
    )
}

fn max_keys_negative(ctx: &Ctx<'_>) -> Step {
    let request = S3Request::new("GET", ctx.main_bucket()?, None).query("list-type=2&max-keys=-1");
    signed_case(
        ctx,
        RowId::S3("InvalidArgument"),
        request,
        &Payload::Body,
        None,
    )
}

fn presign(
    ctx: &Ctx<'_>,
    time: SystemTime,
    expires_in: Duration,
) -> Result<S3Request, super::Outcome> {
    let mut request = S3Request::new("GET", ctx.main_bucket()?, Some(&ctx.key("presigned")));
    request
        .presign(
            ctx.endpoint,
            ctx.full()?,
            ctx.fixtures.region(),
            time,
            expires_in,
        )
        .map_err(|e| super::Outcome::fail("-", format!("harness: {e}")))?;
    Ok(request)
}

fn presign_expires_too_long(ctx: &Ctx<'_>) -> Step {
    let request = presign(ctx, SystemTime::now(), Duration::from_secs(604_801))?;
    let response = ctx.send(&request)?;
    ctx.judge(
        RowId::S3("InvalidArgument"),
        &response,
        &request,
        Some(ctx.main_bucket()?),
    )
}

fn presign_expired(ctx: &Ctx<'_>) -> Step {
    let signed_at = SystemTime::now()
        .checked_sub(Duration::from_secs(2 * 3600))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let request = presign(ctx, signed_at, Duration::from_secs(60))?;
    let response = ctx.send(&request)?;
    ctx.judge(
        RowId::S3("AccessDenied"),
        &response,
        &request,
        Some(ctx.main_bucket()?),
    )
}

fn content_sha256_mismatch(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key("sha-mismatch");
    let request =
        S3Request::new("PUT", ctx.main_bucket()?, Some(&key)).body("the bytes actually sent");
    let declared = Payload::Declared(sha256_hex(b"other bytes entirely"));
    signed_case(
        ctx,
        RowId::S3("XAmzContentSHA256Mismatch"),
        request,
        &declared,
        Some(&key),
    )
}

fn bad_content_md5(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key("bad-md5");
    let request = S3Request::new("PUT", ctx.main_bucket()?, Some(&key))
        .header("Content-MD5", &content_md5(b"other bytes entirely"))
        .body("the bytes actually sent");
    signed_case(
        ctx,
        RowId::S3("BadDigest"),
        request,
        &Payload::Body,
        Some(&key),
    )
}

fn invalid_content_md5(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key("invalid-md5");
    let request = S3Request::new("PUT", ctx.main_bucket()?, Some(&key))
        .header("Content-MD5", "not*base64!")
        .body("the bytes actually sent");
    signed_case(
        ctx,
        RowId::S3("InvalidDigest"),
        request,
        &Payload::Body,
        Some(&key),
    )
}

fn streaming_without_length(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key("streaming");
    let aws_chunked = b"5\r\nhello\r\n0\r\n\r\n";
    let mut http_chunked = format!("{:x}\r\n", aws_chunked.len()).into_bytes();
    http_chunked.extend_from_slice(aws_chunked);
    http_chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let mut request = S3Request::new("PUT", ctx.main_bucket()?, Some(&key))
        .header("Content-Encoding", "aws-chunked")
        .header("Transfer-Encoding", "chunked")
        .body(http_chunked);
    request.content_length = false;
    let marker = Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER".into());
    signed_case(
        ctx,
        RowId::S3("MissingContentLength"),
        request,
        &marker,
        Some(&key),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_md5_is_base64_of_the_digest() {
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }
}
