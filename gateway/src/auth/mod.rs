//! Authentication: who sent the request (pipeline stage 3, after route and
//! classify, before authorize).
//!
//! - [`credentials`]: the static credentials file and the [`CredentialStore`].
//! - [`sigv4`]: SigV4 header and presigned-URL verification,
//!   [`authenticate`].
//! - [`Secret`]: the redacted, zeroized wrapper for secret keys.
//!
//! No body is read here: a signed payload hash or `aws-chunked` signature
//! chain is handed on in [`Authenticated`] for the body stage to verify.

pub mod credentials;
mod secret;
pub mod sigv4;

pub use credentials::{Credential, CredentialStore, CredentialsError};
pub use secret::Secret;
pub use sigv4::{
    AuthFailure, AuthFailureReason, AuthMethod, AuthOutcome, Authenticated, PayloadHash,
    RegionRule, ServiceRules, SignedRequest, SigningContext, VerifierConfig, authenticate,
    authenticate_with_sessions, sha256_hex,
};
