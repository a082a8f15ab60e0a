//! [`Secret`]: a secret access key that never shows up in logs.
//!
//! The wrapper prints `***` in `Debug` and `Display`, wipes its bytes when
//! dropped (via [`zeroize`]) and hands them out only through the explicitly
//! named [`Secret::expose_bytes`], so a grep for `expose_` finds every place a
//! secret is used. The SigV4 verifier is the only intended caller.
//!
//! Copies made before the secret reached this type (the TOML parser's input
//! buffer, for example) are outside its control.

use std::fmt;

use serde::{Deserialize, Deserializer, de};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A secret string (a SigV4 secret access key): redacted when formatted,
/// zeroized on drop, readable only through [`Secret::expose_bytes`].
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `value`; the string is zeroized when the `Secret` is dropped.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret's bytes. Named so that every use is easy to audit.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length of the secret in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

/// Constant-time in the content (the length is not secret).
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose_bytes().ct_eq(other.expose_bytes()).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Accepts only strings; a mistyped value (a number, a boolean) is rejected
/// without echoing it, so the error message cannot leak the secret.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn not_a_string<E: de::Error>() -> E {
        E::custom("a secret must be a string")
    }
}

impl de::Visitor<'_> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret::from(value))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(Self::not_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_is_redacted() {
        let secret = Secret::from("wJalrXUtnFEMI/K7MDENG");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(***)");
    }

    #[test]
    fn exposes_bytes_and_compares_by_content() {
        let secret = Secret::from("abc");
        assert_eq!(secret.expose_bytes(), b"abc");
        assert_eq!(secret.len(), 3);
        assert!(!secret.is_empty());
        assert_eq!(secret, Secret::from("abc"));
        assert_ne!(secret, Secret::from("abd"));
        assert_ne!(secret, Secret::from("ab"));
    }

    #[test]
    fn deserializes_from_a_string() {
        let secret: Secret = serde_json::from_str("\"s3cr3t\"").unwrap();
        assert_eq!(secret.expose_bytes(), b"s3cr3t");
        let err = serde_json::from_str::<Secret>("1234567").unwrap_err();
        assert!(!err.to_string().contains("1234567"), "{err}");
    }
}
