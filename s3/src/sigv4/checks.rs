//! Semantic checks of parsed SigV4 fields: credential scope, signed
//! headers, payload hash and clock (steps 2 to 5 of the module docs).
//!
//! # Which headers must be signed
//!
//! As in AWS S3, every `x-amz-*` header present in the request must be
//! listed in `SignedHeaders` (header auth) or `X-Amz-SignedHeaders`
//! (presigned URL), whatever the operation: such headers choose the
//! operation (`x-amz-copy-source`) or what it stores (tagging, ACL and
//! grants, object lock, SSE, storage class, redirect, `x-amz-meta-*`,
//! checksums). [`UNSIGNED_AMZ_HEADERS`] lists the one exception AWS
//! makes. Headers outside the `x-amz-` prefix (`content-type`,
//! `content-md5`, `cache-control`, ...) need not be signed, as in AWS;
//! `x-amzn-trace-id` is not an `x-amz-` header.

use std::time::SystemTime;

use http::HeaderMap;
use time::OffsetDateTime;

use super::parse::ParsedAuth;
use super::{
    AuthFailure, AuthFailureReason, AuthMethod, EMPTY_SHA256_HEX, PayloadHash, RegionRule,
    ServiceRules, VerifierConfig,
};

pub(super) fn check_scope(parsed: &ParsedAuth, config: &VerifierConfig) -> Result<(), String> {
    let request_date = parsed.amz_date.get(..8).unwrap_or_default();
    if parsed.scope.date != request_date {
        return Err(format!(
            "credential scope date `{}` is not the request date `{request_date}`",
            parsed.scope.date
        ));
    }
    if !config.region.allows(&parsed.scope.region) {
        return Err(match &config.region {
            RegionRule::Exact(expected) => format!(
                "credential scope region `{}` is wrong, expecting `{expected}`",
                parsed.scope.region
            ),
            RegionRule::Any => format!(
                "credential scope region `{}` is not accepted",
                parsed.scope.region
            ),
        });
    }
    if parsed.scope.service != config.service {
        return Err(format!(
            "credential scope service `{}` is wrong, expecting `{}`",
            parsed.scope.service, config.service
        ));
    }
    if parsed.scope.terminator != "aws4_request" {
        return Err(format!(
            "credential scope must end with `aws4_request`, not `{}`",
            parsed.scope.terminator
        ));
    }
    Ok(())
}

/// Splits `SignedHeaders`; names must be lowercase header tokens, unique,
/// and include `host`.
pub(super) fn check_signed_headers(raw: &str) -> Result<Vec<&str>, String> {
    let names: Vec<&str> = raw.split(';').collect();
    for (i, name) in names.iter().enumerate() {
        let valid = !name.is_empty()
            && http::HeaderName::from_bytes(name.as_bytes()).is_ok()
            && !name.bytes().any(|b| b.is_ascii_uppercase());
        if !valid {
            return Err(format!(
                "signed header name `{name}` is not a lowercase header name"
            ));
        }
        if names[..i].contains(name) {
            return Err(format!("signed header `{name}` is listed twice"));
        }
    }
    if !names.contains(&"host") {
        return Err("the `host` header must be signed".to_owned());
    }
    Ok(names)
}

/// `x-amz-*` headers that may be present without being signed.
///
/// `x-amz-content-sha256` only: AWS S3 does not require it signed. Under
/// header auth its value is the last line of the canonical request anyway
/// (and this verifier requires it signed there, see [`payload_hash`]); a
/// presigned URL's payload is `UNSIGNED-PAYLOAD` unless the header is
/// signed, so an unsigned value is never used.
pub(super) const UNSIGNED_AMZ_HEADERS: &[&str] = &["x-amz-content-sha256"];

/// Whether a header, when present, must be listed in `SignedHeaders`.
pub(super) fn must_be_signed(name: &str) -> bool {
    name.starts_with("x-amz-") && !UNSIGNED_AMZ_HEADERS.contains(&name)
}

/// The `x-amz-*` headers of `headers` that must be signed but are not in
/// `signed_headers`, sorted and without repeats; empty when none.
pub(super) fn unsigned_headers<'a>(
    headers: &'a HeaderMap,
    signed_headers: &[&str],
) -> Vec<&'a str> {
    let mut unsigned: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|name| must_be_signed(name) && !signed_headers.contains(name))
        .collect();
    unsigned.sort_unstable();
    unsigned.dedup();
    unsigned
}

/// The payload hash and the literal that ends the canonical request.
pub(super) fn payload_hash(
    headers: &HeaderMap,
    body_sha256: Option<&str>,
    signed_headers: &[&str],
    parsed: &ParsedAuth,
    config: &VerifierConfig,
) -> Result<(PayloadHash, String), String> {
    const NAME: &str = "x-amz-content-sha256";
    let signed = signed_headers.contains(&NAME);
    let value = match headers.get(NAME) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| format!("`{NAME}` is not ascii"))?,
        ),
        None => None,
    };
    let presigned = parsed.expires.is_some();
    let value = match value {
        Some(value) if signed => value,
        Some(_) if !presigned => return Err(format!("`{NAME}` must be signed")),
        _ => match config.rules {
            ServiceRules::Generic { .. } => body_sha256.unwrap_or(EMPTY_SHA256_HEX),
            ServiceRules::S3 if presigned => "UNSIGNED-PAYLOAD",
            ServiceRules::S3 => return Err(format!("the `{NAME}` header is missing")),
        },
    };
    let hash = PayloadHash::parse(value).ok_or_else(|| {
        format!("`{NAME}` value `{value}` is not a lowercase hex sha-256, `UNSIGNED-PAYLOAD` or `STREAMING-*`")
    })?;
    Ok((hash, value.to_owned()))
}

pub(super) fn check_time(
    parsed: &ParsedAuth,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<AuthMethod, AuthFailure> {
    let now = OffsetDateTime::from(now);
    let skew = time::Duration::try_from(config.max_skew).unwrap_or(time::Duration::MAX);
    let request_time = parsed.request_time;
    let Some(expires) = parsed.expires else {
        if (request_time - now).abs() > skew {
            return Err(AuthFailure::new(
                AuthFailureReason::TimeSkew,
                format!(
                    "the request time `{}` differs from the server time by more than {} seconds",
                    parsed.amz_date,
                    config.max_skew.as_secs()
                ),
            ));
        }
        return Ok(AuthMethod::Header);
    };
    if request_time - now > skew {
        return Err(AuthFailure::new(
            AuthFailureReason::TimeSkew,
            format!(
                "the presigned url is not valid before `{}`",
                parsed.amz_date
            ),
        ));
    }
    let lifetime = time::Duration::seconds(i64::try_from(expires).unwrap_or(i64::MAX));
    let expires_at = request_time.saturating_add(lifetime);
    if now > expires_at {
        return Err(AuthFailure::new(
            AuthFailureReason::Expired,
            format!(
                "the presigned url expired {expires} seconds after `{}`",
                parsed.amz_date
            ),
        ));
    }
    Ok(AuthMethod::Presigned {
        expires_at: expires_at.into(),
    })
}
