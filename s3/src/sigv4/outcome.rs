//! What [`super::verify`] returns: the verified signer and payload
//! promise, or a client-safe failure with its metric reason.

use std::time::SystemTime;

use super::SigningContext;

/// A request whose signature verified.
#[derive(Clone, Debug)]
pub struct Verified<S> {
    /// Who signed it, as the [`super::SecretLookup`] found them.
    pub signer: S,
    /// What the body must hash to; verified by the body stage.
    pub payload: PayloadHash,
    /// Header or presigned URL.
    pub method: AuthMethod,
    /// Key, scope and seed signature for chunk and trailer signatures.
    pub signing: SigningContext,
}

/// Where the signature was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization` header.
    Header,
    /// Presigned URL.
    Presigned {
        /// When the URL stops being valid.
        expires_at: SystemTime,
    },
}

impl AuthMethod {
    /// The `auth_mode` metric label: `signed` or `presigned`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Header => "signed",
            Self::Presigned { .. } => "presigned",
        }
    }
}

/// The signed payload hash (`x-amz-content-sha256`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadHash {
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    Unsigned,
    /// The body's SHA-256.
    Sha256([u8; 32]),
    /// A `STREAMING-*` value (`aws-chunked` body), verified by the body stage.
    Streaming(String),
}

impl PayloadHash {
    /// Parses a header value: 64 lowercase hex digits, `UNSIGNED-PAYLOAD` or
    /// `STREAMING-...`.
    pub fn parse(value: &str) -> Option<Self> {
        if value == "UNSIGNED-PAYLOAD" {
            return Some(Self::Unsigned);
        }
        if value.starts_with("STREAMING-") {
            return Some(Self::Streaming(value.to_owned()));
        }
        let is_lower_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        if value.len() != 64 || !value.as_bytes().iter().all(is_lower_hex) {
            return None;
        }
        let mut hash = [0u8; 32];
        hex::decode_to_slice(value, &mut hash).ok()?;
        Some(Self::Sha256(hash))
    }
}

/// Why authentication failed. Exhaustive, so that a service maps every
/// reason to its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthFailureReason {
    /// The access key is not in the credential store.
    UnknownAccessKey,
    /// The signature did not match.
    BadSignature,
    /// The credential is disabled.
    Disabled,
    /// The credential's `expires_at` has passed, or the presigned URL expired.
    Expired,
    /// The authorization header or query is not valid SigV4.
    BadAuthorizationFormat,
    /// The `Credential=` field could not be split.
    BadCredentialField,
    /// The request date is missing or malformed.
    BadDate,
    /// The request date is outside the skew window.
    TimeSkew,
    /// `X-Amz-Expires` is outside 1..=604800: rendered as 400
    /// InvalidArgument, counted as `bad_authorization_format`.
    InvalidExpires,
    /// The STS session has expired: rendered as ExpiredToken, counted as
    /// `expired`.
    SessionExpired,
    /// The session token does not open or belongs to another access key:
    /// rendered as InvalidAccessKeyId, counted as `invalid_token`.
    InvalidSessionToken,
    /// An `x-amz-*` header that must be signed is present but not in
    /// `SignedHeaders`: rendered as AccessDenied, counted as
    /// `unsigned_header`.
    UnsignedHeader,
}

impl AuthFailureReason {
    /// The `reason` label of `s3_auth_failure_total` (docs/errors.md).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownAccessKey => "unknown_access_key",
            Self::BadSignature => "bad_signature",
            Self::Disabled => "disabled",
            Self::Expired | Self::SessionExpired => "expired",
            Self::InvalidSessionToken => "invalid_token",
            Self::BadAuthorizationFormat | Self::InvalidExpires => "bad_authorization_format",
            Self::BadCredentialField => "bad_credential_field",
            Self::BadDate => "bad_date",
            Self::TimeSkew => "time_skew",
            Self::UnsignedHeader => "unsigned_header",
        }
    }
}

/// An authentication failure, safe to show the client (never contains a
/// secret or the expected signature).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthFailure {
    /// Metric reason and error mapping.
    pub reason: AuthFailureReason,
    /// Lowercase description for the client and the log.
    pub message: String,
    /// The access key, once it could be parsed.
    pub access_key: Option<String>,
}

impl AuthFailure {
    /// A failure without access key.
    pub fn new(reason: AuthFailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            access_key: None,
        }
    }

    /// Attaches the access key.
    pub fn with_access_key(mut self, access_key: &str) -> Self {
        self.access_key = Some(access_key.to_owned());
        self
    }

    /// The access key is not known to the lookup.
    pub fn unknown_access_key(access_key: &str) -> Self {
        Self::new(
            AuthFailureReason::UnknownAccessKey,
            format!("access key `{access_key}` is not known"),
        )
    }

    /// The credential of `access_key` is disabled.
    pub fn disabled(access_key: &str) -> Self {
        Self::new(
            AuthFailureReason::Disabled,
            format!("access key `{access_key}` is disabled"),
        )
    }

    /// The credential of `access_key` has expired.
    pub fn expired(access_key: &str) -> Self {
        Self::new(
            AuthFailureReason::Expired,
            format!("access key `{access_key}` has expired"),
        )
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::AuthFailureReason::*;
    use super::*;
    use crate::sigv4::EMPTY_SHA256_HEX;

    #[test]
    fn reason_strings_match_errors_md() {
        let expected = [
            (UnknownAccessKey, "unknown_access_key"),
            (BadSignature, "bad_signature"),
            (Disabled, "disabled"),
            (Expired, "expired"),
            (BadAuthorizationFormat, "bad_authorization_format"),
            (BadCredentialField, "bad_credential_field"),
            (BadDate, "bad_date"),
            (TimeSkew, "time_skew"),
            (UnsignedHeader, "unsigned_header"),
        ];
        for (reason, label) in expected {
            assert_eq!(reason.as_str(), label);
        }
    }

    #[test]
    fn payload_hash_values() {
        assert_eq!(
            PayloadHash::parse("UNSIGNED-PAYLOAD"),
            Some(PayloadHash::Unsigned)
        );
        assert_eq!(
            PayloadHash::parse(EMPTY_SHA256_HEX),
            Some(PayloadHash::Sha256(Sha256::digest(b"").into()))
        );
        assert!(matches!(
            PayloadHash::parse("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            Some(PayloadHash::Streaming(_))
        ));
        for bad in [
            "",
            "unsigned-payload",
            &EMPTY_SHA256_HEX[1..],
            &EMPTY_SHA256_HEX.to_uppercase(),
        ] {
            assert_eq!(PayloadHash::parse(bad), None, "{bad}");
        }
    }
}
