//! The trailing headers of an `aws-chunked` body (`...-PAYLOAD-TRAILER`
//! modes): parsing, the declared-name check, and the trailer signature.
//!
//! After the final (zero-length) chunk a client sends `name:value\r\n` lines
//! for the names it declared in `x-amz-trailer`, then, in the signed mode,
//! `x-amz-trailer-signature:<64 hex>\r\n`, then an empty line. The trailer
//! signature is an HMAC under the request's signing key of
//!
//! ```text
//! AWS4-HMAC-SHA256-TRAILER
//! <x-amz-date>
//! <credential scope>
//! <signature of the final chunk>
//! <hex SHA-256 of the canonical trailers>
//! ```
//!
//! where the canonical trailers are `lowercase-name:trimmed-value\n` per
//! trailer, sorted by name (the signature line excluded). This is what the
//! `aws-sigv4` crate's `sign_trailer` computes, and it reproduces AWS's
//! documented signed-trailer example (see the tests of `chunked`).

use sha2::{Digest, Sha256};

use crate::sigv4::SigningContext;
use crate::sigv4::signatures_match;

/// Name of the trailer that carries the trailer signature.
pub const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// The trailing headers a client sent, names lowercased, in arrival order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trailers {
    entries: Vec<(String, String)>,
}

impl Trailers {
    /// The value of trailer `name` (lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Number of trailers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no trailer was sent.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The trailers as `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub(crate) fn push(&mut self, name: String, value: String) {
        self.entries.push((name, value));
    }

    /// The bytes the trailer signature covers: `name:value\n` per trailer,
    /// sorted by name.
    pub fn canonical(&self) -> Vec<u8> {
        let mut sorted: Vec<&(String, String)> = self.entries.iter().collect();
        sorted.sort();
        let mut out = Vec::new();
        for (name, value) in sorted {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Whether `claimed` is the signature of these trailers chained after
    /// `previous_signature` (the final chunk's), compared in constant time.
    pub fn signature_matches(
        &self,
        signing: &SigningContext,
        previous_signature: &str,
        claimed: &str,
    ) -> bool {
        let hash: [u8; 32] = Sha256::digest(self.canonical()).into();
        let expected = signing.trailer_signature(previous_signature, &hash);
        signatures_match(&expected, claimed)
    }
}

/// One parsed trailer line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TrailerLine {
    /// Lowercased name.
    pub(crate) name: String,
    /// Value without surrounding whitespace.
    pub(crate) value: String,
}

/// Parses `name:value` (the CRLF already removed): the name must be an
/// HTTP token, the value visible ASCII or spaces; whitespace around the
/// value is dropped. The error is a lowercase reason.
pub(crate) fn parse_line(line: &[u8]) -> Result<TrailerLine, &'static str> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or("trailer line has no `:`")?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
        return Err("trailer name is not a valid header name");
    }
    if !value
        .iter()
        .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
    {
        return Err("trailer value contains a control or non-ASCII byte");
    }
    let value = value.trim_ascii();
    Ok(TrailerLine {
        name: String::from_utf8_lossy(name).to_ascii_lowercase(),
        value: String::from_utf8_lossy(value).into_owned(),
    })
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_canonicalises() {
        let line = parse_line(b"X-Amz-Checksum-CRC32: DUoRhQ== ").unwrap();
        assert_eq!(line.name, "x-amz-checksum-crc32");
        assert_eq!(line.value, "DUoRhQ==");
        let mut trailers = Trailers::default();
        trailers.push("x-b".into(), "2".into());
        trailers.push(line.name, line.value);
        assert_eq!(
            trailers.canonical(),
            b"x-amz-checksum-crc32:DUoRhQ==\nx-b:2\n"
        );
        assert_eq!(trailers.get("x-b"), Some("2"));
        assert_eq!(trailers.len(), 2);
        assert_eq!(trailers.iter().count(), 2);
        assert!(Trailers::default().canonical().is_empty());
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b"no colon"[..],
            b":value",
            b"bad name:value",
            b"name\x01:value",
            b"name:val\x00ue",
            b"name:\xff",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
    }
}
