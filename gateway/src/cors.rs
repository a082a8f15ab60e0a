//! CORS for browser clients: the *preflight* stage and the headers the
//! *respond* stage adds. The rules and their matching are the S3 protocol
//! crate's ([`cedargate_s3::cors`]); this wraps an allowed preflight's
//! headers in the gateway's answer.

use cedargate_s3::cors::CorsRule;

use crate::response::S3Response;
use cedargate_s3::error::S3Error;

/// The *preflight* stage: answers an `OPTIONS` request from the rules of its
/// bucket (`None` when the request names no bucket, or one that does not
/// exist): 200 without a body and the `Access-Control-*` headers, or the
/// refusal.
pub fn preflight(
    rules: Option<&[CorsRule]>,
    headers: &http::HeaderMap,
) -> Result<S3Response, S3Error> {
    let allowed = cedargate_s3::cors::preflight(rules, headers)?;
    let mut answer = S3Response::empty(200);
    answer.headers.extend(
        allowed
            .into_iter()
            .map(|(name, value)| (name.into(), value)),
    );
    Ok(answer)
}
