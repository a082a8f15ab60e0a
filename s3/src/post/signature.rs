//! The form's signature: SigV4 for POST (`x-amz-algorithm`
//! `AWS4-HMAC-SHA256`, `x-amz-credential`, `x-amz-date`,
//! `x-amz-signature`, and `x-amz-security-token` for an STS session), the
//! hex HMAC-SHA256 of the base64 `policy` field under the signing key of
//! the credential's scope.
//!
//! A form with none of the signing fields (and no `policy`) is anonymous;
//! one with some but not all is refused, and so is a SigV2 form
//! (`AWSAccessKeyId` / `signature`), as SigV2 is refused everywhere. The
//! checks and their failure reasons follow [`crate::sigv4::verify`]'s:
//! scope (`bad_credential_field`, `bad_authorization_format`), date
//! (`bad_date`), access key or session token (through the
//! [`SecretLookup`]), signature compared in constant time
//! (`bad_signature`), then the signer's state. The policy's own
//! `expiration` bounds how long a signed form is valid; the signing date
//! is not held to the clock skew.

use std::time::SystemTime;

use subtle::ConstantTimeEq;

use super::{PostForm, missing_field};
use crate::error::{S3Error, S3ErrorCode};
use crate::sigv4::{
    AuthFailure, AuthFailureReason, SecretLookup, SigningKey, VerifierConfig, parse_amz_date,
};

/// The signing fields of a SigV4 form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSignature<'a> {
    /// The base64 policy document (what is signed).
    pub policy: &'a str,
    /// `x-amz-credential`: `access-key/yyyymmdd/region/service/aws4_request`.
    pub credential: &'a str,
    /// `x-amz-date`.
    pub date: &'a str,
    /// `x-amz-signature`, hex.
    pub signature: &'a str,
    /// `x-amz-security-token`, for an STS session.
    pub token: Option<&'a str>,
}

/// The fields that make a form signed.
const SIGNING_FIELDS: &[&str] = &[
    "policy",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
    "x-amz-security-token",
    "awsaccesskeyid",
    "signature",
];

/// The form's signing fields: `None` for an anonymous form.
///
/// # Errors
///
/// InvalidRequest for a SigV2 form; InvalidArgument naming a missing
/// field; an unsupported `x-amz-algorithm` is InvalidArgument too.
pub fn form_signature(form: &PostForm) -> Result<Option<FormSignature<'_>>, S3Error> {
    if !SIGNING_FIELDS.iter().any(|name| form.field(name).is_some()) {
        return Ok(None);
    }
    if form.field("awsaccesskeyid").is_some() || form.field("signature").is_some() {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "the authorization mechanism you have provided is not supported; use AWS4-HMAC-SHA256",
        ));
    }
    let get = |name: &str| form.field(name).ok_or_else(|| missing_field(name));
    let policy = get("policy")?;
    let algorithm = get("x-amz-algorithm")?;
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "the x-amz-algorithm field must be AWS4-HMAC-SHA256",
        ));
    }
    Ok(Some(FormSignature {
        policy,
        credential: get("x-amz-credential")?,
        date: get("x-amz-date")?,
        signature: get("x-amz-signature")?,
        token: form.field("x-amz-security-token"),
    }))
}

/// Verifies a form's signature against `lookup` at time `now`: the signer.
///
/// # Errors
///
/// An [`AuthFailure`] whose reason says which check refused the form.
pub fn verify<L: SecretLookup>(
    signed: &FormSignature<'_>,
    lookup: &L,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<L::Signer, AuthFailure> {
    let bad_format = |message: &str| {
        AuthFailure::new(
            AuthFailureReason::BadAuthorizationFormat,
            message.to_owned(),
        )
    };
    let parts: Vec<&str> = signed.credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts[..] else {
        return Err(AuthFailure::new(
            AuthFailureReason::BadCredentialField,
            "the x-amz-credential field is not access-key/date/region/service/aws4_request",
        ));
    };
    if parts.iter().any(|part| part.is_empty()) {
        return Err(AuthFailure::new(
            AuthFailureReason::BadCredentialField,
            "the x-amz-credential field has an empty part",
        ));
    }
    if parse_amz_date(signed.date).is_none() {
        return Err(AuthFailure::new(
            AuthFailureReason::BadDate,
            "the x-amz-date field is not yyyymmddThhmmssZ",
        ));
    }
    if !signed.date.starts_with(date) || date.len() != 8 {
        return Err(bad_format(
            "the credential scope's date differs from the x-amz-date field",
        ));
    }
    if !config.region.allows(region) {
        return Err(bad_format(
            "the credential scope names a region this endpoint does not serve",
        ));
    }
    if service != config.service || terminator != "aws4_request" {
        return Err(bad_format(
            "the credential scope must end with the service and aws4_request",
        ));
    }
    let claimed = hex::decode(signed.signature)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| bad_format("the x-amz-signature field is not 64 hex digits"))?;
    let signer = lookup
        .signer(access_key, signed.token)
        .map_err(|failure| failure.with_access_key(access_key))?;
    let scope = format!("{date}/{region}/{service}/{terminator}");
    let cache_id = format!("{access_key}/{scope}");
    let cache = lookup.key_cache(&signer);
    let cached = cache.and_then(|cache| cache.get(&cache_id));
    let key = cached
        .clone()
        .unwrap_or_else(|| SigningKey::derive(L::secret(&signer), date, region, service));
    let expected = key.sign(signed.policy.as_bytes());
    if !bool::from(expected.ct_eq(&claimed)) {
        return Err(AuthFailure::new(
            AuthFailureReason::BadSignature,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
        .with_access_key(access_key));
    }
    if cached.is_none()
        && let Some(cache) = cache
    {
        cache.insert(cache_id, key);
    }
    lookup.check(&signer, now)?;
    Ok(signer)
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
