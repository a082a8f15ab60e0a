//! Web identity token (OIDC JWT) verification for `AssumeRoleWithWebIdentity`,
//! with `jsonwebtoken`:
//!
//! - header: `alg` RS256 or ES256 (anything else, `none` and HS256
//!   included, is refused before any key is looked at); `kid` required; a
//!   `crit` member refused (RFC 7515 §4.1.11: no extension is understood);
//! - `iss` exactly one of the configured issuers, read from the unverified
//!   payload only to pick the issuer's keys, then verified;
//! - signature with the issuer's key of that `kid` (whose own `alg`, when
//!   it names one, must be the header's);
//! - `aud` present; `exp` required and not past; `nbf` and `iat` not in the
//!   future; all with the configured leeway; `sub` a string.
//!
//! Nothing here depends on the role asked for: what a role requires of a
//! verified token (its issuers, audiences, subjects and claims) is checked
//! by the caller, so that an unknown role and a refused one answer alike.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::jwks::{JwksCache, JwksError};

/// Longest web identity token accepted (AWS's limit).
pub const MAX_TOKEN_BYTES: usize = 20_000;

/// A verified web identity token.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// `iss`.
    pub issuer: String,
    /// The configured issuer (`[sts.issuers.<name>]`) whose keys verified it.
    pub issuer_name: String,
    /// `sub`.
    pub subject: String,
    /// Every `aud` value.
    pub audiences: Vec<String>,
    /// Every top-level string, number and boolean claim, as strings.
    pub claims: BTreeMap<String, String>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is not acceptable (InvalidIdentityToken).
    #[error("{0}")]
    Invalid(String),
    /// No issuer among those asked has the token's `iss` (InvalidIdentityToken).
    #[error("issuer `{0}` is not trusted")]
    UntrustedIssuer(String),
    /// The issuer's keys could not be had (InternalError).
    #[error(transparent)]
    Keys(#[from] JwksError),
}

fn invalid(message: impl Into<String>) -> TokenError {
    TokenError::Invalid(message.into())
}

/// Whether `value` matches `pattern`, where `*` matches any run of
/// characters (including none) and everything else matches itself.
pub fn matches_pattern(pattern: &str, value: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else {
        return false;
    };
    let tail: Vec<&str> = parts.collect();
    let Some((last, middle)) = tail.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Refuses a header with a `crit` member: every extension it could name is
/// one this verifier does not understand (RFC 7515 §4.1.11).
fn check_critical(token: &str) -> Result<(), TokenError> {
    let malformed = || invalid("the web identity token's header is invalid");
    let header = token.split('.').next().ok_or_else(malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .map_err(|_| malformed())?;
    let header: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if header.contains_key("crit") {
        return Err(invalid(
            "the web identity token's header names critical extensions (`crit`), which are not supported",
        ));
    }
    Ok(())
}

/// The unverified payload, only to learn which issuer to ask for keys.
fn unverified_issuer(token: &str) -> Result<String, TokenError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| invalid("the web identity token is not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| invalid("the web identity token is not a JWT"))?;
    let claims: Value = serde_json::from_slice(&bytes)
        .map_err(|_| invalid("the web identity token's payload is not JSON"))?;
    claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid("the web identity token has no iss claim"))
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Verifies `token` against the keys of the first issuer in `candidates`
/// whose URL is the token's `iss`; an issuer whose keys cannot be had
/// (logged) passes the token on to the next such issuer, and only when
/// none is left is the failure the answer. Which issuer verified is part
/// of the answer: a role trusts issuers by name, not by URL.
pub async fn verify(
    token: &str,
    candidates: &[String],
    keys: &JwksCache,
    leeway_seconds: u64,
) -> Result<VerifiedToken, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid("the web identity token is too long"));
    }
    check_critical(token)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| {
        invalid("the web identity token's header is invalid or names an unsupported algorithm")
    })?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(invalid(format!(
            "unsupported token algorithm `{:?}`: only RS256 and ES256 are accepted",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("the web identity token's header has no kid"))?;
    let issuer = unverified_issuer(token)?;
    let mut unavailable = None;
    let mut rest = candidates;
    while let Some(trusted) = keys.trusted(rest, &issuer) {
        let at = rest
            .iter()
            .position(|name| name == trusted)
            .unwrap_or(rest.len());
        rest = rest.get(at + 1..).unwrap_or_default();
        match keys.key(trusted, &kid).await {
            Ok(Some(jwk)) => {
                let mut verified =
                    check_signed(token, &jwk, header.alg, &kid, issuer, leeway_seconds)?;
                trusted.clone_into(&mut verified.issuer_name);
                return Ok(verified);
            }
            Ok(None) => return Err(invalid(format!("the issuer has no key `{kid}`"))),
            Err(error) => {
                tracing::error!(%error, "web identity keys unavailable");
                unavailable = Some(error);
            }
        }
    }
    match unavailable {
        Some(error) => Err(TokenError::Keys(error)),
        None => Err(TokenError::UntrustedIssuer(issuer)),
    }
}

/// The signature and the time and presence claims, with `jwk`.
fn check_signed(
    token: &str,
    jwk: &jsonwebtoken::jwk::Jwk,
    alg: Algorithm,
    kid: &str,
    issuer: String,
    leeway_seconds: u64,
) -> Result<VerifiedToken, TokenError> {
    if let Some(key_alg) = jwk.common.key_algorithm
        && format!("{key_alg:?}") != format!("{alg:?}")
    {
        return Err(invalid(format!("key `{kid}` is not for {alg:?}")));
    }
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| invalid(format!("key `{kid}` cannot verify tokens")))?;
    let mut validation = Validation::new(alg);
    validation.leeway = leeway_seconds;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    // The audience is the role's to accept; only its presence is required here.
    validation.validate_aud = false;
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<BTreeMap<String, Value>>(token, &key, &validation)
        .map_err(|error| invalid(describe(error.kind())))?;
    let claims = data.claims;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Some(iat) = claims.get("iat") {
        let iat = iat
            .as_u64()
            .ok_or_else(|| invalid("the web identity token's iat is not a number"))?;
        if iat > now + leeway_seconds {
            return Err(invalid("the web identity token was issued in the future"));
        }
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the web identity token's sub is not a string"))?
        .to_owned();
    let audiences = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if audiences.is_empty() {
        return Err(invalid("the web identity token's audience is not accepted"));
    }
    let claims = claims
        .iter()
        .filter_map(|(name, value)| scalar(value).map(|v| (name.clone(), v)))
        .collect();
    Ok(VerifiedToken {
        issuer,
        issuer_name: String::new(),
        subject,
        audiences,
        claims,
    })
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "token signature verification failed".to_owned(),
        ErrorKind::ExpiredSignature => "the web identity token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the web identity token is not valid yet".to_owned(),
        ErrorKind::InvalidIssuer => "the web identity token's issuer is not trusted".to_owned(),
        ErrorKind::InvalidAudience => {
            "the web identity token's audience is not accepted".to_owned()
        }
        ErrorKind::MissingRequiredClaim(claim) => {
            format!("the web identity token has no `{claim}` claim")
        }
        ErrorKind::InvalidAlgorithm => {
            "the web identity token's algorithm does not match its key".to_owned()
        }
        _ => "the web identity token is invalid".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn a_crit_header_is_refused() {
        let payload = segment(r#"{"iss":"https://issuer.example","sub":"s"}"#);
        let table = [
            (r#"{"alg":"RS256","kid":"k"}"#, true),
            (r#"{"alg":"RS256","kid":"k","crit":["exp"],"exp":1}"#, false),
            (r#"{"alg":"RS256","kid":"k","crit":[]}"#, false),
            (
                r#"{"alg":"ES256","kid":"k","crit":["b64"],"b64":false}"#,
                false,
            ),
            ("not json", false),
        ];
        for (header, accepted) in table {
            let token = format!("{}.{payload}.c2ln", segment(header));
            assert_eq!(check_critical(&token).is_ok(), accepted, "{header}");
        }
    }

    #[test]
    fn subject_patterns() {
        let table = [
            ("*", "anything", true),
            ("*", "", true),
            ("repo:myorg/*", "repo:myorg/app:ref:refs/heads/main", true),
            ("repo:myorg/*", "repo:other/app", false),
            (
                "repo:*:ref:refs/heads/main",
                "repo:a/b:ref:refs/heads/main",
                true,
            ),
            (
                "repo:*:ref:refs/heads/main",
                "repo:a/b:ref:refs/heads/dev",
                false,
            ),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
        ];
        for (pattern, value, expected) in table {
            assert_eq!(
                matches_pattern(pattern, value),
                expected,
                "{pattern} {value}"
            );
        }
    }
}
