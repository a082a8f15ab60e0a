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

/// `url` with the password of its user info replaced by `***`.
pub(super) fn redact(url: &str) -> String {
    match password_span(url) {
        Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
        None => url.to_owned(),
    }
}

/// Byte range of the password in `scheme://user:password@host...`: all
/// after the first `:` of the user info, which runs to the *last* `@`
/// (not to the first `/`, `?` or `#`), so that a password holding those
/// characters, or a URL that does not parse, is still found whole.
fn password_span(url: &str) -> Option<(usize, usize)> {
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

/// Every spelling of a password that could appear in a message.
pub(super) struct Secrets(Vec<String>);

impl Secrets {
    /// The password of `url` as written and decoded, plus `parsed` (the
    /// password as the client understood it).
    pub(super) fn new(url: &str, parsed: Option<&str>) -> Self {
        let mut secrets = Vec::new();
        if let Some((start, end)) = password_span(url) {
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
