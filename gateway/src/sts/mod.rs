//! STS at the gateway's endpoint: `AssumeRoleWithWebIdentity` trades an
//! OIDC token (GitHub Actions, GitLab, Kubernetes service accounts...) for
//! short-lived credentials scoped by Cedar policies; `GetCallerIdentity`
//! says who signed a request.
//!
//! Requests use AWS's query API: `POST /` with an
//! `application/x-www-form-urlencoded` body (or the parameters in the query
//! string) naming `Action` and `Version=2011-06-15`, so
//! `boto3.client("sts", endpoint_url=...)` and
//! `aws sts assume-role-with-web-identity --endpoint-url ...` work unchanged.
//! The form body is capped (`sts.max_form_bytes`) before a byte is parsed.
//!
//! # AssumeRoleWithWebIdentity
//!
//! Checked in this order, each failure an `<ErrorResponse>`:
//!
//! | check | error |
//! |---|---|
//! | `RoleArn`, `RoleSessionName` (2-64 of `\w+=,.@-`), `WebIdentityToken` present; no session `Policy` / `PolicyArns` | 400 InvalidParameterValue |
//! | `DurationSeconds`, when given, in 900 ..= 43200 | 400 InvalidParameterValue |
//! | the token verifies (see [`jwt`]) with the keys of a configured issuer of its `iss`: algorithm, `kid`, no `crit`, signature, `exp`, `nbf`, `iat` | 400 InvalidIdentityToken |
//! | one of its audiences is accepted by some configured role | 400 InvalidIdentityToken |
//! | `RoleArn` is a configured role that trusts that issuer, accepts one of the audiences, and whose `subjects` and `claims` patterns match | 403 AccessDenied |
//! | `DurationSeconds` at most the role's `max_session_seconds` (default 3600, or the maximum if lower) | 400 InvalidParameterValue |
//! | the issuer's keys could be had | 500 InternalError (generic message, cause logged) |
//!
//! An unknown role and a role that refuses the token answer the same 403
//! AccessDenied, "Not authorized to perform sts:AssumeRoleWithWebIdentity",
//! as AWS does: nothing before the token is verified depends on the role,
//! so the answers cannot tell which roles exist (short of a role whose own
//! issuer's keys cannot be fetched, which answers the 500). Why a token was
//! refused is logged (values escaped), never answered.
//!
//! The answer carries an access key id (`ASIA...`), a secret, and a
//! session token sealed as [`session`] describes; nothing is stored. The
//! session signs S3 requests like any credential, with
//! `x-amz-security-token`, and becomes the Cedar principal
//! `Session::"<iss>#<sub>"` with `role`, `issuer` and `subject`
//! attributes and the token's claims as tags
//! (`principal.getTag("repository") like "myorg/*"`). A session used past
//! its expiry answers 403 ExpiredToken (400 in the `aws` profile); a token
//! that does not open, or belongs to another access key, or whose role is
//! no longer configured (or would no longer grant it: issuer, audience,
//! subject and claims are checked against the role on each use), 401
//! InvalidAccessKeyId (reason `invalid_token`; GetCallerIdentity answers
//! 403 InvalidClientTokenId, as AWS does for the credentials of a deleted
//! identity). Sessions are capped at their role's `max_session_seconds`,
//! `cedargate sts mint-session` included.
//!
//! # GetCallerIdentity
//!
//! Signed with SigV4 for service `sts` (body hash included): static
//! credentials answer `arn:aws:iam::<account_id>:user/<principal>` with the
//! access key as `UserId`; sessions answer
//! `arn:aws:sts::<account>:assumed-role/<role>/<session name>`.

pub mod jwks;
pub mod jwt;
pub mod session;
pub mod xml;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::config::{MAX_SESSION_SECONDS, MIN_SESSION_SECONDS, RoleConfig, StsConfig};
use jwks::JwksCache;
pub use session::{SessionError, SessionSealer, StsSession};

/// The only STS API version.
pub const VERSION: &str = "2011-06-15";

/// An STS error, rendered as `<ErrorResponse>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    /// HTTP status.
    pub status: u16,
    /// The STS error code.
    pub code: &'static str,
    /// What the client is told.
    pub message: String,
}

impl StsError {
    /// 400 InvalidParameterValue.
    pub fn parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterValue", message)
    }

    /// 500 InternalError with the generic message; log the cause apart.
    pub fn internal() -> Self {
        Self::new(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// Any error.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The `<ErrorResponse>` document.
    pub fn to_xml(&self, request_id: &str) -> String {
        xml::error_response(self.status, self.code, &self.message, request_id)
    }
}

/// The STS request parameters (form body and query), by name.
#[derive(Debug, Default, Clone)]
pub struct StsParams(BTreeMap<String, String>);

impl StsParams {
    /// Parameters from a query string and a form body; a name given twice
    /// is refused.
    pub fn parse(query: &str, form: &[u8]) -> Result<Self, StsError> {
        let mut params = BTreeMap::new();
        let pairs = form_urlencoded::parse(query.as_bytes()).chain(form_urlencoded::parse(form));
        for (name, value) in pairs {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(StsError::parameter(format!(
                    "parameter `{name}` is given more than once"
                )));
            }
        }
        Ok(Self(params))
    }

    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn required(&self, name: &str) -> Result<&str, StsError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| StsError::parameter(format!("the `{name}` parameter is required")))
    }

    /// `Action`, and a `Version` that, when given, is [`VERSION`].
    pub fn action(&self) -> Result<&str, StsError> {
        if let Some(version) = self.get("Version")
            && version != VERSION
        {
            return Err(StsError::parameter(format!(
                "unsupported Version `{version}`; use {VERSION}"
            )));
        }
        self.required("Action")
    }
}

/// The STS service: roles, the issuers' keys, the session sealer.
#[derive(Debug)]
pub struct StsService {
    config: StsConfig,
    keys: JwksCache,
    sealer: SessionSealer,
}

fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// A stable role id for `arn`: `AROA` and 17 characters of its hash.
pub fn role_id(arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(arn.as_bytes());
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
        .collect();
    format!("AROA{tail}")
}

/// AWS's answer to a web identity that may not assume the role, or to a
/// role that does not exist: the same, so that roles cannot be enumerated.
fn not_authorized() -> StsError {
    StsError::new(
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
}

/// What a successful exchange produced.
#[derive(Debug)]
pub struct Minted {
    /// The session.
    pub session: StsSession,
    /// Its sealed token.
    pub token: String,
}

impl StsService {
    /// The service for `config`, with its sealer.
    pub fn new(config: StsConfig, sealer: SessionSealer) -> Self {
        let keys = JwksCache::new(&config.issuers);
        let sealer = sealer.bound_to(&config);
        Self {
            config,
            keys,
            sealer,
        }
    }

    /// The sealer, for the authenticate stage.
    pub fn sealer(&self) -> &SessionSealer {
        &self.sealer
    }

    /// The account shown in static credentials' ARNs.
    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }

    /// The largest form body accepted.
    pub fn max_form_bytes(&self) -> usize {
        self.config.max_form_bytes
    }

    fn role(&self, arn: &str) -> Option<&RoleConfig> {
        self.config.roles.iter().find(|role| role.arn == arn)
    }

    /// `AssumeRoleWithWebIdentity`: the answer document or the error.
    pub async fn assume_role_with_web_identity(
        &self,
        params: &StsParams,
        request_id: &str,
        now: SystemTime,
    ) -> Result<String, StsError> {
        let minted = self.exchange(params, now).await?;
        let session = &minted.session;
        let account = session.account().unwrap_or(&self.config.account_id);
        let arn = format!(
            "arn:aws:sts::{account}:assumed-role/{}/{}",
            session.role_name(),
            session.session_name
        );
        let assumed_role_id = format!("{}:{}", role_id(&session.role_arn), session.session_name);
        Ok(xml::assumed_role(
            &xml::AssumedRole {
                access_key: &session.access_key,
                secret_key: &session.secret_key,
                session_token: &minted.token,
                expiration: session.expires_at(),
                arn: &arn,
                assumed_role_id: &assumed_role_id,
                subject: &session.subject,
                audience: &session.audience,
                provider: &session.issuer,
            },
            request_id,
        ))
    }

    /// Checks the parameters and the token, and mints the session.
    pub async fn exchange(&self, params: &StsParams, now: SystemTime) -> Result<Minted, StsError> {
        let role_arn = params.required("RoleArn")?;
        let session_name = params.required("RoleSessionName")?;
        let token = params.required("WebIdentityToken")?;
        if !valid_session_name(session_name) {
            return Err(StsError::parameter(
                "RoleSessionName must be 2 to 64 of `A-Z a-z 0-9 _ + = , . @ -`",
            ));
        }
        if params.get("Policy").is_some()
            || params.0.keys().any(|name| name.starts_with("PolicyArns"))
        {
            return Err(StsError::parameter(
                "session policies are not supported: sessions are scoped by the gateway's Cedar policies",
            ));
        }
        // Nothing up to the token's verification depends on the role, so
        // an unknown role and a refused one answer alike.
        let requested = match params.get("DurationSeconds") {
            None => None,
            Some(text) => Some(
                text.parse::<u64>()
                    .ok()
                    .filter(|d| (MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(d))
                    .ok_or_else(|| {
                        StsError::parameter(format!(
                            "DurationSeconds must be between {MIN_SESSION_SECONDS} and {MAX_SESSION_SECONDS}"
                        ))
                    })?,
            ),
        };
        let role = self.role(role_arn);
        // The role's own issuers first: when their keys cannot be had the
        // answer is an internal error. A token from none of them is then
        // verified against every configured issuer, as it is for a role
        // that does not exist, so that both are refused alike below.
        let every_issuer: Vec<String> = self.config.issuers.keys().cloned().collect();
        let leeway = self.config.leeway_seconds;
        let verified = match role {
            Some(role) => match jwt::verify(token, &role.issuers, &self.keys, leeway).await {
                Err(jwt::TokenError::UntrustedIssuer(_)) => {
                    jwt::verify(token, &every_issuer, &self.keys, leeway).await
                }
                other => other,
            },
            None => jwt::verify(token, &every_issuer, &self.keys, leeway).await,
        }
        .map_err(|error| match error {
            jwt::TokenError::Keys(_) => StsError::internal(),
            refused => StsError::new(400, "InvalidIdentityToken", refused.to_string()),
        })?;
        if !self.config.roles.iter().any(|role| {
            verified
                .audiences
                .iter()
                .any(|aud| role.audiences.contains(aud))
        }) {
            return Err(StsError::new(
                400,
                "InvalidIdentityToken",
                "the web identity token's audience is not accepted",
            ));
        }
        let (role, audience) = role
            .ok_or("the role is not configured")
            .and_then(|role| self.admits(role, &verified).map(|aud| (role, aud)))
            .map_err(|reason| {
                tracing::info!(
                    role = %crate::telemetry::escaped(role_arn),
                    issuer = %crate::telemetry::escaped(&verified.issuer),
                    subject = %crate::telemetry::escaped(&verified.subject),
                    reason,
                    "web identity refused"
                );
                not_authorized()
            })?;
        let duration = match requested {
            None => role.max_session_seconds.min(3600),
            Some(duration) if duration <= role.max_session_seconds => duration,
            Some(_) => {
                return Err(StsError::parameter(format!(
                    "DurationSeconds exceeds this role's maximum session duration ({} s)",
                    role.max_session_seconds
                )));
            }
        };
        let expires = now
            .checked_add(Duration::from_secs(duration))
            .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let session = StsSession {
            access_key: session::new_access_key(),
            secret_key: session::new_secret_key(),
            role_arn: role.arn.clone(),
            session_name: session_name.to_owned(),
            issuer: verified.issuer,
            subject: verified.subject,
            audience,
            claims: verified.claims,
            expires,
        };
        let token = self.sealer.seal(&session).ok_or_else(|| {
            tracing::error!("a session could not be sealed");
            StsError::internal()
        })?;
        tracing::info!(
            role = %session.role_arn,
            issuer = %crate::telemetry::escaped(&session.issuer),
            subject = %crate::telemetry::escaped(&session.subject),
            access_key = %session.access_key,
            expires = session.expires,
            "session minted"
        );
        Ok(Minted { session, token })
    }

    /// What `role` requires of a verified token: one of its issuers, one of
    /// its audiences (the one returned), one of its subject patterns, and
    /// its claim patterns. The reason is for the log only.
    fn admits(
        &self,
        role: &RoleConfig,
        token: &jwt::VerifiedToken,
    ) -> Result<String, &'static str> {
        if !role.issuers.contains(&token.issuer_name) {
            return Err("the role does not trust the token's issuer");
        }
        let audience = token
            .audiences
            .iter()
            .find(|aud| role.audiences.contains(aud))
            .ok_or("the role does not accept the token's audience")?;
        if !role
            .subjects
            .iter()
            .any(|pattern| jwt::matches_pattern(pattern, &token.subject))
        {
            return Err("the token's subject does not match the role's subjects");
        }
        for (claim, pattern) in &role.claims {
            let value = token.claims.get(claim).map(String::as_str);
            if !value.is_some_and(|v| jwt::matches_pattern(pattern, v)) {
                return Err("a claim of the token does not match the role's claims");
            }
        }
        Ok(audience.clone())
    }

    /// Seals a session minted outside an exchange (the `sts mint-session`
    /// command: fixtures and break-glass access).
    pub fn seal(&self, session: &StsSession) -> Option<String> {
        self.sealer.seal(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_come_from_query_and_form_once_each() {
        let params = StsParams::parse(
            "Action=AssumeRoleWithWebIdentity",
            b"Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fci&RoleSessionName=a+b",
        )
        .expect("parse");
        assert_eq!(params.action(), Ok("AssumeRoleWithWebIdentity"));
        assert_eq!(params.get("RoleArn"), Some("arn:aws:iam::1:role/ci"));
        assert_eq!(params.get("RoleSessionName"), Some("a b"));
        assert!(StsParams::parse("Action=A", b"Action=B").is_err());
        let wrong = StsParams::parse("Action=X&Version=2010-01-01", b"").expect("parse");
        assert_eq!(wrong.action().unwrap_err().code, "InvalidParameterValue");
        let none = StsParams::parse("", b"").expect("parse");
        assert_eq!(none.action().unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn session_names_and_role_ids() {
        for ok in ["ci", "build-42", "a@b.c", "x_+=,.@-y"] {
            assert!(valid_session_name(ok), "{ok}");
        }
        for bad in ["", "a", "has space", "slash/no", &"x".repeat(65)] {
            assert!(!valid_session_name(bad), "{bad}");
        }
        let id = role_id("arn:aws:iam::123456789012:role/ci");
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        assert_eq!(id, role_id("arn:aws:iam::123456789012:role/ci"));
        assert_ne!(id, role_id("arn:aws:iam::123456789012:role/other"));
    }
}
