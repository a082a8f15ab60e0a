//! STS errors from `AssumeRoleWithWebIdentity` (an unsigned form POST to
//! `sts.path`), judged in the `<ErrorResponse>` shape, and S3 requests
//! signed with an expired STS session (ExpiredToken).

use std::time::SystemTime;

use super::{Case, Ctx, Outcome, Step, need};
use crate::check::{counted, judge_sts};
use crate::http::Response;
use crate::request::{Payload, S3Request, encode_query};
use crate::table::RowId;

const TOKEN: &str = "sts.token_file|sts.token_command";
/// A JWT-shaped token no issuer signed.
const GARBAGE_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjb25mb3JtYW5jZSJ9.bm90LWEtc2lnbmF0dXJl";

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "sts.error_shape",
        row: RowId::Wire("sts_shape"),
        needs: &["sts"],
        about: "AssumeRoleWithWebIdentity with no parameters: any 4xx in the ErrorResponse shape",
        run: error_shape,
    },
    Case {
        name: "sts.unknown_role",
        row: RowId::Sts("AccessDenied"),
        needs: &["sts", TOKEN],
        about: "AssumeRoleWithWebIdentity with a valid token for a role that is not configured: the answer of a refused role",
        run: unknown_role,
    },
    Case {
        name: "sts.garbage_token",
        row: RowId::Sts("InvalidIdentityToken"),
        needs: &["sts.role_arn"],
        about: "AssumeRoleWithWebIdentity with a JWT-shaped token nobody signed",
        run: garbage_token,
    },
    Case {
        name: "sts.missing_token",
        row: RowId::Sts("InvalidParameterValue"),
        needs: &["sts.role_arn"],
        about: "AssumeRoleWithWebIdentity without WebIdentityToken",
        run: missing_token,
    },
    Case {
        name: "sts.duration_too_short",
        row: RowId::Sts("InvalidParameterValue"),
        needs: &["sts.role_arn", TOKEN],
        about: "AssumeRoleWithWebIdentity with a valid token and DurationSeconds=1",
        run: duration_too_short,
    },
    Case {
        name: "sts.access_denied",
        row: RowId::Sts("AccessDenied"),
        needs: &["sts.access_denied_role_arn", TOKEN],
        about: "AssumeRoleWithWebIdentity for a role the token may not assume",
        run: access_denied,
    },
    Case {
        name: "sts.internal_error",
        row: RowId::Sts("InternalError"),
        needs: &["sts"],
        about: "AssumeRoleWithWebIdentity for a role whose exchange fails inside the gateway (needs sts.internal_error_role_arn)",
        run: internal_error,
    },
    Case {
        name: "sts.expired_session",
        row: RowId::S3("ExpiredToken"),
        needs: &["sts.expired_session"],
        about: "GET signed with the credentials of an expired STS session",
        run: expired_session,
    },
];

/// POSTs the AssumeRoleWithWebIdentity form with `params`.
fn assume_role(ctx: &Ctx<'_>, params: &[(&str, &str)]) -> Result<Response, Outcome> {
    let sts = need(ctx.fixtures.sts.as_ref(), "sts")?;
    let mut form = String::from("Action=AssumeRoleWithWebIdentity&Version=2011-06-15");
    for (name, value) in params {
        form.push_str(&format!("&{name}={}", encode_query(value)));
    }
    let request = S3Request::raw_path("POST", &sts.path())
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(form);
    ctx.send(&request)
}

fn role<'a>(ctx: &Ctx<'a>) -> Result<&'a str, Outcome> {
    let sts = need(ctx.fixtures.sts.as_ref(), "sts")?;
    need(sts.role_arn.as_deref(), "sts.role_arn")
}

/// The configured token, or `None` when the fixtures give no way to get one.
fn token(ctx: &Ctx<'_>) -> Result<Option<String>, Outcome> {
    let sts = need(ctx.fixtures.sts.as_ref(), "sts")?;
    sts.token()
        .map_err(|e| Outcome::fail("-", format!("harness: {e}")))
}

fn error_shape(ctx: &Ctx<'_>) -> Step {
    let response = assume_role(ctx, &[])?;
    let mut problems = Vec::new();
    if !(400..500).contains(&response.status) {
        problems.push(format!("status {}, expected a 4xx", response.status));
    }
    match crate::errxml::parse(&response.body) {
        Err(e) => problems.push(format!("the error body is not xml: {e}")),
        Ok(doc) => {
            if doc.root != "ErrorResponse" {
                problems.push(format!(
                    "root element `{}`, expected `ErrorResponse`",
                    doc.root
                ));
            }
            for field in ["Error/Type", "Error/Code", "Error/Message", "RequestId"] {
                if doc.get(field).is_none() {
                    problems.push(format!("no <{field}>"));
                }
            }
        }
    }
    let got = format!("{} {}", response.status, crate::check::code_of(&response));
    Ok(Outcome::judged(got, problems).expecting("4xx <ErrorResponse>"))
}

fn unknown_role(ctx: &Ctx<'_>) -> Step {
    let token = need(token(ctx)?, TOKEN)?;
    let role = "arn:aws:iam::000000000000:role/cedargate-conformance-no-such-role";
    let response = assume_role(
        ctx,
        &[
            ("RoleArn", role),
            ("RoleSessionName", "conformance"),
            ("WebIdentityToken", &token),
        ],
    )?;
    judge_sts(ctx, RowId::Sts("AccessDenied"), &response)
}

fn garbage_token(ctx: &Ctx<'_>) -> Step {
    let response = assume_role(
        ctx,
        &[
            ("RoleArn", role(ctx)?),
            ("RoleSessionName", "conformance"),
            ("WebIdentityToken", GARBAGE_TOKEN),
        ],
    )?;
    judge_sts(ctx, RowId::Sts("InvalidIdentityToken"), &response)
}

fn missing_token(ctx: &Ctx<'_>) -> Step {
    let response = assume_role(
        ctx,
        &[("RoleArn", role(ctx)?), ("RoleSessionName", "conformance")],
    )?;
    judge_sts(ctx, RowId::Sts("InvalidParameterValue"), &response)
}

fn duration_too_short(ctx: &Ctx<'_>) -> Step {
    let token = need(token(ctx)?, TOKEN)?;
    let response = assume_role(
        ctx,
        &[
            ("RoleArn", role(ctx)?),
            ("RoleSessionName", "conformance"),
            ("WebIdentityToken", &token),
            ("DurationSeconds", "1"),
        ],
    )?;
    judge_sts(ctx, RowId::Sts("InvalidParameterValue"), &response)
}

fn access_denied(ctx: &Ctx<'_>) -> Step {
    let sts = need(ctx.fixtures.sts.as_ref(), "sts")?;
    let role = need(
        sts.access_denied_role_arn.as_deref(),
        "sts.access_denied_role_arn",
    )?;
    let token = need(token(ctx)?, TOKEN)?;
    let response = assume_role(
        ctx,
        &[
            ("RoleArn", role),
            ("RoleSessionName", "conformance"),
            ("WebIdentityToken", &token),
        ],
    )?;
    judge_sts(ctx, RowId::Sts("AccessDenied"), &response)
}

fn internal_error(ctx: &Ctx<'_>) -> Step {
    let sts = need(ctx.fixtures.sts.as_ref(), "sts")?;
    let Some(role) = sts.internal_error_role_arn.as_deref() else {
        return Err(Outcome::skip(
            "no request provokes an STS InternalError on a healthy deployment: \
             set sts.internal_error_role_arn to a role whose exchange fails inside the gateway",
        ));
    };
    let token = token(ctx)?.unwrap_or_else(|| GARBAGE_TOKEN.to_owned());
    let response = assume_role(
        ctx,
        &[
            ("RoleArn", role),
            ("RoleSessionName", "conformance"),
            ("WebIdentityToken", &token),
        ],
    )?;
    judge_sts(ctx, RowId::Sts("InternalError"), &response)
}

fn expired_session(ctx: &Ctx<'_>) -> Step {
    let sts = need(ctx.fixtures.sts.as_ref(), "sts")?;
    let session = need(sts.expired_session.as_ref(), "sts.expired_session")?;
    let bucket = ctx
        .fixtures
        .buckets
        .main
        .clone()
        .unwrap_or_else(|| ctx.probe_bucket());
    let request = S3Request::new("GET", &bucket, Some(&ctx.key("sts-probe")));
    let request = ctx.signed(request, session, SystemTime::now(), &Payload::Body)?;
    counted(ctx, RowId::Auth("expired"), || {
        let response = ctx.send(&request)?;
        ctx.judge(
            RowId::S3("ExpiredToken"),
            &response,
            &request,
            Some(&bucket),
        )
    })
}
