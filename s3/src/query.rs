//! The request's query string, parsed once for every later stage.
//!
//! Sits between **route** and **classify** in the pipeline: classify reads
//! the subresources (`?acl`, `?uploadId=...`) from a [`Query`], and the
//! handlers read their parameters (`prefix`, `max-keys`, ...) from it. The
//! raw query string itself is kept by the caller for the SigV4 canonical
//! request; nothing here re-encodes.
//!
//! # Decoding rules
//!
//! - Pairs are split on `&`, then on the first `=`; empty segments (`a&&b`)
//!   are skipped. Order and duplicates are kept exactly as sent.
//! - Names and values are percent-decoded exactly once (`%252F` becomes
//!   `%2F`). A `%` not followed by two hex digits, or bytes that do not
//!   decode to UTF-8, make the whole query invalid ([`QueryError`], S3 code
//!   `InvalidURI`).
//! - `+` is a space, as AWS S3 reads a query string (and as
//!   `application/x-www-form-urlencoded` defines it); a plus is `%2B`,
//!   which every AWS SDK sends. `+` is replaced before percent-decoding, so
//!   `%2B` stays a plus.
//! - This is the gateway's one query decoding: the SigV4 canonical query
//!   (`auth::sigv4`), the classifier, the handlers and the policy context
//!   all read the pairs [`Query::parse`] makes, so a presigned URL whose
//!   query is re-encoded (`%20` written as `+`, `%2D` as `-`) either fails
//!   its signature or means exactly what was signed. The backends re-encode
//!   decoded values when they talk to an upstream, so the value authorized
//!   is the value the upstream sees.
//! - A name without `=` (`?acl`) has the empty value, exactly like `?acl=`;
//!   [`Query::has`] tells that it is present.

/// A parsed query string: ordered, percent-decoded `(name, value)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Why a query string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A `%` is not followed by two hex digits.
    #[error("the query string has an invalid percent-encoding at `{0}`")]
    InvalidPercentEncoding(String),
    /// The decoded bytes are not UTF-8.
    #[error("the query string does not decode to utf-8")]
    InvalidUtf8,
}

impl QueryError {
    /// The S3 error code for this failure.
    pub fn code(&self) -> &'static str {
        "InvalidURI"
    }
}

impl Query {
    /// Parses a raw query string (without the leading `?`).
    pub fn parse(raw: &str) -> Result<Self, QueryError> {
        let mut pairs = Vec::new();
        for segment in raw.split('&').filter(|segment| !segment.is_empty()) {
            let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
            pairs.push((decode_component(name)?, decode_component(value)?));
        }
        Ok(Self { pairs })
    }

    /// The value of the first parameter called `name`; `Some("")` for a
    /// parameter given without a value (`?acl`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(candidate, _)| *candidate == name)
            .map(|(_, value)| value)
    }

    /// Whether a parameter called `name` is present, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// All parameters in the order they were sent, duplicates included.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The number of parameters, duplicates included.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the query has no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Decodes one query name or value: `+` is a space, then exactly one
/// strict percent-decoding.
fn decode_component(text: &str) -> Result<String, QueryError> {
    let decoded = if text.contains('+') {
        percent_decode_strict(&text.replace('+', " "))
    } else {
        percent_decode_strict(text)
    };
    decoded.map_err(|error| match error {
        DecodeError::InvalidEscape(at) => QueryError::InvalidPercentEncoding(at),
        DecodeError::InvalidUtf8 => QueryError::InvalidUtf8,
    })
}

/// Why [`percent_decode_strict`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// A `%` not followed by two hex digits; carries the offending text.
    InvalidEscape(String),
    /// The decoded bytes are not UTF-8.
    InvalidUtf8,
}

/// Percent-decodes `text` exactly once, refusing malformed escapes (which
/// the `percent-encoding` crate would pass through) and non-UTF-8 results.
/// `+` stays `+` (the rule of paths; a query reads `+` as a space).
pub(crate) fn percent_decode_strict(text: &str) -> Result<String, DecodeError> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    for (index, _) in text.match_indices('%') {
        let escape = bytes.get(index + 1..index + 3);
        if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
            let shown = text[index..].chars().take(3).collect();
            return Err(DecodeError::InvalidEscape(shown));
        }
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| DecodeError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &str) -> Vec<(String, String)> {
        let query = Query::parse(raw).unwrap();
        query
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn keeps_order_duplicates_and_empty_values() {
        assert_eq!(
            pairs("uploads&prefix=a&prefix=b&acl="),
            [
                ("uploads".into(), String::new()),
                ("prefix".into(), "a".into()),
                ("prefix".into(), "b".into()),
                ("acl".into(), String::new()),
            ]
        );
        let query = Query::parse("acl&prefix=a&prefix=b").unwrap();
        assert!(query.has("acl"));
        assert_eq!(query.get("acl"), Some(""));
        assert_eq!(query.get("prefix"), Some("a"));
        assert!(!query.has("policy"));
        assert_eq!(query.len(), 3);
    }

    #[test]
    fn decodes_once_and_reads_plus_as_space() {
        let query = Query::parse("prefix=a%20b+c%2Bd%252F&x%2Did=1&v=a=b&a+b=%2B+").unwrap();
        assert_eq!(query.get("prefix"), Some("a b c+d%2F"));
        assert_eq!(query.get("a b"), Some("+ "));
        assert_eq!(query.get("x-id"), Some("1"));
        assert_eq!(query.get("v"), Some("a=b"));
    }

    #[test]
    fn skips_empty_segments() {
        assert!(Query::parse("").unwrap().is_empty());
        assert_eq!(pairs("&&a=1&"), [("a".into(), "1".into())]);
    }

    #[test]
    fn refuses_bad_escapes_and_non_utf8() {
        for raw in ["a=%", "a=%4", "a=%zz", "%g1=x", "a=%4é"] {
            let error = Query::parse(raw).unwrap_err();
            assert!(
                matches!(error, QueryError::InvalidPercentEncoding(_)),
                "{raw}"
            );
            assert_eq!(error.code(), "InvalidURI");
        }
        assert_eq!(Query::parse("a=%ff%fe"), Err(QueryError::InvalidUtf8));
        assert_eq!(
            Query::parse("a=%zz").unwrap_err().to_string(),
            "the query string has an invalid percent-encoding at `%zz`"
        );
    }

    #[test]
    fn decodes_utf8() {
        assert_eq!(
            Query::parse("prefix=%C3%A9t%C3%A9").unwrap().get("prefix"),
            Some("été")
        );
    }
}
