//! The STS endpoint on the S3 listener: recognises STS requests before
//! S3 classification, reads their capped form body, and answers
//! `AssumeRoleWithWebIdentity` and `GetCallerIdentity` (see the module
//! docs of [`crate::sts`]).
//!
//! The pipeline lends it what it consults ([`StsEnv`]) and the client's
//! body; it tells back what it learned of the request ([`StsRecord`]).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use cedargate_backends::BodySource;
use http::{HeaderMap, Method};

use crate::auth::{self, AuthOutcome, CredentialStore};
use crate::body::{ClientBody, RequestBody, expects_continue};
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::outcome::{RequestAuthMode, RequestResult};
use crate::response::S3Response;
use crate::sts::{StsError, StsParams, StsService, xml};
use cedargate_s3::sigv4::{
    AuthFailure, AuthFailureReason, RegionRule, ServiceRules, SignedRequest, VerifierConfig,
    sha256_hex,
};

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

/// What the STS endpoint consults.
#[derive(Debug, Clone, Copy)]
pub struct StsEnv<'a> {
    /// Web identity exchange and session tokens.
    pub sts: &'a StsService,
    /// Rate limits.
    pub limits: &'a RateLimiter,
    /// Instruments.
    pub metrics: &'a Metrics,
    /// The current static credentials.
    pub credentials: &'a ArcSwap<CredentialStore>,
    /// The configured region (`*`: any).
    pub region: &'a str,
    /// Largest clock skew a signature may have.
    pub max_skew: Duration,
}

/// One STS request as the endpoint sees it; its Debug names the method
/// and path only (the head carries tokens and signatures).
pub struct StsRequest<'a> {
    /// The request head.
    pub head: &'a http::request::Parts,
    /// The client address, through trusted proxies.
    pub source_ip: IpAddr,
    /// The request id, for answers and logs.
    pub request_id: &'a str,
}

impl std::fmt::Debug for StsRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsRequest")
            .field("method", &self.head.method)
            .field("path", &self.head.uri.path())
            .field("source_ip", &self.source_ip)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// What the endpoint learned of a request, for the access log and metrics:
/// each field is `None` while unknown.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StsRecord {
    /// The STS action.
    pub action: Option<&'static str>,
    /// How the request authenticated.
    pub auth_mode: Option<RequestAuthMode>,
    /// The authenticated principal's name.
    pub principal: Option<String>,
    /// Why the request was refused or failed.
    pub result: Option<RequestResult>,
}

/// Answers one STS request, its body read from `client`; errors are
/// `<ErrorResponse>` documents.
pub async fn serve(
    env: &StsEnv<'_>,
    request: &StsRequest<'_>,
    client: &mut dyn ClientBody,
    record: &mut StsRecord,
) -> S3Response {
    let (status, document) = match answer(env, request, client, record).await {
        Ok(document) => (200, document),
        Err(error) => {
            if error.status >= 500 {
                tracing::error!(request_id = %request.request_id, code = error.code, "sts request failed");
            }
            if record.result.is_none() {
                record.result = Some(RequestResult::StsError(error.code));
            }
            (error.status, error.to_xml(request.request_id))
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
    env: &StsEnv<'_>,
    request: &StsRequest<'_>,
    client: &mut dyn ClientBody,
    record: &mut StsRecord,
) -> Result<String, StsError> {
    let head = request.head;
    let source_ip = request.source_ip;
    // A request that carries no signature takes from the anonymous
    // per-address limit, as unsigned S3 requests do; so does every
    // AssumeRoleWithWebIdentity, whatever it carries, once its action is
    // known (below).
    let unsigned = is_unsigned(&head.headers, head.uri.query().unwrap_or_default());
    env.limits
        .check_source(source_ip, unsigned, None, env.metrics)
        .await
        .map_err(|limited| throttled(env, record, limited, unsigned))?;
    let form = read_form(client, &head.headers, env.sts.max_form_bytes()).await?;
    let query = head.uri.query().unwrap_or_default();
    let params = StsParams::parse(query, &form)?;
    let action = params.action()?;
    match action {
        "AssumeRoleWithWebIdentity" => {
            record.action = Some("AssumeRoleWithWebIdentity");
            record.auth_mode = Some(RequestAuthMode::Anonymous);
            // An unsigned action in AWS: an `Authorization` header (or a
            // presigned query) on it is never looked at, so it never
            // spares the request the anonymous limit.
            if !unsigned {
                env.limits
                    .check_anonymous_source(source_ip, env.metrics)
                    .await
                    .map_err(|limited| throttled(env, record, limited, true))?;
            }
            env.sts
                .assume_role_with_web_identity(&params, request.request_id, SystemTime::now())
                .await
        }
        "GetCallerIdentity" => {
            record.action = Some("GetCallerIdentity");
            let signed = SignedRequest {
                method: head.method.as_str(),
                raw_path: head.uri.path(),
                raw_query: query,
                headers: &head.headers,
                body_sha256: Some(&sha256_hex(&form)),
            };
            caller_identity(env, &signed, request.request_id, record)
        }
        other => Err(StsError::parameter(format!(
            "unknown STS Action `{other}`; this endpoint serves AssumeRoleWithWebIdentity and GetCallerIdentity"
        ))),
    }
}

/// The `Throttling` answer of a request a rate limit refused; `anonymous`
/// when it was refused as an unsigned one.
fn throttled(
    env: &StsEnv<'_>,
    record: &mut StsRecord,
    limited: crate::limits::Limited,
    anonymous: bool,
) -> StsError {
    record.result = Some(RequestResult::RateLimited);
    if anonymous {
        record.auth_mode = Some(RequestAuthMode::Anonymous);
        env.metrics.record_anonymous_reject("rate_limited");
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
    client: &mut dyn ClientBody,
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
        client.disable_keepalive();
        return Err(too_long());
    }
    let mut body = RequestBody::new(client, expects_continue(headers), declared, None);
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
    env: &StsEnv<'_>,
    signed: &SignedRequest<'_>,
    request_id: &str,
    record: &mut StsRecord,
) -> Result<String, StsError> {
    let verifier = VerifierConfig {
        region: match env.region {
            "*" => RegionRule::Any,
            region => RegionRule::Exact(region.to_owned()),
        },
        service: "sts".to_owned(),
        max_skew: env.max_skew,
        rules: ServiceRules::Generic {
            normalize_path: false,
        },
    };
    let store = env.credentials.load();
    let sealer = Some(env.sts.sealer());
    let outcome =
        auth::authenticate_with_sessions(signed, &store, sealer, &verifier, SystemTime::now())
            .map_err(|failure| {
                env.metrics.record_auth_failure(failure.reason.as_str());
                record.result = Some(RequestResult::AuthFailure(failure.reason));
                sts_auth_error(&failure)
            })?;
    let AuthOutcome::Authenticated(authenticated) = outcome else {
        return Err(StsError::new(
            403,
            "MissingAuthenticationToken",
            "GetCallerIdentity must be signed",
        ));
    };
    record.principal = Some(authenticated.credential.principal.clone());
    let (arn, user_id, account) = match &authenticated.session {
        Some(session) => {
            record.auth_mode = Some(RequestAuthMode::Sts);
            let account = session.account().unwrap_or(env.sts.account_id()).to_owned();
            let arn = format!(
                "arn:aws:sts::{account}:assumed-role/{}/{}",
                session.role_name(),
                session.session_name
            );
            let user_id = format!(
                "{}:{}",
                crate::sts::role_id(&session.role_arn),
                session.session_name
            );
            (arn, user_id, account)
        }
        None => {
            record.auth_mode = Some(authenticated.method.into());
            let account = env.sts.account_id().to_owned();
            let credential = &authenticated.credential;
            let arn = format!("arn:aws:iam::{account}:user/{}", credential.principal);
            (arn, credential.access_key.clone(), account)
        }
    };
    Ok(xml::caller_identity(&arn, &user_id, &account, request_id))
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

    #[test]
    fn a_request_debug_shows_no_token() {
        let (head, ()) =
            http::Request::post("/?Action=AssumeRoleWithWebIdentity&WebIdentityToken=secret-jwt")
                .header("x-amz-security-token", "secret-session")
                .body(())
                .expect("request")
                .into_parts();
        let request = StsRequest {
            head: &head,
            source_ip: IpAddr::from([127, 0, 0, 1]),
            request_id: "id",
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("POST"), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
