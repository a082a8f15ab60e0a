//! The *authenticate* stage against the gateway's credentials: the S3
//! protocol's SigV4 verifier ([`cedargate_s3::sigv4::verify`]) asks
//! [`Signers`] (the static [`CredentialStore`] and the STS sessions) who
//! signed, and the answer becomes the caller that authorize sees.

use std::sync::Arc;
use std::time::SystemTime;

use cedargate_s3::sigv4::{
    self, AuthFailure, AuthFailureReason, AuthMethod, PayloadHash, Secret, SecretLookup,
    SignedRequest, SigningContext, SigningKeyCache, Verified, VerifierConfig,
};

use cedargate_s3::post::signature::FormSignature;

use super::credentials::{Credential, CredentialStore};
use crate::sts::{SessionError, SessionSealer, StsSession};

/// Result of authentication.
#[derive(Clone, Debug)]
pub enum AuthOutcome {
    /// The request carries no SigV4 authentication.
    Anonymous,
    /// The signature verified.
    Authenticated(Authenticated),
}

/// A verified request.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The credential that signed it (for a session, one made from it).
    pub credential: Arc<Credential>,
    /// The STS session, when the request carried a session token.
    pub session: Option<Arc<StsSession>>,
    /// What the body must hash to; verified by the body stage.
    pub payload: PayloadHash,
    /// Header or presigned URL.
    pub method: AuthMethod,
    /// Key, scope and seed signature for chunk and trailer signatures.
    pub signing: SigningContext,
}

/// Authenticates `req` at time `now` against static credentials only.
/// Never reads a body.
pub fn authenticate(
    req: &SignedRequest<'_>,
    store: &CredentialStore,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<AuthOutcome, AuthFailure> {
    authenticate_with_sessions(req, store, None, config, now)
}

/// Authenticates `req` at time `now` against static credentials and the
/// STS sessions `sessions` sealed. Never reads a body.
pub fn authenticate_with_sessions(
    req: &SignedRequest<'_>,
    store: &CredentialStore,
    sessions: Option<&SessionSealer>,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<AuthOutcome, AuthFailure> {
    let signers = Signers { store, sessions };
    Ok(match sigv4::verify(req, &signers, config, now)? {
        None => AuthOutcome::Anonymous,
        Some(verified) => AuthOutcome::Authenticated(Authenticated::from(verified)),
    })
}

/// Authenticates a POST upload's signed form (see
/// [`cedargate_s3::post::signature`]) at time `now` against static
/// credentials and the STS sessions `sessions` sealed: the credential that
/// signed it, and its session when it carried a session token.
pub fn authenticate_form(
    form: &FormSignature<'_>,
    store: &CredentialStore,
    sessions: Option<&SessionSealer>,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<(Arc<Credential>, Option<Arc<StsSession>>), AuthFailure> {
    let signers = Signers { store, sessions };
    let signer = cedargate_s3::post::signature::verify(form, &signers, config, now)?;
    Ok((signer.credential, signer.session.map(Arc::new)))
}

/// Who may sign: the static credentials and the sessions one sealer opens.
#[derive(Debug)]
pub struct Signers<'a> {
    /// The static credentials.
    pub store: &'a CredentialStore,
    /// The sealer of STS session tokens, when STS is enabled.
    pub sessions: Option<&'a SessionSealer>,
}

/// The signer the lookup found: a static credential, or the credential an
/// STS session signs with and the session.
#[derive(Debug)]
pub struct Signer {
    credential: Arc<Credential>,
    session: Option<StsSession>,
}

impl SecretLookup for Signers<'_> {
    type Signer = Signer;

    fn signer(&self, access_key: &str, token: Option<&str>) -> Result<Signer, AuthFailure> {
        match token {
            Some(token) => {
                let session = open_session(token, access_key, self.sessions)?;
                Ok(Signer {
                    credential: Arc::new(session_credential(&session)),
                    session: Some(session),
                })
            }
            None => self
                .store
                .get(access_key)
                .map(|credential| Signer {
                    credential,
                    session: None,
                })
                .ok_or_else(|| AuthFailure::unknown_access_key(access_key)),
        }
    }

    fn secret(signer: &Signer) -> &Secret {
        &signer.credential.secret_key
    }

    /// Session keys are derived every time: only static keys are cached.
    fn key_cache(&self, signer: &Signer) -> Option<&SigningKeyCache> {
        signer.session.is_none().then(|| self.store.signing_keys())
    }

    fn check(&self, signer: &Signer, now: SystemTime) -> Result<(), AuthFailure> {
        if let Some(session) = &signer.session {
            if !self.sessions.is_some_and(|sealer| sealer.is_live(session)) {
                return Err(AuthFailure::new(
                    AuthFailureReason::InvalidSessionToken,
                    "the security token included in the request is invalid: its role is no longer configured",
                ));
            }
            if session.is_expired(now) {
                return Err(AuthFailure::new(
                    AuthFailureReason::SessionExpired,
                    "the provided token has expired",
                ));
            }
        }
        let credential = &signer.credential;
        if !credential.enabled {
            return Err(AuthFailure::disabled(&credential.access_key));
        }
        if credential.is_expired(now) {
            return Err(AuthFailure::expired(&credential.access_key));
        }
        Ok(())
    }
}

impl From<Verified<Signer>> for Authenticated {
    fn from(verified: Verified<Signer>) -> Self {
        Self {
            credential: verified.signer.credential,
            session: verified.signer.session.map(Arc::new),
            payload: verified.payload,
            method: verified.method,
            signing: verified.signing,
        }
    }
}

fn open_session(
    token: &str,
    access_key: &str,
    sessions: Option<&SessionSealer>,
) -> Result<StsSession, AuthFailure> {
    let refused = |error: SessionError| {
        AuthFailure::new(AuthFailureReason::InvalidSessionToken, error.to_string())
    };
    sessions
        .ok_or(SessionError::Invalid)
        .and_then(|sealer| sealer.open(token, access_key))
        .map_err(refused)
}

/// The credential a session signs with: its principal name is
/// `<role>/<session name>`.
fn session_credential(session: &StsSession) -> Credential {
    Credential::new(
        session.access_key.clone(),
        session.secret(),
        format!("{}/{}", session.role_name(), session.session_name),
    )
}

#[cfg(test)]
mod tests;
