//! Who may use the console: a request naming an allowed `Host`
//! ([`super::host`]) and carrying the admin token (`console.admin_token_env`
//! or `console.admin_token_file`) as `Authorization: Bearer <token>`, or
//! the cookie of a login session ([`super::sessions`]) the login form
//! started.
//!
//! The cookie never holds the token: it is a random value the gateway
//! keeps a digest of, with an expiry (`console.session_seconds`), and
//! forgets at logout. The token is compared in constant time. Without a
//! configured token the console is open (to allowed hosts only), which
//! config validation allows only on a loopback admin listener.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::host::AllowedHosts;
use super::sessions::Sessions;
use crate::config::ConsoleConfig;
use cedargate_s3::sigv4::Secret;

/// The login cookie's name.
pub const COOKIE_NAME: &str = "cedargate_console";

/// The admin token: redacted in `Debug`, zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(Secret);

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

impl AdminToken {
    /// Wraps a token; `None` when it is empty (after trimming).
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        (!token.is_empty()).then(|| Self(Secret::from(token)))
    }

    /// Whether `presented` is the token. Both sides are hashed first, so
    /// the comparison takes the same time whatever their lengths.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.expose_bytes());
        let given = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&given).into()
    }
}

/// What a login with a presented token did.
#[derive(Debug, PartialEq, Eq)]
pub enum Login {
    /// The console is open: there is nothing to log in to.
    Open,
    /// The token was right: the `Set-Cookie` value of the new session.
    Started(String),
    /// The token was wrong.
    Refused,
    /// The token was right but no session could be started (no randomness).
    Unavailable,
}

/// The console's access rule.
pub struct ConsoleAuth {
    hosts: AllowedHosts,
    /// The token and its sessions; `None`: open.
    token: Option<(AdminToken, Sessions)>,
}

/// The token lets a browser in: redacted.
impl fmt::Debug for ConsoleAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.token {
            None => f.write_str("ConsoleAuth::Open"),
            Some(_) => f.write_str("ConsoleAuth::Token(***)"),
        }
    }
}

impl ConsoleAuth {
    /// Reads the token the configuration names; `admin_listen` is the
    /// admin listener's address (its port is the one loopback names go
    /// with).
    pub fn from_config(config: &ConsoleConfig, admin_listen: SocketAddr) -> anyhow::Result<Self> {
        let hosts = AllowedHosts::new(admin_listen, &config.allowed_hosts);
        let lifetime = Duration::from_secs(config.session_seconds);
        let text = match (&config.admin_token_env, &config.admin_token_file) {
            (Some(name), _) => std::env::var(name)
                .with_context(|| format!("`console.admin_token_env`: `{name}` is not set"))?,
            (None, Some(path)) => std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read `console.admin_token_file` `{}`",
                    path.display()
                )
            })?,
            (None, None) => return Ok(Self::new(hosts, None, lifetime)),
        };
        let token = AdminToken::new(&text).context("the admin token is empty")?;
        Ok(Self::new(hosts, Some(token), lifetime))
    }

    /// A rule answering `hosts`, requiring `token` if any; sessions last
    /// `lifetime`.
    pub fn new(hosts: AllowedHosts, token: Option<AdminToken>, lifetime: Duration) -> Self {
        Self {
            hosts,
            token: token.map(|token| (token, Sessions::new(lifetime))),
        }
    }

    /// Whether a token is needed at all.
    pub fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `headers` name exactly one `Host` the console answers to.
    pub fn host_allowed(&self, headers: &http::HeaderMap) -> bool {
        self.hosts.allows_headers(headers)
    }

    /// Whether `headers` present a token as `Authorization: Bearer` (right
    /// or wrong, in any of their `Authorization` headers) to a console that
    /// requires one.
    pub fn presents_bearer(&self, headers: &http::HeaderMap) -> bool {
        self.token.is_some()
            && headers
                .get_all(http::header::AUTHORIZATION)
                .iter()
                .any(|value| bearer(value.as_bytes()).is_some())
    }

    /// Whether `headers` carry the token as their one `Authorization:
    /// Bearer` header. Several `Authorization` headers never pass, so one
    /// request cannot try several guesses.
    pub fn has_bearer(&self, headers: &http::HeaderMap) -> bool {
        let Some((token, _)) = &self.token else {
            return false;
        };
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => bearer(value.as_bytes())
                .and_then(|presented| std::str::from_utf8(presented).ok())
                .is_some_and(|presented| token.matches(presented.trim())),
            _ => false,
        }
    }

    /// Whether `headers` name an allowed `Host` and carry the token
    /// (`Authorization: Bearer`) or a live session's cookie (anything,
    /// when the console is open).
    pub fn allows(&self, headers: &http::HeaderMap) -> bool {
        if !self.host_allowed(headers) {
            return false;
        }
        let Some((_, sessions)) = &self.token else {
            return true;
        };
        self.has_bearer(headers) || login_cookies(headers).any(|value| sessions.is_live(value))
    }

    /// A login with `presented`: a new session when it is the token.
    pub fn login(&self, presented: &str) -> Login {
        let Some((token, sessions)) = &self.token else {
            return Login::Open;
        };
        if !token.matches(presented.trim()) {
            return Login::Refused;
        }
        match sessions.start() {
            Some(value) => Login::Started(format!(
                "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                sessions.lifetime().as_secs()
            )),
            None => Login::Unavailable,
        }
    }

    /// Ends the sessions whose cookies `headers` carry.
    pub fn logout(&self, headers: &http::HeaderMap) {
        if let Some((_, sessions)) = &self.token {
            login_cookies(headers).for_each(|value| sessions.end(value));
        }
    }
}

/// The credentials of an `Authorization: Bearer` value (the scheme's name
/// in any case, as RFC 9110 has it).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme.eq_ignore_ascii_case(b"bearer ").then_some(rest)
}

/// The `Set-Cookie` value that logs out.
pub fn logout_cookie() -> String {
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn login_cookies(headers: &http::HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn with_token(token: &str) -> ConsoleAuth {
        let hosts = AllowedHosts::new(SocketAddr::from(([127, 0, 0, 1], 9001)), &[]);
        ConsoleAuth::new(hosts, AdminToken::new(token), Duration::from_secs(60))
    }

    #[test]
    fn only_the_token_or_a_live_session_cookie_on_an_allowed_host_is_let_in() {
        let auth = with_token("s3cret-token");
        let Login::Started(cookie) = auth.login("s3cret-token") else {
            panic!("the right token starts a session");
        };
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(
            !cookie.contains("s3cret-token"),
            "the cookie never holds the token"
        );
        let Login::Started(other) = auth.login("s3cret-token") else {
            panic!("a second login starts a second session");
        };
        let value = cookie.split(';').next().unwrap().to_owned();
        assert_ne!(value, other.split(';').next().unwrap());
        let table: &[(&[(&'static str, &str)], bool)] = &[
            (&[], false),
            (&[("authorization", "Bearer s3cret-token")], false),
            (&[("host", "127.0.0.1:9001")], false),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("authorization", "Bearer s3cret-token"),
                ],
                true,
            ),
            (
                &[
                    ("host", "evil.test:9001"),
                    ("authorization", "Bearer s3cret-token"),
                ],
                false,
            ),
            (
                &[
                    ("host", "localhost"),
                    ("authorization", "Bearer s3cret-toke"),
                ],
                false,
            ),
            (
                &[
                    ("host", "localhost"),
                    ("authorization", "Bearer s3cret-tokenX"),
                ],
                false,
            ),
            (
                &[
                    ("host", "localhost"),
                    ("authorization", "Basic s3cret-token"),
                ],
                false,
            ),
            (&[("host", "localhost"), ("cookie", &value)], true),
            (&[("host", "evil.test"), ("cookie", &value)], false),
            (
                &[
                    ("host", "localhost"),
                    ("cookie", "other=1; cedargate_console=00"),
                ],
                false,
            ),
            (
                &[
                    ("host", "localhost"),
                    ("cookie", "cedargate_console=s3cret-token"),
                ],
                false,
            ),
        ];
        for (pairs, allowed) in table {
            assert_eq!(auth.allows(&headers(pairs)), *allowed, "{pairs:?}");
        }
        assert_eq!(auth.login("wrong"), Login::Refused);
        auth.logout(&headers(&[("cookie", &value)]));
        assert!(!auth.allows(&headers(&[("host", "localhost"), ("cookie", &value)])));
        let hosts = AllowedHosts::new(SocketAddr::from(([127, 0, 0, 1], 9001)), &[]);
        let open = ConsoleAuth::new(hosts, None, Duration::from_secs(60));
        assert!(open.allows(&headers(&[("host", "localhost:9001")])));
        assert!(!open.allows(&headers(&[("host", "rebind.evil.test:9001")])));
        assert_eq!(open.login(""), Login::Open);
    }

    #[test]
    fn the_token_never_shows_in_debug_and_empty_tokens_are_refused() {
        let token = AdminToken::new("  visible?  ").unwrap();
        assert!(token.matches("visible?"));
        let auth = with_token("  visible?  ");
        let shown = format!("{token:?} {auth:?}");
        assert!(!shown.contains("visible"), "{shown}");
        assert!(AdminToken::new(" \n").is_none());
    }
}
