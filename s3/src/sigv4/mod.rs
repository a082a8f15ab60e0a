//! SigV4 verification: the authenticate stage of the pipeline (after route
//! and classify, before authorize).
//!
//! [`verify`] checks a request's `Authorization: AWS4-HMAC-SHA256 ...`
//! header or presigned-URL query (`X-Amz-Algorithm=...`) against the
//! credentials of a [`SecretLookup`] without reading the body. A request
//! with neither is anonymous (`Ok(None)`). [`sign`] is the client side:
//! it signs a request or presigns a URL with the same canonicalisation. The canonical request is rebuilt from what the
//! client sent (the exact rules are in the `canonical` submodule's docs)
//! instead of re-signing with `aws-sigv4`, which cannot reproduce every
//! client's choices.
//!
//! # Checks, in order, and the reason each failure carries
//!
//! 1. Header or presigned syntax: not `AWS4-HMAC-SHA256`, missing, unknown or
//!    repeated component, signature not 64 hex digits, two `Authorization`
//!    headers, both header and query auth -> `bad_authorization_format`; `Credential=` not five non-empty
//!    `/`-separated parts -> `bad_credential_field`; date missing or not
//!    `yyyymmddThhmmssZ` (the `date` header may also be an HTTP date) ->
//!    `bad_date`; `X-Amz-Expires` not in 1..=604800 -> `InvalidExpires`
//!    (counted as `bad_authorization_format`, rendered 400 InvalidArgument).
//! 2. Credential scope: date differs from the request date, region not
//!    allowed by [`RegionRule`], service differs, terminator not
//!    `aws4_request` -> `bad_authorization_format` (AWS answers these with
//!    AuthorizationHeaderMalformed, which the `aws` error profile maps that
//!    reason to; `bad_credential_field` is kept for an unsplittable field).
//! 3. Signed headers: empty, upper-case, invalid or repeated names, `host`
//!    not signed, a signed header absent from the request ->
//!    `bad_authorization_format`; an `x-amz-*` header present but not
//!    signed (header and presigned auth alike; the rule and its one
//!    exception, `x-amz-content-sha256`, are in the `checks` submodule) ->
//!    `unsigned_header` (403 AccessDenied, "There were headers present in
//!    the request which were not signed").
//! 4. Payload hash: with [`ServiceRules::S3`], header auth without
//!    `x-amz-content-sha256`, or with it unsigned, or with a value that is
//!    not 64 lowercase hex digits / `UNSIGNED-PAYLOAD` / `STREAMING-*` ->
//!    `bad_authorization_format`. Presigned URLs use that header when it is
//!    present and signed, else `UNSIGNED-PAYLOAD`. With
//!    [`ServiceRules::Generic`] a missing header means the SHA-256 of an
//!    empty body, which the body stage then enforces like any signed hash.
//! 5. Clock: header auth outside `now ± max_skew` -> `time_skew`; presigned
//!    URLs dated after `now + max_skew` -> `time_skew`, used after
//!    `X-Amz-Date + X-Amz-Expires` -> `expired` (skew is not added).
//! 6. Access key not known to the [`SecretLookup`] -> `unknown_access_key`.
//! 7. Signature, compared in constant time -> `bad_signature`.
//! 8. Credential disabled -> `disabled`; `expires_at` reached -> `expired`.
//!    These come after the signature so that only the secret's holder
//!    learns the credential's state.
//!
//! A request carrying a session token (`x-amz-security-token`, which header
//! auth must sign, or `X-Amz-Security-Token` in a presigned URL) is an STS
//! session: in step 6 the lookup opens the token instead of looking the
//! access key up (a token that does not open, or belongs to another access
//! key -> `invalid_token`), and after the signature its
//! [`SecretLookup::check`] refuses a session past its expiry with
//! `SessionExpired` (counted as `expired`, rendered ExpiredToken), or one
//! whose role is no longer configured with `invalid_token`.

mod canonical;
mod checks;
mod config;
mod lookup;
mod outcome;
mod parse;
mod secret;
pub mod sign;
mod signing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_aws_examples;
#[cfg(test)]
mod tests_oracle;
#[cfg(test)]
mod tests_signed_headers;

use std::time::SystemTime;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

pub use config::{MAX_PRESIGNED_EXPIRES, RegionRule, ServiceRules, SignedRequest, VerifierConfig};
pub use lookup::SecretLookup;
pub use outcome::{AuthFailure, AuthFailureReason, AuthMethod, PayloadHash, Verified};
pub use secret::Secret;
pub use signing::{
    EMPTY_SHA256_HEX, SigningContext, SigningKey, SigningKeyCache, sha256_hex, signatures_match,
};

use canonical::{CanonicalInput, parse_query};
use parse::ParsedAuth;
pub(crate) use parse::parse_amz_date;

/// The message of an [`AuthFailureReason::UnsignedHeader`] failure, as AWS
/// words it; the failure adds the names of the unsigned headers.
const UNSIGNED_HEADERS_MESSAGE: &str =
    "There were headers present in the request which were not signed";

/// Verifies `req` at time `now` against the credentials of `lookup`: the
/// signer and payload promise, or `None` for a request without SigV4
/// authentication. Never reads a body.
///
/// # Errors
///
/// An [`AuthFailure`] whose reason says which check refused the request.
pub fn verify<L: SecretLookup>(
    req: &SignedRequest<'_>,
    lookup: &L,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<Option<Verified<L::Signer>>, AuthFailure> {
    let params = parse_query(req.raw_query).map_err(|error| {
        AuthFailure::new(AuthFailureReason::BadAuthorizationFormat, error.to_string())
    })?;
    let presigned = params.iter().any(|p| p.name == parse::param::ALGORITHM);
    let parsed = match (req.headers.contains_key(AUTHORIZATION), presigned) {
        (false, false) => return Ok(None),
        (true, true) => {
            return Err(AuthFailure::new(
                AuthFailureReason::BadAuthorizationFormat,
                "the request carries both an authorization header and `X-Amz-Algorithm`",
            ));
        }
        (true, false) => parse::from_header(req.headers)?,
        (false, true) => parse::from_query(&params)?,
    };
    let access_key = parsed.scope.access_key.clone();
    verify_parsed(req, &params, parsed, lookup, config, now)
        .map(Some)
        .map_err(|failure| failure.with_access_key(&access_key))
}

fn verify_parsed<L: SecretLookup>(
    req: &SignedRequest<'_>,
    params: &[canonical::QueryParam],
    parsed: ParsedAuth,
    lookup: &L,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<Verified<L::Signer>, AuthFailure> {
    let bad_format =
        |message: String| AuthFailure::new(AuthFailureReason::BadAuthorizationFormat, message);
    checks::check_scope(&parsed, config).map_err(bad_format)?;
    let signed_headers =
        checks::check_signed_headers(&parsed.signed_headers).map_err(bad_format)?;
    let unsigned = checks::unsigned_headers(req.headers, &signed_headers);
    if !unsigned.is_empty() {
        return Err(AuthFailure::new(
            AuthFailureReason::UnsignedHeader,
            format!("{UNSIGNED_HEADERS_MESSAGE}: `{}`", unsigned.join("`, `")),
        ));
    }
    let (payload, payload_line) = checks::payload_hash(
        req.headers,
        req.body_sha256,
        &signed_headers,
        &parsed,
        config,
    )
    .map_err(bad_format)?;

    let input = CanonicalInput {
        method: req.method,
        raw_path: req.raw_path,
        params,
        exclude_param: parsed.expires.map(|_| parse::param::SIGNATURE),
        headers: req.headers,
        signed_headers: &signed_headers,
        signed_headers_raw: &parsed.signed_headers,
        payload_hash: &payload_line,
    };
    let canonical_request =
        canonical::canonical_request(&input, config.rules).map_err(|missing| {
            bad_format(format!(
                "signed header `{}` is not in the request",
                missing.0
            ))
        })?;
    let method = checks::check_time(&parsed, config, now)?;

    let token = security_token(req.headers, params, &signed_headers).map_err(bad_format)?;
    let signer = lookup.signer(&parsed.scope.access_key, token)?;
    let scope = parsed.scope.without_access_key();
    let string_to_sign = format!(
        "{}\n{}\n{scope}\n{}",
        signing::ALGORITHM,
        parsed.amz_date,
        sha256_hex(&canonical_request)
    );
    let cache_id = format!("{}/{scope}", parsed.scope.access_key);
    let cache = lookup.key_cache(&signer);
    let cached = cache.and_then(|cache| cache.get(&cache_id));
    let key = cached.clone().unwrap_or_else(|| {
        SigningKey::derive(
            L::secret(&signer),
            &parsed.scope.date,
            &parsed.scope.region,
            &parsed.scope.service,
        )
    });
    let expected = key.sign(string_to_sign.as_bytes());
    if !bool::from(expected.ct_eq(&parsed.signature)) {
        return Err(AuthFailure::new(
            AuthFailureReason::BadSignature,
            "the signature does not match the one computed from the request and the secret key",
        ));
    }
    if cached.is_none()
        && let Some(cache) = cache
    {
        cache.insert(cache_id, key.clone());
    }
    lookup.check(&signer, now)?;
    Ok(Verified {
        signer,
        payload,
        method,
        signing: SigningContext {
            key,
            amz_date: parsed.amz_date,
            scope,
            seed_signature: hex::encode(expected),
        },
    })
}

/// The session token of a request: the `x-amz-security-token` header
/// (which must be signed) or the `X-Amz-Security-Token` query parameter.
fn security_token<'a>(
    headers: &'a HeaderMap,
    params: &'a [canonical::QueryParam],
    signed_headers: &[&str],
) -> Result<Option<&'a str>, String> {
    const HEADER: &str = "x-amz-security-token";
    if let Some(value) = headers.get(HEADER) {
        if !signed_headers.contains(&HEADER) {
            return Err(format!("`{HEADER}` must be signed"));
        }
        return value
            .to_str()
            .map(Some)
            .map_err(|_| format!("`{HEADER}` is not ascii"));
    }
    params
        .iter()
        .find(|p| p.name == b"X-Amz-Security-Token")
        .map(|p| {
            std::str::from_utf8(&p.value).map_err(|_| "the security token is not utf-8".into())
        })
        .transpose()
}
