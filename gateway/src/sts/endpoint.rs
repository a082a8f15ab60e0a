//! The STS endpoint on the S3 listener: recognises STS requests before
//! S3 classification, reads their capped form body, and answers
//! `AssumeRoleWithWebIdentity` and `GetCallerIdentity` (see the module
//! docs of [`crate::sts`]).

use std::time::SystemTime;

use cedargate_backends::BodySource;
use http::{HeaderMap, Method};
use pingora::proxy::Session;

use super::{StsError, StsParams, xml};
use crate::auth::{
    self, AuthFailure, AuthFailureReason, AuthOutcome, RegionRule, ServiceRules, SignedRequest,
    VerifierConfig, sha256_hex,
};
use crate::body::RequestBody;
use crate::outcome::{RequestAuthMode, RequestResult};
use crate::pipeline::{Gateway, RequestCtx};
use crate::response::S3Response;

const FORM: &str = "application/x-www-form-urlencoded";

/// Whether a request with no bucket is addressed to STS: a form POST to
/// `/`, or an `Action` in the query of `/`.
pub fn is_sts_request(method: &Method, path: &str, query: &str, headers: &HeaderMap) -> bool {
    if path != "/" {
        return false;
    }
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with(FORM));
    let action = form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "Action");
    (*method == Method::POST && (form || action)) || (*method == Method::GET && action)
}

/// Whether a request carries no signature: no `Authorization` header and
/// no `X-Amz-Algorithm` in its query.
fn is_unsigned(headers: &HeaderMap, query: &str) -> bool {
    !headers.contains_key(http::header::AUTHORIZATION)
        && !form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "X-Amz-Algorithm")
}

/// Answers one STS request; errors are `<ErrorResponse>` documents.
pub async fn serve(gateway: &Gateway, session: &mut Session, ctx: &mut RequestCtx) -> S3Response {
    let (status, document) = match answer(gateway, session, ctx).await {
        Ok(document) => (200, document),
        Err(error) => {
            if error.status >= 500 {
                tracing::error!(request_id = %ctx.request_id, code = error.code, "sts request failed");
            }
            if ctx.result == RequestResult::Ok {
                ctx.result = RequestResult::StsError(error.code);
            }
            (error.status, error.to_xml(&ctx.request_id))
        }
    };
    let mut response = S3Response::xml(document);
    response.status = status;
    // STS answers `text/xml`, once.
    response
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    response.header("content-type", "text/xml")
}

async fn answer(
    gateway: &Gateway,
    session: &mut Session,
    ctx: &mut RequestCtx,
) -> Result<String, StsError> {
    let head = session.req_header().clone();
    let source_ip = gateway.source_ip(session, &head.headers);
    // A request that carries no signature takes from the anonymous
    // per-address limit, as unsigned S3 requests do; so does every
    // AssumeRoleWithWebIdentity, whatever it carries, once its action is
    // known (below).
    let unsigned = is_unsigned(&head.headers, head.uri.query().unwrap_or_default());
    gateway
        .limits
        .check_source(source_ip, unsigned, None, &gateway.metrics)
        .await
        .map_err(|limited| throttled(gateway, ctx, limited, unsigned))?;
    let form = read_form(session, &head.headers, gateway.sts.max_form_bytes()).await?;
    let query = head.uri.query().unwrap_or_default();
    let params = StsParams::parse(query, &form)?;
    let action = params.action()?;
    match action {
        "AssumeRoleWithWebIdentity" => {
            ctx.sts_action = Some("AssumeRoleWithWebIdentity");
            ctx.auth_mode = RequestAuthMode::Anonymous;
            // An unsigned action in AWS: an `Authorization` header (or a
            // presigned query) on it is never looked at, so it never
            // spares the request the anonymous limit.
            if !unsigned {
                gateway
                    .limits
                    .check_anonymous_source(source_ip, &gateway.metrics)
                    .await
                    .map_err(|limited| throttled(gateway, ctx, limited, true))?;
            }
            gateway
                .sts
                .assume_role_with_web_identity(&params, &ctx.request_id, SystemTime::now())
                .await
        }
        "GetCallerIdentity" => {
            ctx.sts_action = Some("GetCallerIdentity");
            let signed = SignedRequest {
                method: head.method.as_str(),
                raw_path: head.uri.path(),
                raw_query: query,
                headers: &head.headers,
                body_sha256: Some(&sha256_hex(&form)),
            };
            caller_identity(gateway, &signed, ctx)
        }
        other => Err(StsError::parameter(format!(
            "unknown STS Action `{other}`; this endpoint serves AssumeRoleWithWebIdentity and GetCallerIdentity"
        ))),
    }
}

/// The `Throttling` answer of a request a rate limit refused; `anonymous`
/// when it was refused as an unsigned one.
fn throttled(
    gateway: &Gateway,
    ctx: &mut RequestCtx,
    limited: crate::limits::Limited,
    anonymous: bool,
) -> StsError {
    ctx.result = RequestResult::RateLimited;
    if anonymous {
        ctx.auth_mode = RequestAuthMode::Anonymous;
        gateway.metrics.record_anonymous_reject("rate_limited");
    }
    let seconds = limited.retry_after.as_secs().max(1);
    StsError::new(
        429,
        "Throttling",
        format!("rate exceeded; retry after {seconds} s"),
    )
}

/// Reads the form body, refusing one longer than `max` before reading it.
async fn read_form(
    session: &mut Session,
    headers: &HeaderMap,
    max: usize,
) -> Result<Vec<u8>, StsError> {
    let too_long = || StsError::parameter(format!("the request body exceeds {max} bytes"));
    let declared = match headers.get(http::header::CONTENT_LENGTH) {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| StsError::parameter("Content-Length is not a number"))?,
        ),
        None => None,
    };
    if declared.is_some_and(|length| length > max as u64) {
        session.set_keepalive(None);
        return Err(too_long());
    }
    let mut body = RequestBody::new(session, declared, None);
    let mut form = Vec::new();
    loop {
        match body.next_chunk().await {
            Ok(Some(chunk)) => {
                if form.len() + chunk.len() > max {
                    return Err(too_long());
                }
                form.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(form),
            Err(_) => return Err(StsError::parameter("the request body could not be read")),
        }
    }
}

fn caller_identity(
    gateway: &Gateway,
    signed: &SignedRequest<'_>,
    ctx: &mut RequestCtx,
) -> Result<String, StsError> {
    let verifier = VerifierConfig {
        region: match gateway.config.s3.region.as_str() {
            "*" => RegionRule::Any,
            region => RegionRule::Exact(region.to_owned()),
        },
        service: "sts".to_owned(),
        max_skew: gateway.verifier.max_skew,
        rules: ServiceRules::Generic {
            normalize_path: false,
        },
    };
    let store = gateway.credentials.load();
    let sealer = Some(gateway.sts.sealer());
    let outcome =
        auth::authenticate_with_sessions(signed, &store, sealer, &verifier, SystemTime::now())
            .map_err(|failure| {
                gateway.metrics.record_auth_failure(failure.reason.as_str());
                ctx.result = RequestResult::AuthFailure(failure.reason);
                sts_auth_error(&failure)
            })?;
    let AuthOutcome::Authenticated(authenticated) = outcome else {
        return Err(StsError::new(
            403,
            "MissingAuthenticationToken",
            "GetCallerIdentity must be signed",
        ));
    };
    ctx.principal = Some(authenticated.credential.principal.clone());
    let (arn, user_id, account) = match &authenticated.session {
        Some(session) => {
            ctx.auth_mode = RequestAuthMode::Sts;
            let account = session
                .account()
                .unwrap_or(gateway.sts.account_id())
                .to_owned();
            let arn = format!(
                "arn:aws:sts::{account}:assumed-role/{}/{}",
                session.role_name(),
                session.session_name
            );
            let user_id = format!(
                "{}:{}",
                super::role_id(&session.role_arn),
                session.session_name
            );
            (arn, user_id, account)
        }
        None => {
            ctx.auth_mode = authenticated.method.into();
            let account = gateway.sts.account_id().to_owned();
            let credential = &authenticated.credential;
            let arn = format!("arn:aws:iam::{account}:user/{}", credential.principal);
            (arn, credential.access_key.clone(), account)
        }
    };
    Ok(xml::caller_identity(
        &arn,
        &user_id,
        &account,
        &ctx.request_id,
    ))
}

/// The STS error AWS answers for an authentication failure.
fn sts_auth_error(failure: &AuthFailure) -> StsError {
    use AuthFailureReason as R;
    let (status, code) = match failure.reason {
        R::UnknownAccessKey | R::Disabled | R::BadCredentialField | R::InvalidSessionToken => {
            (403, "InvalidClientTokenId")
        }
        R::SessionExpired => (400, "ExpiredToken"),
        R::Expired | R::UnsignedHeader => (403, "AccessDenied"),
        R::TimeSkew => (403, "RequestExpired"),
        R::BadSignature | R::BadAuthorizationFormat | R::BadDate | R::InvalidExpires => {
            (403, "SignatureDoesNotMatch")
        }
    };
    StsError::new(status, code, failure.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_requests_are_recognised() {
        let mut form = HeaderMap::new();
        form.insert(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .expect("value"),
        );
        let plain = HeaderMap::new();
        assert!(is_sts_request(&Method::POST, "/", "", &form));
        assert!(is_sts_request(
            &Method::POST,
            "/",
            "Action=GetCallerIdentity",
            &plain
        ));
        assert!(is_sts_request(
            &Method::GET,
            "/",
            "Action=GetCallerIdentity&Version=2011-06-15",
            &plain
        ));
        // S3 requests stay S3: ListBuckets, bucket POSTs, other paths.
        assert!(!is_sts_request(&Method::GET, "/", "", &plain));
        assert!(!is_sts_request(&Method::POST, "/bucket", "delete", &form));
        assert!(!is_sts_request(&Method::GET, "/", "list-type=2", &plain));
        assert!(!is_sts_request(&Method::PUT, "/", "Action=X", &plain));
    }
}
