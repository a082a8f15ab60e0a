//! Who may use the console: the admin token (`console.admin_token_env` or
//! `console.admin_token_file`), presented as `Authorization: Bearer
//! <token>` or through the login cookie the login form sets.
//!
//! The cookie never holds the token: it holds an HMAC-SHA256 of a fixed
//! label keyed by the token, so it cannot be turned back into the token
//! and stops working when the token changes. Both checks compare in
//! constant time. Without a configured token the console is open, which
//! config validation allows only on a loopback admin listener.

use std::fmt;

use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::Secret;
use crate::config::ConsoleConfig;

/// The login cookie's name.
pub const COOKIE_NAME: &str = "cedargate_console";

/// What the cookie value is the HMAC of.
const COOKIE_LABEL: &[u8] = b"cedargate console login v1";

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

    /// The login cookie's value for this token (hex HMAC).
    pub fn cookie_value(&self) -> String {
        match Hmac::<Sha256>::new_from_slice(self.0.expose_bytes()) {
            Ok(mut mac) => {
                mac.update(COOKIE_LABEL);
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length; never reached.
            Err(_) => String::new(),
        }
    }
}

/// The console's access rule.
#[derive(Clone)]
pub enum ConsoleAuth {
    /// No token configured: open (loopback admin listener only).
    Open,
    /// Every console request must carry the token or the login cookie.
    Token {
        /// The token.
        token: AdminToken,
        /// Its cookie value, computed once.
        cookie: String,
    },
}

/// The cookie value lets a browser in: redacted like the token.
impl fmt::Debug for ConsoleAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("ConsoleAuth::Open"),
            Self::Token { .. } => f.write_str("ConsoleAuth::Token(***)"),
        }
    }
}

impl ConsoleAuth {
    /// Reads the token the configuration names.
    pub fn from_config(config: &ConsoleConfig) -> anyhow::Result<Self> {
        let text = match (&config.admin_token_env, &config.admin_token_file) {
            (Some(name), _) => std::env::var(name)
                .with_context(|| format!("`console.admin_token_env`: `{name}` is not set"))?,
            (None, Some(path)) => std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read `console.admin_token_file` `{}`",
                    path.display()
                )
            })?,
            (None, None) => return Ok(Self::Open),
        };
        let token = AdminToken::new(&text).context("the admin token is empty")?;
        Ok(Self::with_token(token))
    }

    /// A rule requiring `token`.
    pub fn with_token(token: AdminToken) -> Self {
        let cookie = token.cookie_value();
        Self::Token { token, cookie }
    }

    /// Whether a token is needed at all.
    pub fn requires_token(&self) -> bool {
        matches!(self, Self::Token { .. })
    }

    /// Whether `headers` carry the token (`Authorization: Bearer`) or the
    /// login cookie.
    pub fn allows(&self, headers: &http::HeaderMap) -> bool {
        let Self::Token { token, cookie } = self else {
            return true;
        };
        let bearer = headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.strip_prefix("Bearer "))
            .any(|presented| token.matches(presented.trim()));
        bearer || login_cookies(headers).any(|value| ct_eq_str(value, cookie))
    }

    /// The `Set-Cookie` value for a login with `presented`, if it is the
    /// token (`Some` with an empty cookie when the console is open).
    pub fn login(&self, presented: &str) -> Option<String> {
        match self {
            Self::Open => Some(String::new()),
            Self::Token { token, cookie } => token
                .matches(presented.trim())
                .then(|| format!("{COOKIE_NAME}={cookie}; Path=/; HttpOnly; SameSite=Strict")),
        }
    }
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

fn ct_eq_str(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes())
        .ct_eq(&Sha256::digest(b.as_bytes()))
        .into()
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

    #[test]
    fn only_the_token_or_its_cookie_is_let_in() {
        let auth = ConsoleAuth::with_token(AdminToken::new("s3cret-token").unwrap());
        let cookie = auth.login("s3cret-token").unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(
            !cookie.contains("s3cret-token"),
            "the cookie never holds the token"
        );
        let value = cookie.split(';').next().unwrap().to_owned();
        let table: &[(&[(&'static str, &str)], bool)] = &[
            (&[], false),
            (&[("authorization", "Bearer s3cret-token")], true),
            (&[("authorization", "Bearer s3cret-toke")], false),
            (&[("authorization", "Bearer s3cret-tokenX")], false),
            (&[("authorization", "Basic s3cret-token")], false),
            (&[("cookie", &value)], true),
            (&[("cookie", "other=1; cedargate_console=00")], false),
            (&[("cookie", "cedargate_console=s3cret-token")], false),
        ];
        for (pairs, allowed) in table {
            assert_eq!(auth.allows(&headers(pairs)), *allowed, "{pairs:?}");
        }
        assert!(auth.login("wrong").is_none());
        assert!(ConsoleAuth::Open.allows(&headers(&[])));
    }

    #[test]
    fn the_token_never_shows_in_debug_and_empty_tokens_are_refused() {
        let token = AdminToken::new("  visible?  ").unwrap();
        assert!(token.matches("visible?"));
        let auth = ConsoleAuth::with_token(token.clone());
        let shown = format!("{token:?} {auth:?}");
        assert!(!shown.contains("visible"), "{shown}");
        assert!(!shown.contains(&token.cookie_value()), "{shown}");
        assert!(AdminToken::new(" \n").is_none());
    }
}
