//! Static credentials: the access keys the gateway accepts, loaded from TOML.
//!
//! The authenticate stage looks the SigV4 access key up in a
//! [`CredentialStore`]; the credential's `principal` and `groups` then become
//! the Cedar principal in the authorize stage. A store is immutable: a reload
//! builds a new one (published with `ArcSwap` by the caller), which also drops
//! the SigV4 signing keys cached for the old one.
//!
//! ```toml
//! [[credential]]
//! access_key = "AKIAEXAMPLE"
//! secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
//! principal = "alice"
//! groups = ["admins"]                    # optional, default []
//! enabled = true                         # optional, default true
//! expires_at = "2027-01-01T00:00:00Z"    # optional, RFC 3339 with offset
//! ```
//!
//! # Validation
//!
//! - `access_key`: 3 to 128 characters from `A-Z a-z 0-9 _ -`. This covers
//!   AWS-style keys (`AKIA...`, 16-128 word characters) and short MinIO-style
//!   names, and keeps `/`, `=`, `,` and spaces out, which would make the
//!   SigV4 `Credential=` field ambiguous. Unique across the file.
//! - `secret_key`: not empty, no leading or trailing whitespace (almost always
//!   a copy-and-paste accident that would make every signature fail).
//! - `principal`: not empty. `groups`: no empty names.
//!
//! Errors name the entry as `credential[N]` (0-based, in file order) and the
//! field, never the secret.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::SystemTime;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use cedargate_s3::sigv4::Secret;
use cedargate_s3::sigv4::SigningKeyCache;

/// Shortest accepted access key.
pub const ACCESS_KEY_MIN_LEN: usize = 3;
/// Longest accepted access key (the AWS limit).
pub const ACCESS_KEY_MAX_LEN: usize = 128;

/// One static credential: an access key, its secret and who it stands for.
///
/// `Debug` shows the secret as `***`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// The SigV4 access key id clients send in `Credential=`.
    pub access_key: String,
    /// The SigV4 secret access key; never logged.
    pub secret_key: Secret,
    /// Principal name used by Cedar policies, metrics and logs.
    pub principal: String,
    /// Groups the principal belongs to (Cedar parents of the principal).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether the credential may be used at all.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Instant from which the credential is refused (as `expired`).
    #[serde(default, deserialize_with = "deserialize_expires_at")]
    pub expires_at: Option<OffsetDateTime>,
}

impl Credential {
    /// An enabled credential without groups or expiry.
    pub fn new(
        access_key: impl Into<String>,
        secret_key: impl Into<Secret>,
        principal: impl Into<String>,
    ) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            principal: principal.into(),
            groups: Vec::new(),
            enabled: true,
            expires_at: None,
        }
    }

    /// Whether `expires_at` lies at or before `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at
            .is_some_and(|expires_at| expires_at <= OffsetDateTime::from(now))
    }
}

fn enabled_by_default() -> bool {
    true
}

/// The credentials file: a list of `[[credential]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    /// The credentials, in file order.
    #[serde(default)]
    credential: Vec<Credential>,
}

/// Why a credentials file or list was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read credentials file `{}`: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML did not parse or did not match the expected shape.
    #[error("invalid credentials {}: {message}", parse_location(.path.as_deref(), *.line, *.column))]
    Parse {
        /// The file, when loaded from one.
        path: Option<PathBuf>,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// 1-based column of the error (0 when unknown).
        column: usize,
        /// What is wrong (never contains a secret value).
        message: String,
    },
    /// A field of one entry is invalid.
    #[error("`credential[{index}].{field}` {problem}")]
    InvalidField {
        /// 0-based index of the `[[credential]]` entry.
        index: usize,
        /// The field name.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Two entries share an access key.
    #[error(
        "duplicate access key `{access_key}` in `credential[{first}]` and `credential[{second}]`"
    )]
    DuplicateAccessKey {
        /// The repeated access key.
        access_key: String,
        /// Index of the first entry.
        first: usize,
        /// Index of the repeating entry.
        second: usize,
    },
}

fn parse_location(path: Option<&Path>, line: usize, column: usize) -> String {
    let position = match line {
        0 => String::new(),
        _ => format!(" at line {line}, column {column}"),
    };
    match path {
        Some(path) => format!("file `{}`{position}", path.display()),
        None => format!("document{position}"),
    }
}

/// The immutable set of static credentials, indexed by access key.
#[derive(Debug, Default)]
pub struct CredentialStore {
    /// In file order.
    credentials: Vec<Arc<Credential>>,
    /// Access key -> index in `credentials`.
    index: HashMap<String, usize>,
    signing_keys: SigningKeyCache,
}

impl CredentialStore {
    /// Reads and validates a credentials file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, CredentialsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = zeroize::Zeroizing::new(text);
        Self::from_str(&text).map_err(|err| match err {
            CredentialsError::Parse {
                line,
                column,
                message,
                ..
            } => CredentialsError::Parse {
                path: Some(path.to_owned()),
                line,
                column,
                message,
            },
            other => other,
        })
    }

    /// Validates `credentials` and builds the store.
    pub fn from_credentials(credentials: Vec<Credential>) -> Result<Self, CredentialsError> {
        let mut index: HashMap<String, usize> = HashMap::with_capacity(credentials.len());
        for (position, credential) in credentials.iter().enumerate() {
            validate(position, credential)?;
            if let Some(&first) = index.get(&credential.access_key) {
                return Err(CredentialsError::DuplicateAccessKey {
                    access_key: credential.access_key.clone(),
                    first,
                    second: position,
                });
            }
            index.insert(credential.access_key.clone(), position);
        }
        Ok(Self {
            credentials: credentials.into_iter().map(Arc::new).collect(),
            index,
            signing_keys: SigningKeyCache::default(),
        })
    }

    /// The credential for `access_key`, enabled or not.
    pub fn get(&self, access_key: &str) -> Option<Arc<Credential>> {
        let position = *self.index.get(access_key)?;
        self.credentials.get(position).cloned()
    }

    /// Number of credentials.
    pub fn len(&self) -> usize {
        self.credentials.len()
    }

    /// Whether the store holds no credential.
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
    }

    /// All credentials, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Credential>> {
        self.credentials.iter()
    }

    /// The credentials, in file order (to extend them and build a new store).
    pub fn into_credentials(self) -> Vec<Credential> {
        self.credentials
            .into_iter()
            .map(Arc::unwrap_or_clone)
            .collect()
    }

    /// The SigV4 signing keys derived from this store's secrets.
    pub(crate) fn signing_keys(&self) -> &SigningKeyCache {
        &self.signing_keys
    }
}

impl FromStr for CredentialStore {
    type Err = CredentialsError;

    /// Parses and validates a credentials document (TOML).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let file: CredentialsFile = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map_or((0, 0), |span| line_and_column(text, span.start));
            CredentialsError::Parse {
                path: None,
                line,
                column,
                // `message()` omits the source excerpt, which could show a secret.
                message: err.message().to_owned(),
            }
        })?;
        Self::from_credentials(file.credential)
    }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn validate(index: usize, credential: &Credential) -> Result<(), CredentialsError> {
    let invalid = |field: &'static str, problem: String| CredentialsError::InvalidField {
        index,
        field,
        problem,
    };
    let key = &credential.access_key;
    if !(ACCESS_KEY_MIN_LEN..=ACCESS_KEY_MAX_LEN).contains(&key.len()) {
        return Err(invalid(
            "access_key",
            format!(
                "must be {ACCESS_KEY_MIN_LEN} to {ACCESS_KEY_MAX_LEN} characters long, got {} in `{key}`",
                key.chars().count()
            ),
        ));
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(invalid(
            "access_key",
            format!("may only contain `A-Z a-z 0-9 _ -`, found `{bad}` in `{key}`"),
        ));
    }
    let secret = credential.secret_key.expose_bytes();
    if secret.is_empty() {
        return Err(invalid(
            "secret_key",
            format!("of `{key}` must not be empty"),
        ));
    }
    if secret.first().is_some_and(u8::is_ascii_whitespace)
        || secret.last().is_some_and(u8::is_ascii_whitespace)
    {
        return Err(invalid(
            "secret_key",
            format!("of `{key}` must not start or end with whitespace"),
        ));
    }
    if credential.principal.trim().is_empty() {
        return Err(invalid(
            "principal",
            format!("of `{key}` must not be empty"),
        ));
    }
    if credential
        .groups
        .iter()
        .any(|group| group.trim().is_empty())
    {
        return Err(invalid(
            "groups",
            format!("of `{key}` must not contain an empty group name"),
        ));
    }
    Ok(())
}

/// Accepts `expires_at` as an RFC 3339 string or as a TOML offset date-time.
fn deserialize_expires_at<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    struct ExpiresAt;

    impl<'de> Visitor<'de> for ExpiresAt {
        type Value = OffsetDateTime;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 date-time with an offset, such as `2027-01-01T00:00:00Z`")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<OffsetDateTime, E> {
            OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
                E::custom(format!(
                    "`{value}` is not an RFC 3339 date-time with an offset, such as `2027-01-01T00:00:00Z`"
                ))
            })
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OffsetDateTime, A::Error> {
            let datetime =
                toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
            self.visit_str(&datetime.to_string())
        }
    }

    deserializer.deserialize_any(ExpiresAt).map(Some)
}

#[cfg(test)]
mod tests;
