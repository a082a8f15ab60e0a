//! Authentication: who sent the request (pipeline stage 3, after route and
//! classify, before authorize).
//!
//! - [`credentials`]: the static credentials file and the [`CredentialStore`].
//! - [`verify`]: [`authenticate`], the S3 protocol's SigV4 verifier
//!   ([`cedargate_s3::sigv4`]) run against the credentials and STS sessions.
//!
//! No body is read here: a signed payload hash or `aws-chunked` signature
//! chain is handed on in [`Authenticated`] for the body stage to verify.

pub mod credentials;
pub mod verify;

pub use credentials::{Credential, CredentialStore, CredentialsError};
pub use verify::{
    AuthOutcome, Authenticated, authenticate, authenticate_form, authenticate_with_sessions,
};
