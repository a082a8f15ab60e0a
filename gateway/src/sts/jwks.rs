//! Each trusted issuer's signing keys (JWKS): read from a file, or fetched
//! from the issuer (its discovery document's `jwks_uri`, or a configured
//! URL), cached for a TTL and fetched again — at most once per refetch
//! interval — when a token names a `kid` the cache does not hold.
//!
//! Fetches run on a blocking thread with a 5 s timeout and a 1 MiB cap on
//! each document. URLs must be `https://`, except on loopback hosts
//! (`127.0.0.1`, `[::1]`, `localhost`), where `http://` is allowed for tests;
//! a URL naming a user or a password is refused whatever its scheme.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use tokio::sync::Mutex;

use crate::config::IssuerConfig;

/// Largest JWKS or discovery document accepted.
const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an issuer's keys are not available (an internal error: the token
/// may be fine).
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The issuer is not configured.
    #[error("issuer `{0}` is not configured")]
    UnknownIssuer(String),
    /// Fetching or reading failed.
    #[error("cannot get the keys of `{issuer}`: {message}")]
    Unavailable {
        /// The issuer.
        issuer: String,
        /// What went wrong.
        message: String,
    },
}

#[derive(Debug)]
struct Cached {
    keys: JwkSet,
    fetched: Instant,
}

#[derive(Debug)]
struct IssuerKeys {
    /// The configured name.
    name: String,
    /// `iss`.
    issuer: String,
    config: IssuerConfig,
    state: Mutex<(Option<Cached>, Option<Instant>)>,
}

/// The signing keys of every configured issuer, by issuer name.
#[derive(Debug, Default)]
pub struct JwksCache {
    issuers: BTreeMap<String, Arc<IssuerKeys>>,
}

impl JwksCache {
    /// A cache over the configured issuers (nothing is fetched yet).
    pub fn new(issuers: &BTreeMap<String, IssuerConfig>) -> Self {
        let issuers = issuers
            .iter()
            .map(|(name, config)| {
                let keys = IssuerKeys {
                    name: name.clone(),
                    issuer: config.issuer.clone(),
                    config: config.clone(),
                    state: Mutex::new((None, None)),
                };
                (name.clone(), Arc::new(keys))
            })
            .collect();
        Self { issuers }
    }

    /// The first of the issuers `names` whose URL is `iss`.
    pub fn trusted<'a>(&self, names: &'a [String], iss: &str) -> Option<&'a str> {
        names
            .iter()
            .find(|name| {
                self.issuers
                    .get(*name)
                    .is_some_and(|keys| keys.issuer == iss)
            })
            .map(String::as_str)
    }

    /// The key `kid` of the issuer `name`: from the cache while fresh, else
    /// fetched. `Ok(None)` when the issuer does not have it, even after a
    /// refetch.
    pub async fn key(&self, name: &str, kid: &str) -> Result<Option<Jwk>, JwksError> {
        let keys = self
            .issuers
            .get(name)
            .ok_or_else(|| JwksError::UnknownIssuer(name.to_owned()))?;
        let mut state = keys.state.lock().await;
        let (cached, last_refetch) = &mut *state;
        let ttl = Duration::from_secs(keys.config.jwks_ttl_seconds);
        let stale = cached.as_ref().is_none_or(|c| c.fetched.elapsed() >= ttl);
        if stale {
            *cached = Some(keys.load().await?);
        } else if let Some(fresh) = cached.as_ref()
            && fresh.keys.find(kid).is_none()
        {
            let interval = Duration::from_secs(keys.config.refetch_interval_seconds);
            if last_refetch.is_none_or(|at| at.elapsed() >= interval) {
                *last_refetch = Some(Instant::now());
                *cached = Some(keys.load().await?);
            }
        }
        Ok(cached.as_ref().and_then(|c| c.keys.find(kid)).cloned())
    }
}

impl IssuerKeys {
    fn unavailable(&self, message: impl Into<String>) -> JwksError {
        JwksError::Unavailable {
            issuer: self.name.clone(),
            message: message.into(),
        }
    }

    async fn load(&self) -> Result<Cached, JwksError> {
        let text = match &self.config.jwks_file {
            Some(file) => tokio::fs::read_to_string(file)
                .await
                .map_err(|e| self.unavailable(format!("`{}`: {e}", file.display())))?,
            None => {
                let url = match &self.config.jwks_url {
                    Some(url) => url.clone(),
                    None => self.discover().await?,
                };
                fetch(url).await.map_err(|e| self.unavailable(e))?
            }
        };
        let keys: JwkSet = serde_json::from_str(&text)
            .map_err(|e| self.unavailable(format!("the JWKS does not parse: {e}")))?;
        tracing::info!(issuer = %self.name, keys = keys.keys.len(), "issuer keys loaded");
        Ok(Cached {
            keys,
            fetched: Instant::now(),
        })
    }

    /// The `jwks_uri` of the issuer's discovery document, whose `issuer`
    /// must be the issuer itself.
    async fn discover(&self) -> Result<String, JwksError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let text = fetch(url).await.map_err(|e| self.unavailable(e))?;
        let document: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| self.unavailable(format!("the discovery document does not parse: {e}")))?;
        if document.get("issuer").and_then(|v| v.as_str()) != Some(self.issuer.as_str()) {
            return Err(self.unavailable("the discovery document names another issuer"));
        }
        document
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| self.unavailable("the discovery document has no jwks_uri"))
    }
}

/// Whether `url` may be fetched: it parses as a URL with no user name or
/// password, and is https, or http to a loopback host (`127.0.0.1`,
/// `[::1]`, `localhost`). The host is the parsed one, never a prefix of
/// the text: `http://127.0.0.1:x@evil.example/` names `evil.example`.
pub fn fetchable(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return false;
    }
    match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => match parsed.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            None => false,
        },
        _ => false,
    }
}

/// GETs `url` on a blocking thread, capped in time and size.
async fn fetch(url: String) -> Result<String, String> {
    if !fetchable(&url) {
        return Err(format!(
            "`{url}` is not https (http is allowed on loopback only)"
        ));
    }
    tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new()
            .timeout(FETCH_TIMEOUT)
            .redirects(0)
            .build();
        let response = agent.get(&url).call().map_err(|e| e.to_string())?;
        let mut text = String::new();
        response
            .into_reader()
            .take(MAX_DOCUMENT_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        if text.len() as u64 > MAX_DOCUMENT_BYTES {
            return Err("the document exceeds 1 MiB".to_owned());
        }
        Ok(text)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_fetched() {
        for ok in [
            "https://token.actions.githubusercontent.com/.well-known/jwks",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(fetchable(ok), "{ok}");
        }
        for refused in [
            "http://issuer.example/jwks",
            "http://127.0.0.1.evil.example/jwks",
            "http://localhost.evil.example/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            // Userinfo: the host is what follows the `@`.
            "http://127.0.0.1:x@evil.example/jwks.json",
            "http://127.0.0.1@evil.example/jwks.json",
            "http://localhost:80@evil.example/",
            "http://[::1]:1@evil.example/",
            // Userinfo is refused even where the host would be allowed.
            "http://user:pass@127.0.0.1/jwks",
            "https://user@issuer.example/jwks",
            "http://127.0.0.2/jwks",
            "not a url",
        ] {
            assert!(!fetchable(refused), "{refused}");
        }
    }
}
