//! Auth-failure reasons: one case per `[[auth_failure]]` row. Each sends a
//! GET for an object in `buckets.main` (or a probe bucket) whose signature
//! fails in one specific way, and, with a metrics URL, requires
//! `*_s3_auth_failure_total{reason}` to rise.

use std::time::{Duration, SystemTime};

use super::{Case, Ctx, Step};
use crate::check::counted;
use crate::fixtures::Credential;
use crate::request::{Payload, S3Request};
use crate::table::RowId;

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "auth.unknown_access_key",
        row: RowId::Auth("unknown_access_key"),
        needs: &[],
        about: "GET signed with an access key the deployment does not know",
        run: unknown_access_key,
    },
    Case {
        name: "auth.bad_signature",
        row: RowId::Auth("bad_signature"),
        needs: &["credentials.full"],
        about: "GET signed with the full access key and a wrong secret",
        run: bad_signature,
    },
    Case {
        name: "auth.disabled",
        row: RowId::Auth("disabled"),
        needs: &["credentials.disabled"],
        about: "GET signed with a disabled credential",
        run: disabled,
    },
    Case {
        name: "auth.expired",
        row: RowId::Auth("expired"),
        needs: &["credentials.expired"],
        about: "GET signed with a static credential past its expires_at",
        run: expired,
    },
    Case {
        name: "auth.bad_authorization_format.not_sigv4",
        row: RowId::Auth("bad_authorization_format"),
        needs: &[],
        about: "GET with `Authorization: Basic ...`",
        run: not_sigv4,
    },
    Case {
        name: "auth.bad_authorization_format.no_signature",
        row: RowId::Auth("bad_authorization_format"),
        needs: &["credentials.full"],
        about: "GET whose SigV4 Authorization header lacks Signature=",
        run: no_signature,
    },
    Case {
        name: "auth.bad_credential_field",
        row: RowId::Auth("bad_credential_field"),
        needs: &[],
        about: "GET whose Credential= field has no /date/region/service/aws4_request",
        run: bad_credential_field,
    },
    Case {
        name: "auth.bad_date",
        row: RowId::Auth("bad_date"),
        needs: &["credentials.full"],
        about: "GET signed with the full credential, then X-Amz-Date replaced by `not-a-date`",
        run: bad_date,
    },
    Case {
        name: "auth.time_skew",
        row: RowId::Auth("time_skew"),
        needs: &["credentials.full"],
        about: "GET signed with the full credential one hour beyond the skew tolerance",
        run: time_skew,
    },
    Case {
        name: "auth.unsigned_header",
        row: RowId::Auth("unsigned_header"),
        needs: &["credentials.full"],
        about: "GET signed with the full credential, then given an unsigned `x-amz-expected-bucket-owner`",
        run: unsigned_header,
    },
];

/// A GET for an object in the main (or probe) bucket, and that bucket.
fn probe(ctx: &Ctx<'_>) -> (String, S3Request) {
    let bucket = ctx
        .fixtures
        .buckets
        .main
        .clone()
        .unwrap_or_else(|| ctx.probe_bucket());
    let request = S3Request::new("GET", &bucket, Some(&ctx.key("auth-probe")));
    (bucket, request)
}

/// Sends `request` and judges it against `row`, counting the metric.
fn send_and_judge(ctx: &Ctx<'_>, row: RowId, request: &S3Request, bucket: &str) -> Step {
    counted(ctx, row, || {
        let response = ctx.send(request)?;
        ctx.judge(row, &response, request, Some(bucket))
    })
}

fn signed_probe(
    ctx: &Ctx<'_>,
    credential: &Credential,
    time: SystemTime,
) -> Result<(String, S3Request), super::Outcome> {
    let (bucket, request) = probe(ctx);
    let request = ctx.signed(request, credential, time, &Payload::Body)?;
    Ok((bucket, request))
}

fn unknown_access_key(ctx: &Ctx<'_>) -> Step {
    let credential = Credential {
        access_key: format!("AKIACONFORMANCE{}", ctx.run_id.to_uppercase()),
        secret_key: "conformance-secret-that-matches-nothing".into(),
        session_token: None,
    };
    let (bucket, request) = signed_probe(ctx, &credential, SystemTime::now())?;
    send_and_judge(ctx, RowId::Auth("unknown_access_key"), &request, &bucket)
}

fn bad_signature(ctx: &Ctx<'_>) -> Step {
    let mut credential = ctx.full()?.clone();
    credential.secret_key.push_str("-wrong");
    let (bucket, request) = signed_probe(ctx, &credential, SystemTime::now())?;
    send_and_judge(ctx, RowId::Auth("bad_signature"), &request, &bucket)
}

fn disabled(ctx: &Ctx<'_>) -> Step {
    let credential = super::need(
        ctx.fixtures.credentials.disabled.as_ref(),
        "credentials.disabled",
    )?;
    let (bucket, request) = signed_probe(ctx, credential, SystemTime::now())?;
    send_and_judge(ctx, RowId::Auth("disabled"), &request, &bucket)
}

fn expired(ctx: &Ctx<'_>) -> Step {
    let credential = super::need(
        ctx.fixtures.credentials.expired.as_ref(),
        "credentials.expired",
    )?;
    let (bucket, request) = signed_probe(ctx, credential, SystemTime::now())?;
    send_and_judge(ctx, RowId::Auth("expired"), &request, &bucket)
}

fn not_sigv4(ctx: &Ctx<'_>) -> Step {
    let (bucket, request) = probe(ctx);
    let request = request
        .header("Authorization", "Basic Y29uZm9ybWFuY2U6bm90LXNpZ3Y0")
        .header("x-amz-date", &amz_date(SystemTime::now()))
        .header("x-amz-content-sha256", &crate::request::sha256_hex(b""));
    send_and_judge(
        ctx,
        RowId::Auth("bad_authorization_format"),
        &request,
        &bucket,
    )
}

fn no_signature(ctx: &Ctx<'_>) -> Step {
    let (bucket, mut request) = signed_probe(ctx, ctx.full()?, SystemTime::now())?;
    let auth = header(&request, "authorization");
    let stripped = match auth.find(", Signature=") {
        Some(i) => auth[..i].to_owned(),
        None => auth,
    };
    request.set_header("authorization", &stripped);
    send_and_judge(
        ctx,
        RowId::Auth("bad_authorization_format"),
        &request,
        &bucket,
    )
}

fn bad_credential_field(ctx: &Ctx<'_>) -> Step {
    let credential = ctx
        .fixtures
        .credentials
        .full
        .clone()
        .unwrap_or_else(|| Credential {
            access_key: "AKIACONFORMANCEPROBE".into(),
            secret_key: "conformance".into(),
            session_token: None,
        });
    let (bucket, mut request) = signed_probe(ctx, &credential, SystemTime::now())?;
    let auth = header(&request, "authorization");
    let broken = match (auth.find("Credential="), auth.find(", SignedHeaders=")) {
        (Some(start), Some(end)) => format!(
            "{}Credential={}{}",
            &auth[..start],
            credential.access_key,
            &auth[end..]
        ),
        _ => auth,
    };
    request.set_header("authorization", &broken);
    send_and_judge(ctx, RowId::Auth("bad_credential_field"), &request, &bucket)
}

fn bad_date(ctx: &Ctx<'_>) -> Step {
    let (bucket, mut request) = signed_probe(ctx, ctx.full()?, SystemTime::now())?;
    request.set_header("x-amz-date", "not-a-date");
    send_and_judge(ctx, RowId::Auth("bad_date"), &request, &bucket)
}

fn time_skew(ctx: &Ctx<'_>) -> Step {
    let skew = ctx.fixtures.max_clock_skew() + Duration::from_secs(3600);
    let time = SystemTime::now()
        .checked_sub(skew)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let (bucket, request) = signed_probe(ctx, ctx.full()?, time)?;
    send_and_judge(ctx, RowId::Auth("time_skew"), &request, &bucket)
}

fn unsigned_header(ctx: &Ctx<'_>) -> Step {
    let (bucket, mut request) = signed_probe(ctx, ctx.full()?, SystemTime::now())?;
    request.set_header("x-amz-expected-bucket-owner", "111122223333");
    send_and_judge(ctx, RowId::Auth("unsigned_header"), &request, &bucket)
}

fn header(request: &S3Request, name: &str) -> String {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// `YYYYMMDDTHHMMSSZ` for `time`.
pub(crate) fn amz_date(time: SystemTime) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::OffsetDateTime::from(time)
        .format(format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(SystemTime::UNIX_EPOCH), "19700101T000000Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(t), "20150830T123600Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(amz_date(leap), "20000229T000000Z");
    }
}
