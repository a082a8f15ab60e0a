//! The form's signature over its base64 `policy` field, in either of the
//! two versions S3 accepts on forms:
//!
//! - SigV4 (`x-amz-algorithm` `AWS4-HMAC-SHA256`, `x-amz-credential`,
//!   `x-amz-date`, `x-amz-signature`): the hex HMAC-SHA256 of the policy
//!   under the signing key of the credential's scope;
//! - SigV2 (`AWSAccessKeyId`, `signature`): the base64 HMAC-SHA1 of the
//!   policy under the secret, what boto3's `generate_presigned_post`
//!   produces unless told `signature_version="s3v4"`. In both versions the
//!   signature covers the policy document and nothing else (no header, no
//!   body), so a SigV2 form proves no less than a SigV4 one; SigV2 header
//!   and query signatures stay refused.
//!
//! `x-amz-security-token` makes either an STS session's. A form with none
//! of the signing fields (and no `policy`) is anonymous; one with some but
//! not all is refused. The checks and their failure reasons follow
//! [`crate::sigv4::verify`]'s: scope (`bad_credential_field`,
//! `bad_authorization_format`), date (`bad_date`), access key or session
//! token (through the [`SecretLookup`]), signature compared in constant
//! time (`bad_signature`), then the signer's state. The policy's own
//! `expiration` bounds how long a signed form is valid; the signing date
//! is not held to the clock skew.

use std::time::SystemTime;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::{PostForm, missing_field};
use crate::error::{S3Error, S3ErrorCode};
use crate::sigv4::{
    AuthFailure, AuthFailureReason, SecretLookup, SigningKey, VerifierConfig, parse_amz_date,
};

/// The signing fields of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSignature<'a> {
    /// The base64 policy document (what is signed).
    pub policy: &'a str,
    /// The version and its fields.
    pub version: Version<'a>,
    /// `x-amz-signature` (hex) or `signature` (base64).
    pub signature: &'a str,
    /// `x-amz-security-token`, for an STS session.
    pub token: Option<&'a str>,
}

/// Which signature a form carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version<'a> {
    /// SigV4.
    V4 {
        /// `x-amz-credential`: `access-key/yyyymmdd/region/service/aws4_request`.
        credential: &'a str,
        /// `x-amz-date`.
        date: &'a str,
    },
    /// SigV2.
    V2 {
        /// `AWSAccessKeyId`.
        access_key: &'a str,
    },
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
/// InvalidArgument naming a missing field, or for an unsupported
/// `x-amz-algorithm`.
pub fn form_signature(form: &PostForm) -> Result<Option<FormSignature<'_>>, S3Error> {
    if !SIGNING_FIELDS.iter().any(|name| form.field(name).is_some()) {
        return Ok(None);
    }
    let get = |name: &str| form.field(name).ok_or_else(|| missing_field(name));
    let token = form.field("x-amz-security-token");
    if form.field("x-amz-algorithm").is_none()
        && (form.field("awsaccesskeyid").is_some() || form.field("signature").is_some())
    {
        return Ok(Some(FormSignature {
            policy: get("policy")?,
            version: Version::V2 {
                access_key: form
                    .field("awsaccesskeyid")
                    .ok_or_else(|| missing_field("AWSAccessKeyId"))?,
            },
            signature: get("signature")?,
            token,
        }));
    }
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
        version: Version::V4 {
            credential: get("x-amz-credential")?,
            date: get("x-amz-date")?,
        },
        signature: get("x-amz-signature")?,
        token,
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
    let signer = match signed.version {
        Version::V4 { credential, date } => verify_v4(signed, credential, date, lookup, config)?,
        Version::V2 { access_key } => verify_v2(signed, access_key, lookup)?,
    };
    lookup.check(&signer, now)?;
    Ok(signer)
}

fn bad_format(message: &str) -> AuthFailure {
    AuthFailure::new(
        AuthFailureReason::BadAuthorizationFormat,
        message.to_owned(),
    )
}

fn mismatch(access_key: &str) -> AuthFailure {
    AuthFailure::new(
        AuthFailureReason::BadSignature,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .with_access_key(access_key)
}

fn verify_v2<L: SecretLookup>(
    signed: &FormSignature<'_>,
    access_key: &str,
    lookup: &L,
) -> Result<L::Signer, AuthFailure> {
    let claimed = base64::engine::general_purpose::STANDARD
        .decode(signed.signature.trim())
        .map_err(|_| bad_format("the signature field is not base64"))?;
    let signer = lookup
        .signer(access_key, signed.token)
        .map_err(|failure| failure.with_access_key(access_key))?;
    let mut mac = Hmac::<Sha1>::new_from_slice(L::secret(&signer).expose_bytes())
        .map_err(|_| AuthFailure::new(AuthFailureReason::BadSignature, "unusable secret"))?;
    mac.update(signed.policy.as_bytes());
    let expected = mac.finalize().into_bytes();
    if !bool::from(expected.as_slice().ct_eq(&claimed)) {
        return Err(mismatch(access_key));
    }
    Ok(signer)
}

fn verify_v4<L: SecretLookup>(
    signed: &FormSignature<'_>,
    credential: &str,
    amz_date: &str,
    lookup: &L,
    config: &VerifierConfig,
) -> Result<L::Signer, AuthFailure> {
    let parts: Vec<&str> = credential.split('/').collect();
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
    if parse_amz_date(amz_date).is_none() {
        return Err(AuthFailure::new(
            AuthFailureReason::BadDate,
            "the x-amz-date field is not yyyymmddThhmmssZ",
        ));
    }
    if !amz_date.starts_with(date) || date.len() != 8 {
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
        return Err(mismatch(access_key));
    }
    if cached.is_none()
        && let Some(cache) = cache
    {
        cache.insert(cache_id, key);
    }
    Ok(signer)
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
