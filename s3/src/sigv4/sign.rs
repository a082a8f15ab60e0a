//! The client side of SigV4: signing a request in its headers, or
//! presigning a URL, with the canonicalisation the verifier rebuilds.
//!
//! Signed the way the S3 SDKs sign: every header of the request except the
//! ones proxies change (`authorization`, `user-agent`, `x-amzn-trace-id`,
//! `transfer-encoding`), the path as sent (no normalisation, no second
//! encoding), the query decoded once and re-encoded, for service `s3`.
//! Unlike the SDKs, a presigned URL signs `x-amz-user-agent` and
//! `x-amz-checksum-mode` too when the request carries them: the verifier,
//! as AWS S3, refuses an unsigned `x-amz-*` header.
//!
//! - [`sign_headers`]: the headers to add (`x-amz-date`,
//!   `x-amz-content-sha256`, `x-amz-security-token` for a session, then
//!   `authorization`).
//! - [`presign`]: the query parameters to add (`X-Amz-Algorithm` ...
//!   `X-Amz-Signature`), values not yet encoded.

use std::time::{Duration, SystemTime};

use http::header::{HeaderName, HeaderValue, InvalidHeaderValue};
use http::{HeaderMap, Method};
use time::OffsetDateTime;

use super::canonical::{self, CanonicalInput};
use super::parse::format_amz_date;
use super::signing::ALGORITHM;
use super::{Secret, ServiceRules, SigningKey, sha256_hex};
use crate::query::QueryError;

/// Headers never signed: proxies and the signature itself change them.
const EXCLUDED: [&str; 4] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "transfer-encoding",
];
/// The service of every credential scope this signer writes.
const SERVICE: &str = "s3";
/// The header (and, capitalised, query parameter) of a session token.
const SECURITY_TOKEN: &str = "x-amz-security-token";
/// The payload hash of a presigned URL without `x-amz-content-sha256`.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Who signs, where: the credential and the scope's region (the service is
/// always `s3`: the canonical request follows S3's rules).
#[derive(Clone, Copy, Debug)]
pub struct Identity<'a> {
    /// The access key id.
    pub access_key: &'a str,
    /// The secret access key.
    pub secret: &'a Secret,
    /// The STS session token, for temporary credentials.
    pub session_token: Option<&'a str>,
    /// The region of the credential scope (`us-east-1`).
    pub region: &'a str,
}

/// A request to sign, as it will be sent.
#[derive(Clone, Copy, Debug)]
pub struct Unsigned<'a> {
    /// The method, e.g. `GET`.
    pub method: &'a Method,
    /// The path, already percent-encoded once (`/bucket/my%20key`).
    pub raw_path: &'a str,
    /// The query string without `?`, already encoded (may be empty).
    pub raw_query: &'a str,
    /// The headers, `host` included.
    pub headers: &'a HeaderMap,
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The query string does not decode.
    #[error("the query string does not decode: {0}")]
    Query(#[from] QueryError),
    /// The request carries no `host` header.
    #[error("the request has no `host` header")]
    NoHost,
    /// The session token or payload hash is not a header value.
    #[error("not a header value: {0}")]
    HeaderValue(#[from] InvalidHeaderValue),
}

/// Signs `request` in its headers at `time` with `payload_hash` (the body's
/// hex SHA-256, `UNSIGNED-PAYLOAD` or a `STREAMING-*` value) as
/// `x-amz-content-sha256`: the headers to add, `authorization` last.
///
/// # Errors
///
/// [`SignError`] when the query does not decode, `host` is missing, or the
/// token or payload hash cannot be a header value.
pub fn sign_headers(
    request: &Unsigned<'_>,
    identity: &Identity<'_>,
    payload_hash: &str,
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, SignError> {
    let amz_date = format_amz_date(OffsetDateTime::from(time));
    let mut added = vec![
        ("x-amz-date", amz_date.clone()),
        ("x-amz-content-sha256", payload_hash.to_owned()),
    ];
    if let Some(token) = identity.session_token {
        added.push((SECURITY_TOKEN, token.to_owned()));
    }
    let mut headers = request.headers.clone();
    for (name, value) in &added {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_str(value)?);
    }
    let signed = signed_header_names(&headers)?;
    let params = canonical::parse_query(request.raw_query)?;
    let signature = signature(
        request,
        identity,
        (&params, &headers, &signed),
        payload_hash,
        &amz_date,
    );
    let scope = scope(identity, &amz_date);
    added.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            identity.access_key,
            signed.join(";"),
        ),
    ));
    Ok(added)
}

/// Presigns `request` at `time`, valid for `expires_in`: the query
/// parameters to append, in order, `X-Amz-Signature` last; values are not
/// yet percent-encoded.
///
/// # Errors
///
/// [`SignError`] when the query does not decode or `host` is missing.
pub fn presign(
    request: &Unsigned<'_>,
    identity: &Identity<'_>,
    expires_in: Duration,
    time: SystemTime,
) -> Result<Vec<(&'static str, String)>, SignError> {
    let amz_date = format_amz_date(OffsetDateTime::from(time));
    let signed = signed_header_names(request.headers)?;
    let mut added = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        (
            "X-Amz-Credential",
            format!("{}/{}", identity.access_key, scope(identity, &amz_date)),
        ),
        ("X-Amz-Date", amz_date.clone()),
        ("X-Amz-Expires", expires_in.as_secs().to_string()),
        ("X-Amz-SignedHeaders", signed.join(";")),
    ];
    if let Some(token) = identity.session_token {
        added.push(("X-Amz-Security-Token", token.to_owned()));
    }
    let mut query = request.raw_query.to_owned();
    for (name, value) in &added {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.extend(percent_encoding::utf8_percent_encode(value, QUERY_VALUE));
    }
    let params = canonical::parse_query(&query)?;
    // As the verifier reads it: a signed `x-amz-content-sha256`, if any.
    let payload_hash = request
        .headers
        .get("x-amz-content-sha256")
        .filter(|_| signed.contains(&"x-amz-content-sha256"))
        .and_then(|value| value.to_str().ok())
        .unwrap_or(UNSIGNED_PAYLOAD);
    let signature = signature(
        request,
        identity,
        (&params, request.headers, &signed),
        payload_hash,
        &amz_date,
    );
    added.push(("X-Amz-Signature", signature));
    Ok(added)
}

/// Everything but the SigV4 unreserved characters, for query values.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The names to sign: every header of `headers` but the excluded ones,
/// sorted (header map names are lowercase).
fn signed_header_names(headers: &HeaderMap) -> Result<Vec<&str>, SignError> {
    if !headers.contains_key(http::header::HOST) {
        return Err(SignError::NoHost);
    }
    let mut names: Vec<&str> = headers
        .keys()
        .map(HeaderName::as_str)
        .filter(|name| !EXCLUDED.contains(name))
        .collect();
    names.sort_unstable();
    Ok(names)
}

/// `yyyymmdd/region/s3/aws4_request`.
fn scope(identity: &Identity<'_>, amz_date: &str) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    format!("{date}/{}/{}/aws4_request", identity.region, SERVICE)
}

/// The hex signature of the canonical request the verifier rebuilds.
fn signature(
    request: &Unsigned<'_>,
    identity: &Identity<'_>,
    (params, headers, signed): (&[canonical::QueryParam], &HeaderMap, &[&str]),
    payload_hash: &str,
    amz_date: &str,
) -> String {
    let signed_raw = signed.join(";");
    let input = CanonicalInput {
        method: request.method.as_str(),
        raw_path: request.raw_path,
        params,
        exclude_param: None,
        headers,
        signed_headers: signed,
        signed_headers_raw: &signed_raw,
        payload_hash,
    };
    // Every signed name was taken from `headers`: none can be missing.
    let canonical_request =
        canonical::canonical_request(&input, ServiceRules::S3).unwrap_or_default();
    let scope = scope(identity, amz_date);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(&canonical_request)
    );
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let key = SigningKey::derive(identity.secret, date, identity.region, SERVICE);
    hex::encode(key.sign(string_to_sign.as_bytes()))
}

#[cfg(test)]
mod tests;
