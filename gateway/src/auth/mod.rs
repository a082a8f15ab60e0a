//! Authentication: who sent the request (pipeline stage 3, after route and
//! classify, before authorize).
//!
//! - [`credentials`]: the static credentials file and the [`CredentialStore`].
//! - [`verify`]: [`authenticate`], the S3 protocol's SigV4 verifier
//!   ([`cedargate_s3::sigv4`]) run against the credentials and STS sessions.
//! - [`Secret`]: the redacted, zeroized wrapper for secret keys.
//!
//! No body is read here: a signed payload hash or `aws-chunked` signature
//! chain is handed on in [`Authenticated`] for the body stage to verify.

pub mod credentials;
pub mod verify;

/// The SigV4 protocol items at their former path.
pub mod sigv4 {
    pub use super::verify::*;
    pub use cedargate_s3::sigv4::*;
}

/// [`Secret`] at its former path.
mod secret {
    pub use cedargate_s3::sigv4::Secret;
}

pub use cedargate_s3::sigv4::{
    AuthFailure, AuthFailureReason, AuthMethod, PayloadHash, RegionRule, Secret, ServiceRules,
    SignedRequest, SigningContext, VerifierConfig, sha256_hex,
};
pub use credentials::{Credential, CredentialStore, CredentialsError};
pub use verify::{AuthOutcome, Authenticated, authenticate, authenticate_with_sessions};
