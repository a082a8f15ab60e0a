//! STS sessions: what `AssumeRoleWithWebIdentity` mints, sealed into a
//! self-contained session token that the *authenticate* stage opens.
//!
//! The gateway keeps no session table: everything a session is (its access
//! key id, its secret, the role, the verified token's issuer, subject and
//! claims, its expiry) travels inside `x-amz-security-token`, sealed with
//! AES-256-GCM under one of the configured seal keys:
//!
//! ```text
//! token = "cgs1." key_id "." base64url(nonce[12] || ciphertext || tag[16])
//! aad   = "cedargate-session-v1:" key_id
//! ```
//!
//! The key id names the key that sealed it, so keys rotate: new sessions are
//! sealed with the first configured key, and every configured key still
//! opens what it sealed. A token that does not open (tampered, truncated,
//! sealed by a removed key) or that names another access key id is refused.
//!
//! A session also stays bound to the configuration: once its role is no
//! longer configured, or would no longer grant it (its issuer, audience,
//! subject or claims no longer match the role's), the session is refused like a token that does not open (AWS answers the
//! credentials of a deleted identity with InvalidClientTokenId, "The
//! security token included in the request is invalid").

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};

use crate::config::{SealKeyConfig, StsConfig};
use cedargate_s3::sigv4::Secret;

const TOKEN_PREFIX: &str = "cgs1.";
const AAD_PREFIX: &str = "cedargate-session-v1:";
/// Longest token accepted before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a session token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// It does not open with any configured key, or is not a session token.
    #[error("the security token included in the request is invalid")]
    Invalid,
    /// It opened, but belongs to another access key id.
    #[error("the security token does not belong to the access key")]
    WrongAccessKey,
}

/// Why the seal keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SealKeyError {
    /// `key_env` names a variable that is not set.
    #[error("environment variable `{0}` is not set")]
    MissingEnv(String),
    /// The value is not base64 of 32 bytes.
    #[error("seal key `{0}` is not base64 of 32 bytes")]
    BadKey(String),
}

/// A minted session: who assumed which role, until when.
#[derive(Clone, Serialize, Deserialize)]
pub struct StsSession {
    /// The access key id (`ASIA...`).
    #[serde(rename = "ak")]
    pub access_key: String,
    /// The secret access key.
    #[serde(rename = "sk")]
    pub secret_key: String,
    /// The assumed role's ARN.
    pub role_arn: String,
    /// The `RoleSessionName`.
    #[serde(rename = "sn")]
    pub session_name: String,
    /// The web identity token's issuer.
    #[serde(rename = "iss")]
    pub issuer: String,
    /// The web identity token's subject.
    #[serde(rename = "sub")]
    pub subject: String,
    /// The audience the token was accepted for.
    #[serde(rename = "aud")]
    pub audience: String,
    /// The token's claims, as strings.
    pub claims: BTreeMap<String, String>,
    /// Expiry, seconds since the Unix epoch.
    #[serde(rename = "exp")]
    pub expires: u64,
}

impl StsSession {
    /// When the session stops working.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires)
    }

    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at() <= now
    }

    /// The secret, wrapped.
    pub fn secret(&self) -> Secret {
        Secret::from(self.secret_key.as_str())
    }

    /// The role's name: the ARN after `role/`.
    pub fn role_name(&self) -> &str {
        self.role_arn
            .rsplit_once(":role/")
            .map_or(self.role_arn.as_str(), |(_, name)| name)
    }

    /// The account named by the role ARN (`arn:aws:iam::<account>:role/x`).
    pub fn account(&self) -> Option<&str> {
        self.role_arn.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

impl fmt::Debug for StsSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsSession")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// The keys that seal and open session tokens, and the roles whose
/// sessions are live.
pub struct SessionSealer {
    /// `(id, key)`; the first seals.
    keys: Vec<(String, LessSafeKey)>,
    /// Role ARN -> what the role admits now; empty until
    /// [`Self::bound_to`], so that an unbound sealer admits no session.
    live: BTreeMap<String, LiveRole>,
}

/// What a configured role admits, as its sessions are checked on each use.
#[derive(Debug, Default)]
struct LiveRole {
    /// The issuer URLs it trusts.
    issuers: Vec<String>,
    /// Its audiences.
    audiences: Vec<String>,
    /// Its subject patterns.
    subjects: Vec<String>,
    /// Its claim patterns.
    claims: BTreeMap<String, String>,
}

impl LiveRole {
    /// Whether a session of this role, from `session`'s token, is one the
    /// role would grant now.
    fn admits(&self, session: &StsSession) -> bool {
        self.issuers.contains(&session.issuer)
            && self.audiences.contains(&session.audience)
            && self
                .subjects
                .iter()
                .any(|pattern| super::jwt::matches_pattern(pattern, &session.subject))
            && self.claims.iter().all(|(claim, pattern)| {
                session
                    .claims
                    .get(claim)
                    .is_some_and(|value| super::jwt::matches_pattern(pattern, value))
            })
    }
}

impl fmt::Debug for SessionSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("SessionSealer")
            .field("key_ids", &ids)
            .finish()
    }
}

fn aead_key(bytes: &[u8]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .ok()
        .map(LessSafeKey::new)
}

impl SessionSealer {
    /// The configured keys; with none, one random key for this process.
    pub fn from_config(keys: &[SealKeyConfig]) -> Result<Self, SealKeyError> {
        if keys.is_empty() {
            let random: [u8; 32] = rand::rng().random();
            return Self::from_keys(vec![("ephemeral".to_owned(), random.to_vec())])
                .ok_or_else(|| SealKeyError::BadKey("ephemeral".to_owned()));
        }
        let mut loaded = Vec::with_capacity(keys.len());
        for key in keys {
            let text = match (&key.key, &key.key_env) {
                (Some(text), _) => text.clone(),
                (None, Some(env)) => {
                    std::env::var(env).map_err(|_| SealKeyError::MissingEnv(env.clone()))?
                }
                (None, None) => return Err(SealKeyError::BadKey(key.id.clone())),
            };
            let bytes = STANDARD
                .decode(text.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| SealKeyError::BadKey(key.id.clone()))?;
            loaded.push((key.id.clone(), bytes));
        }
        Self::from_keys(loaded).ok_or_else(|| SealKeyError::BadKey(keys[0].id.clone()))
    }

    /// Keys as `(id, 32 bytes)`; the first seals.
    pub fn from_keys(keys: Vec<(String, Vec<u8>)>) -> Option<Self> {
        let keys = keys
            .into_iter()
            .map(|(id, bytes)| aead_key(&bytes).map(|key| (id, key)))
            .collect::<Option<Vec<_>>>()?;
        (!keys.is_empty()).then_some(Self {
            keys,
            live: BTreeMap::new(),
        })
    }

    /// The sealer whose sessions are live while their role is configured
    /// in `config` and would still grant them: it trusts their issuer,
    /// accepts their audience, and its subject and claim patterns match
    /// their token's (narrowing a role ends the sessions it no longer
    /// grants).
    pub fn bound_to(mut self, config: &StsConfig) -> Self {
        self.live = config
            .roles
            .iter()
            .map(|role| {
                let issuers = role
                    .issuers
                    .iter()
                    .filter_map(|name| config.issuers.get(name))
                    .map(|issuer| issuer.issuer.clone())
                    .collect();
                let live = LiveRole {
                    issuers,
                    audiences: role.audiences.clone(),
                    subjects: role.subjects.clone(),
                    claims: role.claims.clone(),
                };
                (role.arn.clone(), live)
            })
            .collect();
        self
    }

    /// Whether `session`'s role is configured and would grant it now.
    pub fn is_live(&self, session: &StsSession) -> bool {
        self.live
            .get(&session.role_arn)
            .is_some_and(|role| role.admits(session))
    }

    /// Seals `session` into a token.
    pub fn seal(&self, session: &StsSession) -> Option<String> {
        let (id, key) = self.keys.first()?;
        let mut data = serde_json::to_vec(session).ok()?;
        let nonce_bytes: [u8; NONCE_LEN] = rand::rng().random();
        let aad = format!("{AAD_PREFIX}{id}");
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad.as_bytes()),
            &mut data,
        )
        .ok()?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + data.len());
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&data);
        Some(format!(
            "{TOKEN_PREFIX}{id}.{}",
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Opens `token`, which must belong to `access_key`. Expiry is the
    /// caller's to check (after the signature).
    pub fn open(&self, token: &str, access_key: &str) -> Result<StsSession, SessionError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(SessionError::Invalid);
        }
        let rest = token
            .strip_prefix(TOKEN_PREFIX)
            .ok_or(SessionError::Invalid)?;
        let (id, sealed) = rest.split_once('.').ok_or(SessionError::Invalid)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(known, _)| known == id)
            .ok_or(SessionError::Invalid)?;
        let mut sealed = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SessionError::Invalid)?;
        if sealed.len() < NONCE_LEN {
            return Err(SessionError::Invalid);
        }
        let mut ciphertext = sealed.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&sealed).map_err(|_| SessionError::Invalid)?;
        let aad = format!("{AAD_PREFIX}{id}");
        let plain = key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut ciphertext)
            .map_err(|_| SessionError::Invalid)?;
        let session: StsSession =
            serde_json::from_slice(plain).map_err(|_| SessionError::Invalid)?;
        if session.access_key != access_key {
            return Err(SessionError::WrongAccessKey);
        }
        Ok(session)
    }
}

/// A fresh access key id: `ASIA` and 16 upper-case letters and digits.
pub fn new_access_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let tail: String = (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("ASIA{tail}")
}

/// A fresh secret access key: 40 characters of base64.
pub fn new_secret_key() -> String {
    let bytes: [u8; 30] = rand::rng().random();
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires: u64) -> StsSession {
        StsSession {
            access_key: new_access_key(),
            secret_key: new_secret_key(),
            role_arn: "arn:aws:iam::123456789012:role/ci".into(),
            session_name: "build-1".into(),
            issuer: "https://issuer.example".into(),
            subject: "repo:myorg/app".into(),
            audience: "sts.amazonaws.com".into(),
            claims: BTreeMap::from([("repository".into(), "myorg/app".into())]),
            expires,
        }
    }

    fn sealer(ids: &[(&str, u8)]) -> SessionSealer {
        SessionSealer::from_keys(
            ids.iter()
                .map(|(id, byte)| ((*id).to_owned(), vec![*byte; 32]))
                .collect(),
        )
        .expect("keys")
    }

    #[test]
    fn a_sealed_session_opens_with_its_access_key_only() {
        let sealer = sealer(&[("k1", 1)]);
        let minted = session(2_000_000_000);
        let token = sealer.seal(&minted).expect("seal");
        assert!(token.starts_with("cgs1.k1."), "{token}");
        assert!(!token.contains(&minted.secret_key));
        let opened = sealer.open(&token, &minted.access_key).expect("open");
        assert_eq!(opened.secret_key, minted.secret_key);
        assert_eq!(opened.claims, minted.claims);
        assert_eq!(opened.role_name(), "ci");
        assert_eq!(opened.account(), Some("123456789012"));
        assert_eq!(
            sealer.open(&token, "ASIAOTHERKEY0000000").unwrap_err(),
            SessionError::WrongAccessKey
        );
    }

    #[test]
    fn any_change_to_a_token_is_refused() {
        let sealer = sealer(&[("k1", 1)]);
        let minted = session(2_000_000_000);
        let token = sealer.seal(&minted).expect("seal");
        let mut tampered = 0;
        for index in TOKEN_PREFIX.len() + 3..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).expect("ascii");
            if changed != token {
                assert!(sealer.open(&changed, &minted.access_key).is_err());
                tampered += 1;
            }
        }
        assert!(tampered > 100, "{tampered}");
        for broken in [
            "",
            "cgs1.",
            "cgs1.k1",
            "cgs1.k1.",
            "cgs1.k2.AAAA",
            &token[..token.len() - 4],
        ] {
            assert_eq!(
                sealer.open(broken, &minted.access_key).unwrap_err(),
                SessionError::Invalid,
                "{broken}"
            );
        }
        let huge = format!("cgs1.k1.{}", "A".repeat(MAX_TOKEN_BYTES));
        assert!(sealer.open(&huge, &minted.access_key).is_err());
    }

    #[test]
    fn rotated_keys_keep_opening_until_removed() {
        let old = sealer(&[("old", 1)]);
        let minted = session(2_000_000_000);
        let token = old.seal(&minted).expect("seal");
        let rotated = sealer(&[("new", 2), ("old", 1)]);
        assert!(rotated.open(&token, &minted.access_key).is_ok());
        assert!(
            rotated
                .seal(&minted)
                .expect("seal")
                .starts_with("cgs1.new.")
        );
        let removed = sealer(&[("new", 2)]);
        assert_eq!(
            removed.open(&token, &minted.access_key).unwrap_err(),
            SessionError::Invalid
        );
        // The same id with another key does not open it either.
        let replaced = sealer(&[("old", 3)]);
        assert!(replaced.open(&token, &minted.access_key).is_err());
    }

    #[test]
    fn sessions_live_only_while_their_role_would_grant_them() {
        let ci = "arn:aws:iam::123456789012:role/ci";
        let config = |roles: &str| -> StsConfig {
            toml::from_str(&format!(
                "[issuers.gh]\nissuer = \"https://issuer.example\"\njwks_file = \"k.json\"\n\
                 [issuers.other]\nissuer = \"https://other.example\"\njwks_file = \"o.json\"\n{roles}"
            ))
            .expect("sts table")
        };
        let role = |arn: &str, issuer: &str| {
            format!(
                "[[roles]]\narn = \"{arn}\"\nissuers = [\"{issuer}\"]\naudiences = [\"sts.amazonaws.com\"]\nsubjects = [\"*\"]\n"
            )
        };
        let narrowed = |field: &str| format!("{}{field}\n", role(ci, "gh"));
        let minted = session(2_000_000_000);
        let cases = [
            (role(ci, "gh"), true),
            (narrowed("claims = { repository = \"myorg/*\" }"), true),
            (narrowed("claims = { repository = \"other/*\" }"), false),
            (narrowed("claims = { environment = \"*\" }"), false),
            (role("arn:aws:iam::123456789012:role/other", "gh"), false),
            (role(ci, "other"), false),
            (String::new(), false),
        ];
        for (roles, live) in cases {
            let bound = sealer(&[("k1", 1)]).bound_to(&config(&roles));
            assert_eq!(bound.is_live(&minted), live, "{roles}");
        }
        let other_audience = role(ci, "gh").replace("sts.amazonaws.com", "other");
        let other_subjects = role(ci, "gh").replace("[\"*\"]", "[\"repo:other/*\"]");
        for roles in [other_audience, other_subjects] {
            let bound = sealer(&[("k1", 1)]).bound_to(&config(&roles));
            assert!(!bound.is_live(&minted), "{roles}");
        }
        // An unbound sealer admits no session.
        assert!(!sealer(&[("k1", 1)]).is_live(&minted));
    }

    #[test]
    fn expiry_and_debug() {
        let minted = session(1_000);
        assert!(minted.is_expired(SystemTime::now()));
        assert!(!session(u64::from(u32::MAX) * 2).is_expired(SystemTime::now()));
        let shown = format!("{minted:?}");
        assert!(!shown.contains(&minted.secret_key), "{shown}");
        let key = new_access_key();
        assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
        assert_eq!(new_secret_key().len(), 40);
    }
}
