//! `[sts]`: the roles OIDC tokens may assume, the issuers trusted to sign
//! those tokens, and the keys that seal session tokens.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, invalid};

/// Shortest session AWS allows, in seconds.
pub const MIN_SESSION_SECONDS: u64 = 900;
/// Longest session AWS allows, in seconds (12 hours).
pub const MAX_SESSION_SECONDS: u64 = 43_200;

/// STS settings (`[sts]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StsConfig {
    /// The AWS account id shown in ARNs (`GetCallerIdentity`, assumed-role
    /// ARNs of roles whose ARN names none).
    pub account_id: String,
    /// Largest accepted form body (`AssumeRoleWithWebIdentity` parameters),
    /// in bytes; checked before any byte is parsed.
    pub max_form_bytes: usize,
    /// Leeway for `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: u64,
    /// Keys that seal session tokens. The first one seals new sessions;
    /// every listed key still opens the sessions it sealed, so a key is
    /// rotated by putting a new one first and removed once its sessions
    /// have expired. With none, a random key lives as long as the process.
    pub seal_keys: Vec<SealKeyConfig>,
    /// Issuers whose tokens may be exchanged, by a name roles refer to.
    pub issuers: BTreeMap<String, IssuerConfig>,
    /// Roles that may be assumed.
    pub roles: Vec<RoleConfig>,
}

impl Default for StsConfig {
    fn default() -> Self {
        Self {
            account_id: "000000000000".to_owned(),
            max_form_bytes: 64 * 1024,
            leeway_seconds: 60,
            seal_keys: Vec::new(),
            issuers: BTreeMap::new(),
            roles: Vec::new(),
        }
    }
}

/// One session-token sealing key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealKeyConfig {
    /// Short id written into every token it seals (1 to 16 of `A-Z a-z 0-9 _ -`).
    pub id: String,
    /// The environment variable holding the key: 32 bytes, base64.
    pub key_env: Option<String>,
    /// The key itself (32 bytes, base64); prefer `key_env`.
    pub key: Option<String>,
}

impl std::fmt::Debug for SealKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKeyConfig")
            .field("id", &self.id)
            .field("key_env", &self.key_env)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A trusted issuer and where its signing keys come from
/// (`[sts.issuers.<name>]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer URL, exactly as the tokens' `iss` claim has it.
    pub issuer: String,
    /// A JWKS file (relative to the config file), read when first needed
    /// and again after the TTL.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// The JWKS URL; by default the `jwks_uri` of the issuer's discovery
    /// document (`<iss>/.well-known/openid-configuration`).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// How long fetched keys are used before they are fetched again.
    #[serde(default = "default_jwks_ttl")]
    pub jwks_ttl_seconds: u64,
    /// Shortest time between two fetches caused by unknown `kid`s.
    #[serde(default = "default_refetch")]
    pub refetch_interval_seconds: u64,
}

fn default_jwks_ttl() -> u64 {
    600
}

fn default_refetch() -> u64 {
    30
}

/// A role tokens may assume (`[[sts.roles]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// The `RoleArn` clients ask for, e.g. `arn:aws:iam::123456789012:role/ci`.
    pub arn: String,
    /// Names of the `[sts.issuers]` trusted for this role.
    pub issuers: Vec<String>,
    /// Accepted audiences: the token's `aud` must contain one.
    pub audiences: Vec<String>,
    /// Patterns the token's `sub` must match, `*` matching any run of
    /// characters (`repo:myorg/*`). A mismatch is InvalidIdentityToken.
    pub subjects: Vec<String>,
    /// Further claims the token must carry, with patterns like `subjects`
    /// (`{ repository_owner = "myorg" }`). A token that is valid but fails
    /// one is AccessDenied.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// Longest session, in seconds (900 to 43200; default 3600).
    #[serde(default = "default_max_session")]
    pub max_session_seconds: u64,
}

fn default_max_session() -> u64 {
    3600
}

impl RoleConfig {
    /// The role's name: the ARN after `role/` (or the whole ARN).
    pub fn name(&self) -> &str {
        self.arn
            .rsplit_once(":role/")
            .map_or(self.arn.as_str(), |(_, name)| name)
    }
}

impl StsConfig {
    /// Resolves relative JWKS files against `dir`.
    pub(super) fn resolve(&mut self, dir: &std::path::Path) {
        for issuer in self.issuers.values_mut() {
            if let Some(file) = &issuer.jwks_file {
                issuer.jwks_file = Some(dir.join(file));
            }
        }
    }

    /// Checks the table; errors name the field.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("sts.account_id", "must be 12 digits"));
        }
        if self.max_form_bytes < 1024 {
            return Err(invalid("sts.max_form_bytes", "must be at least 1024"));
        }
        let mut ids = Vec::new();
        for (index, key) in self.seal_keys.iter().enumerate() {
            let field = |name: &str| format!("sts.seal_keys[{index}].{name}");
            let valid_id = (1..=16).contains(&key.id.len())
                && key
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid_id {
                return Err(invalid(field("id"), "must be 1 to 16 of `A-Z a-z 0-9 _ -`"));
            }
            if ids.contains(&key.id.as_str()) {
                return Err(invalid(
                    field("id"),
                    format!("`{}` is listed twice", key.id),
                ));
            }
            ids.push(&key.id);
            if key.key.is_some() == key.key_env.is_some() {
                return Err(invalid(
                    field("key"),
                    "set exactly one of `key` and `key_env`",
                ));
            }
        }
        for (name, issuer) in &self.issuers {
            let field = |field: &str| format!("sts.issuers.{name}.{field}");
            let iss = &issuer.issuer;
            if !iss.starts_with("https://") && !iss.starts_with("http://") {
                return Err(invalid(field("issuer"), "an issuer is an http(s) URL"));
            }
            if issuer.jwks_file.is_some() && issuer.jwks_url.is_some() {
                return Err(invalid(
                    field("jwks_url"),
                    "set at most one of `jwks_file` and `jwks_url`",
                ));
            }
            if issuer.jwks_ttl_seconds == 0 {
                return Err(invalid(field("jwks_ttl_seconds"), "must be at least 1"));
            }
        }
        let mut arns = Vec::new();
        for (index, role) in self.roles.iter().enumerate() {
            let field = |name: &str| format!("sts.roles[{index}].{name}");
            if role.arn.is_empty() || arns.contains(&role.arn.as_str()) {
                return Err(invalid(field("arn"), "must be set and unique"));
            }
            arns.push(&role.arn);
            if role.issuers.is_empty() {
                return Err(invalid(field("issuers"), "name at least one issuer"));
            }
            if let Some(unknown) = role
                .issuers
                .iter()
                .find(|iss| !self.issuers.contains_key(*iss))
            {
                return Err(invalid(
                    field("issuers"),
                    format!("`{unknown}` is not listed in `sts.issuers`"),
                ));
            }
            if role.audiences.is_empty() {
                return Err(invalid(field("audiences"), "name at least one audience"));
            }
            if role.subjects.is_empty() {
                return Err(invalid(
                    field("subjects"),
                    "name at least one subject pattern (`*` for any)",
                ));
            }
            if !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&role.max_session_seconds) {
                return Err(invalid(
                    field("max_session_seconds"),
                    format!("must be between {MIN_SESSION_SECONDS} and {MAX_SESSION_SECONDS}"),
                ));
            }
        }
        Ok(())
    }
}
