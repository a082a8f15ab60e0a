//! [`SecretLookup`]: where the verifier finds who signed a request.
//!
//! The verifier knows the SigV4 rules but no credential store: a static
//! credentials file, an STS session token, a test's fixed key are all the
//! caller's. The lookup is asked twice, in the order that keeps a
//! credential's state from anyone without its secret: [`SecretLookup::signer`]
//! before the signature is checked (unknown key, session token that does not
//! open), [`SecretLookup::check`] after it (disabled, expired).

use std::time::SystemTime;

use super::{AuthFailure, Secret, SigningKeyCache};

/// The credentials a verifier checks signatures against.
pub trait SecretLookup {
    /// What the lookup knows about a signer, handed back in
    /// [`super::Verified`] once the signature verified.
    type Signer;

    /// The signer of `access_key`, or, when the request carries a session
    /// token, of that `token` (which must belong to `access_key`).
    ///
    /// # Errors
    ///
    /// [`AuthFailure::unknown_access_key`], or an
    /// [`InvalidSessionToken`](super::AuthFailureReason::InvalidSessionToken)
    /// failure for a token that does not open.
    fn signer(&self, access_key: &str, token: Option<&str>) -> Result<Self::Signer, AuthFailure>;

    /// The secret `signer` signs with.
    fn secret(signer: &Self::Signer) -> &Secret;

    /// Where derived signing keys of `signer` are kept between requests;
    /// `None` derives the key every time (short-lived session keys).
    fn key_cache(&self, signer: &Self::Signer) -> Option<&SigningKeyCache>;

    /// Checks made once the signature verified, so that only the secret's
    /// holder learns the signer's state.
    ///
    /// # Errors
    ///
    /// [`AuthFailure::disabled`], [`AuthFailure::expired`], or whatever
    /// else refuses a signer that proved its secret.
    fn check(&self, signer: &Self::Signer, now: SystemTime) -> Result<(), AuthFailure>;
}
