//! How to reach the Redis server, and keeping its password out of logs:
//! [`RedisSettings`] never shows it in `Debug`, and [`Secrets`] scrubs it
//! from error messages.

use std::fmt;
use std::time::Duration;

/// How to reach the Redis server and how long to wait for it.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port/db` (or `unix://` for a socket).
    /// `Debug` shows it with the password replaced by `***`.
    pub url: String,
    /// Prefix of every key the store writes (`PREFIX:quota:...`,
    /// `PREFIX:rate:...`), so that several deployments can share a server.
    pub key_prefix: String,
    /// Bound on establishing a connection (TCP connect and handshake).
    pub connect_timeout: Duration,
    /// Bound on waiting for the answer to one command.
    pub response_timeout: Duration,
    /// How long the reservations of this process outlive its last word on a
    /// bucket: when a process stops without settling its writes in flight,
    /// other processes drop them this long after it last renewed its lease.
    pub lease: Duration,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379/".to_owned(),
            key_prefix: "cedargate".to_owned(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            lease: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &redact(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("lease", &self.lease)
            .finish()
    }
}

/// `url` with its passwords replaced by `***`: the password of its user
/// info, and the value of a `pass` (or `password`) query parameter, the
/// way a `redis+unix://` or `unix://` URL gives one.
pub(super) fn redact(url: &str) -> String {
    let mut shown = String::with_capacity(url.len());
    let mut from = 0;
    for (start, end) in password_spans(url) {
        shown.push_str(&url[from..start]);
        shown.push_str("***");
        from = end;
    }
    shown.push_str(&url[from..]);
    shown
}

/// Whether `url` gives a password (in its user info or its query).
pub fn url_holds_password(url: &str) -> bool {
    !password_spans(url).is_empty()
}

/// Byte ranges of the passwords of `url`, in order, not overlapping: the
/// user info's, then those of the query parameters after it.
fn password_spans(url: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut query_from = 0;
    if let Some((start, end)) = user_info_password_span(url) {
        spans.push((start, end));
        query_from = end;
    }
    spans.extend(query_password_spans(url, query_from));
    spans
}

/// Byte range of the password in `scheme://user:password@host...`: all
/// after the first `:` of the user info, which runs to the *last* `@`
/// (not to the first `/`, `?` or `#`), so that a password holding those
/// characters, or a URL that does not parse, is still found whole.
fn user_info_password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = match url.find("://") {
        Some(at) => at + 3,
        None => url.find(':').map_or(0, |at| at + 1),
    };
    let rest = &url[authority_start..];
    let user_info = &rest[..rest.rfind('@')?];
    let colon = user_info.find(':')?;
    Some((
        authority_start + colon + 1,
        authority_start + user_info.len(),
    ))
}

/// Byte ranges of the values of `pass=` and `password=` parameters (names
/// in any case) that follow a `?` or `&` at or after `from`; each runs to
/// the next `&` or `#`.
fn query_password_spans(url: &str, from: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let bytes = url.as_bytes();
    let mut at = from;
    while let Some(offset) = url[at..].find(['?', '&']) {
        let name_start = at + offset + 1;
        let rest = &url[name_start..];
        let value_start = ["pass=", "password="].iter().find_map(|name| {
            rest.get(..name.len())
                .filter(|head| head.eq_ignore_ascii_case(name))
                .map(|_| name_start + name.len())
        });
        at = name_start;
        if let Some(start) = value_start {
            let end = url[start..]
                .find(['&', '#'])
                .map_or(bytes.len(), |length| start + length);
            spans.push((start, end));
            at = end;
        }
    }
    spans
}

/// Every spelling of a password that could appear in a message.
pub(super) struct Secrets(Vec<String>);

impl Secrets {
    /// The password of `url` as written and decoded, plus `parsed` (the
    /// password as the client understood it).
    pub(super) fn new(url: &str, parsed: Option<&str>) -> Self {
        let mut secrets = Vec::new();
        for (start, end) in password_spans(url) {
            let raw = &url[start..end];
            secrets.push(raw.to_owned());
            secrets.push(
                percent_encoding::percent_decode_str(raw)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
        secrets.extend(parsed.map(str::to_owned));
        secrets.retain(|secret| !secret.is_empty());
        // Longest first, so that no shorter spelling leaves part of a longer one.
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Self(secrets)
    }

    /// `message` with every spelling of the password replaced by `***`.
    pub(super) fn scrub(&self, message: &str) -> String {
        self.0.iter().fold(message.to_owned(), |message, secret| {
            message.replace(secret.as_str(), "***")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows_in_debug_or_messages() {
        let url = "redis://app:s%3Acret@cache.internal:6380/2";
        assert_eq!(redact(url), "redis://app:***@cache.internal:6380/2");
        let settings = RedisSettings {
            url: url.to_owned(),
            ..RedisSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s%3Acret"), "{shown}");
        let secrets = Secrets::new(url, Some("s:cret"));
        assert_eq!(
            secrets.scrub("auth s:cret and s%3Acret failed"),
            "auth *** and *** failed"
        );
    }

    #[test]
    fn a_password_given_as_a_query_parameter_is_redacted() {
        let table = [
            (
                "redis+unix:///run/redis.sock?pass=s3cret",
                "redis+unix:///run/redis.sock?pass=***",
            ),
            (
                "unix:///run/redis.sock?db=2&password=s3cret&user=app",
                "unix:///run/redis.sock?db=2&password=***&user=app",
            ),
            (
                "redis+unix:///run/redis.sock?PASS=a%26b#frag",
                "redis+unix:///run/redis.sock?PASS=***#frag",
            ),
            (
                "redis://app:pw@host/0?pass=second",
                "redis://app:***@host/0?pass=***",
            ),
            (
                "unix:///run/redis.sock?passive=1",
                "unix:///run/redis.sock?passive=1",
            ),
        ];
        for (url, shown) in table {
            assert_eq!(redact(url), shown, "{url}");
            assert_eq!(url_holds_password(url), shown != url, "{url}");
        }
        let secrets = Secrets::new("unix:///s?pass=a%26b", None);
        assert_eq!(secrets.scrub("auth a%26b a&b"), "auth *** ***");
    }

    #[test]
    fn urls_without_a_password_are_shown_as_they_are() {
        for url in [
            "redis://127.0.0.1:6379/",
            "redis://user@host/0",
            "redis://host/a@b",
            "unix:///tmp/redis.sock",
            "not a url",
        ] {
            assert_eq!(redact(url), url);
        }
        assert_eq!(redact("redis://:pw@host"), "redis://:***@host");
    }

    #[test]
    fn passwords_holding_url_delimiters_are_redacted_whole() {
        let table = [
            (
                "redis://app:pa/ss@host:6379/0",
                "redis://app:***@host:6379/0",
            ),
            ("redis://app:p#w@host/1", "redis://app:***@host/1"),
            ("redis://:p?w=1@host", "redis://:***@host"),
            ("redis://u:a/b?c#d@e@host/2", "redis://u:***@host/2"),
            ("redis:app:secret@host", "redis:app:***@host"),
        ];
        for (url, shown) in table {
            assert_eq!(redact(url), shown, "{url}");
        }
        // The error of a URL that does not parse never echoes the password.
        let url = "redis://app:pa/ss#x@host/0";
        let error = super::super::RedisStore::new(RedisSettings {
            url: url.to_owned(),
            ..RedisSettings::default()
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains("invalid redis url"), "{error}");
        assert!(
            !error.contains("pa/ss") && !error.contains("ss#x"),
            "{error}"
        );
    }
}
