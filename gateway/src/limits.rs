//! The *limit* stage's rate limits: which client a request comes from
//! (trusted proxies), and the token buckets it must take from — per source
//! address and global before authentication, per credential (or per
//! session identity) after.
//!
//! A state store that cannot answer never stops traffic: rate limits fail
//! open (logged, at most once every few seconds), while quota reservations
//! ([`crate::quota`]) fail closed.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::config::{Config, RateLimitsConfig};
use crate::metrics::Metrics;
use crate::state::{RateLimit, RateVerdict, StateStore};
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// What a rate limit applies to; the `scope` label of `rate_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every request.
    Global,
    /// One access key.
    Credential,
    /// One client address.
    SourceIp,
}

impl Scope {
    /// The metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Credential => "credential",
            Self::SourceIp => "source_ip",
        }
    }
}

/// A request refused by a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The limit that refused it.
    pub scope: Scope,
    /// When the bucket has a token again.
    pub retry_after: Duration,
}

impl Limited {
    /// 429 SlowDown with `Retry-After` in whole seconds, rounded up (at least 1).
    pub fn to_s3_error(self) -> S3Error {
        let millis = self.retry_after.as_millis().max(1);
        let seconds = millis.div_ceil(1000);
        S3Error::new(
            S3ErrorCode::SlowDown,
            format!(
                "please reduce your request rate ({} limit)",
                self.scope.as_str()
            ),
        )
        .with_header("retry-after", seconds.to_string())
    }
}

/// Whom a per-credential limit counts a request for, once its signature
/// verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKey<'a> {
    /// A static credential, by its access key.
    AccessKey(&'a str),
    /// An STS session, by the identity it was issued to.
    Session {
        /// The assumed role's ARN.
        role_arn: &'a str,
        /// The web identity token's issuer.
        issuer: &'a str,
        /// The web identity token's subject.
        subject: &'a str,
    },
    /// No credentials: no per-credential limit applies.
    Anonymous,
}

/// The configured rate limits over a state store.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitsConfig,
    /// Per-bucket limits on unsigned requests, per client address.
    anonymous_buckets: BTreeMap<String, RateLimit>,
    store: Arc<dyn StateStore>,
    last_store_warning: AtomicU64,
}

impl RateLimiter {
    /// The limits of `config`, kept in `store`.
    pub fn new(config: &Config, store: Arc<dyn StateStore>) -> Self {
        let anonymous_buckets = config
            .buckets
            .iter()
            .filter_map(|(name, bucket)| Some((name.clone(), bucket.anonymous_rate_limit?)))
            .collect();
        Self {
            config: config.rate_limits.clone(),
            anonymous_buckets,
            store,
            last_store_warning: AtomicU64::new(0),
        }
    }

    /// The client's address: the connection's peer, or, when the peer is a
    /// trusted proxy, the nearest untrusted address its `X-Forwarded-For`
    /// (or `Forwarded`) header names.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let trusted = |ip: &IpAddr| {
            self.config
                .trusted_proxies
                .iter()
                .any(|net| net.contains(ip))
        };
        if !trusted(&peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        // Walk from the nearest hop outwards; the first address not one of
        // our proxies is the client. Anything unparseable stops the walk.
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if trusted(ip) => client = *ip,
                Some(ip) => return *ip,
                None => return client,
            }
        }
        client
    }

    /// The limits that apply before authentication: the source address
    /// (`anonymous` selects `anonymous_source_ip` when set, and adds the
    /// bucket's own anonymous limit), then global.
    pub async fn check_source(
        &self,
        ip: IpAddr,
        anonymous: bool,
        bucket: Option<&str>,
        metrics: &Metrics,
    ) -> Result<(), Limited> {
        let bucket_limit = bucket
            .filter(|_| anonymous)
            .and_then(|name| Some((name, *self.anonymous_buckets.get(name)?)));
        let source = SourceKey(ip);
        if let Some((name, limit)) = bucket_limit {
            let key = format!("anonymous_bucket:{name}:{source}");
            self.take(&key, limit, Scope::SourceIp, metrics).await?;
        }
        let per_ip = match (anonymous, self.config.anonymous_source_ip) {
            (true, Some(limit)) => Some(("anonymous_ip", limit)),
            _ => self.config.source_ip.map(|limit| ("ip", limit)),
        };
        if let Some((kind, limit)) = per_ip {
            self.take(&format!("{kind}:{source}"), limit, Scope::SourceIp, metrics)
                .await?;
        }
        if let Some(limit) = self.config.global {
            self.take("global", limit, Scope::Global, metrics).await?;
        }
        Ok(())
    }

    /// The `anonymous_source_ip` limit alone, for a request known to be
    /// unsigned only once its body was read (after [`Self::check_source`]
    /// took from the limits of a signed one).
    pub async fn check_anonymous_source(
        &self,
        ip: IpAddr,
        metrics: &Metrics,
    ) -> Result<(), Limited> {
        match self.config.anonymous_source_ip {
            Some(limit) => {
                let key = format!("anonymous_ip:{}", SourceKey(ip));
                self.take(&key, limit, Scope::SourceIp, metrics).await
            }
            None => Ok(()),
        }
    }

    /// The per-credential limit, once the signature verified: per access
    /// key for a static credential; for an STS session, per (role, issuer,
    /// subject), so that exchanging the same web identity again does not
    /// give another budget.
    pub async fn check_caller<'a>(
        &self,
        caller: impl Into<CallerKey<'a>>,
        metrics: &Metrics,
    ) -> Result<(), Limited> {
        let (key, limit) = match caller.into() {
            CallerKey::AccessKey(access_key) => (
                format!("credential:{access_key}"),
                self.config
                    .credentials
                    .get(access_key)
                    .copied()
                    .or(self.config.credential),
            ),
            CallerKey::Session {
                role_arn,
                issuer,
                subject,
            } => (
                session_key(role_arn, issuer, subject),
                self.config.credential,
            ),
            CallerKey::Anonymous => return Ok(()),
        };
        match limit {
            Some(limit) => self.take(&key, limit, Scope::Credential, metrics).await,
            None => Ok(()),
        }
    }

    async fn take(
        &self,
        key: &str,
        limit: RateLimit,
        scope: Scope,
        metrics: &Metrics,
    ) -> Result<(), Limited> {
        match self.store.take_token(key, limit).await {
            Ok(RateVerdict::Allowed) => Ok(()),
            Ok(RateVerdict::Limited { retry_after }) => {
                metrics.record_rate_limited(scope.as_str());
                Err(Limited { scope, retry_after })
            }
            Err(error) => {
                self.warn_store_down(&error);
                Ok(())
            }
        }
    }

    fn warn_store_down(&self, error: &crate::state::StateError) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.last_store_warning.swap(now, Ordering::Relaxed);
        if now.saturating_sub(last) >= 10 {
            tracing::warn!(%error, store = self.store.kind(), "rate limits not enforced: the state store does not answer");
        }
    }
}

/// The part of a per-source key naming the source: an IPv4 address (an
/// IPv4-mapped IPv6 one written as IPv4), or the /64 network of an IPv6
/// address (`2001:db8:1:2::/64`), the smallest block a single subscriber
/// is given, so that one holder of a /64 gets one budget, not one per
/// address it can pick.
#[derive(Debug, Clone, Copy)]
struct SourceKey(IpAddr);

impl std::fmt::Display for SourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => write!(f, "{v4}"),
                None => {
                    let network = u128::from(v6) & !u128::from(u64::MAX);
                    write!(f, "{}/64", std::net::Ipv6Addr::from(network))
                }
            },
        }
    }
}

/// The rate-limit key of a session's identity: a hash of its role, issuer
/// and subject (bounded in length whatever the token's subject).
fn session_key(role_arn: &str, issuer: &str, subject: &str) -> String {
    let mut hash = Sha256::new();
    for part in [role_arn, issuer, subject] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!("session:{}", hex::encode(hash.finalize()))
}

/// The addresses of `X-Forwarded-For` (preferred) or `Forwarded: for=`,
/// client first; `None` for an entry that is not an address (`unknown`,
/// an obfuscated identifier, garbage).
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let xff: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|entry| parse_host(entry.trim()))
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_host(value.trim().trim_matches('"')))
            })
        })
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]:80`.
fn parse_host(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    text.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::EmbeddedStore;

    fn limiter(trusted: &[&str]) -> RateLimiter {
        let mut config = Config::embedded_default();
        config.rate_limits = RateLimitsConfig {
            trusted_proxies: trusted.iter().map(|net| net.parse().unwrap()).collect(),
            ..RateLimitsConfig::default()
        };
        RateLimiter::new(&config, Arc::new(EmbeddedStore::default()))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let limits = limiter(&["10.0.0.0/8", "192.0.2.7/32"]);
        type Case<'a> = (&'a str, &'a [(&'static str, &'a str)], &'a str);
        let cases: &[Case<'_>] = &[
            // An untrusted peer's headers are ignored.
            (
                "203.0.113.9",
                &[("x-forwarded-for", "1.1.1.1")],
                "203.0.113.9",
            ),
            // A trusted peer: the nearest untrusted hop.
            (
                "10.1.1.1",
                &[("x-forwarded-for", "1.1.1.1, 2.2.2.2")],
                "2.2.2.2",
            ),
            (
                "10.1.1.1",
                &[("x-forwarded-for", "1.1.1.1, 2.2.2.2, 10.9.9.9")],
                "2.2.2.2",
            ),
            (
                "192.0.2.7",
                &[
                    ("x-forwarded-for", "1.1.1.1"),
                    ("x-forwarded-for", "10.2.2.2"),
                ],
                "1.1.1.1",
            ),
            // Ports and brackets.
            (
                "10.1.1.1",
                &[("x-forwarded-for", "[2001:db8::5]:443")],
                "2001:db8::5",
            ),
            (
                "10.1.1.1",
                &[("x-forwarded-for", "198.51.100.3:8080")],
                "198.51.100.3",
            ),
            // RFC 7239.
            (
                "10.1.1.1",
                &[(
                    "forwarded",
                    "for=198.51.100.4;proto=https, for=\"[2001:db8::9]\"",
                )],
                "2001:db8::9",
            ),
            // Garbage stops the walk at the last trusted hop.
            (
                "10.1.1.1",
                &[("x-forwarded-for", "1.1.1.1, unknown, 10.3.3.3")],
                "10.3.3.3",
            ),
            // No header: the proxy itself.
            ("10.1.1.1", &[], "10.1.1.1"),
        ];
        for (peer, pairs, expected) in cases {
            assert_eq!(
                limits.client_ip(ip(peer), &headers(pairs)),
                ip(expected),
                "peer {peer} headers {pairs:?}"
            );
        }
    }

    #[test]
    fn ipv6_sources_are_keyed_by_their_64() {
        let table = [
            ("198.51.100.7", "198.51.100.7"),
            ("::ffff:198.51.100.7", "198.51.100.7"),
            ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
            ("::1", "::/64"),
        ];
        for (ip, key) in table {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(SourceKey(ip).to_string(), key, "{ip}");
        }
    }

    /// Every per-source limit (per source, anonymous per source, a
    /// bucket's anonymous limit) is shared by the addresses of one /64,
    /// and by an IPv4 address and its IPv4-mapped IPv6 form.
    #[tokio::test]
    async fn addresses_of_one_64_share_each_per_source_budget() {
        let one = RateLimit {
            rate: 0.001,
            burst: 1,
        };
        let mut config = Config::embedded_default();
        config.buckets.get_mut("demo").unwrap().anonymous_rate_limit = Some(one);
        let metrics = Metrics::new("cg").unwrap();
        type Check = (
            bool,
            Option<&'static str>,
            Option<RateLimit>,
            Option<RateLimit>,
        );
        let cases: [Check; 3] = [
            (false, None, Some(one), None),
            (true, None, None, Some(one)),
            (true, Some("demo"), None, None),
        ];
        for (anonymous, bucket, source_ip, anonymous_source_ip) in cases {
            config.rate_limits = RateLimitsConfig {
                source_ip,
                anonymous_source_ip,
                ..RateLimitsConfig::default()
            };
            let limits = RateLimiter::new(&config, Arc::new(EmbeddedStore::default()));
            let check = |ip: &str| {
                let ip: IpAddr = ip.parse().unwrap();
                limits.check_source(ip, anonymous, bucket, &metrics)
            };
            let case = format!("anonymous {anonymous} bucket {bucket:?}");
            assert!(check("2001:db8:1:2::1").await.is_ok(), "{case}");
            assert!(check("2001:db8:1:2::2").await.is_err(), "{case}");
            assert!(check("2001:db8:1:2:ab:cd:ef:1").await.is_err(), "{case}");
            assert!(check("2001:db8:1:3::1").await.is_ok(), "{case}");
            assert!(check("198.51.100.7").await.is_ok(), "{case}");
            assert!(check("::ffff:198.51.100.7").await.is_err(), "{case}");
        }
    }

    /// A per-credential budget is one per access key (its override when it
    /// has one) and one per session identity, whichever session carries it;
    /// anonymous callers have none.
    #[tokio::test]
    async fn per_credential_budgets_follow_the_access_key_or_the_session_identity() {
        let one = RateLimit {
            rate: 0.001,
            burst: 1,
        };
        let two = RateLimit {
            rate: 0.001,
            burst: 2,
        };
        let config = Config {
            rate_limits: RateLimitsConfig {
                credential: Some(one),
                credentials: BTreeMap::from([("AKIDWIDE".to_owned(), two)]),
                ..RateLimitsConfig::default()
            },
            ..Config::embedded_default()
        };
        let metrics = Metrics::new("cg").unwrap();
        let limits = RateLimiter::new(&config, Arc::new(EmbeddedStore::default()));
        let session = |subject| CallerKey::Session {
            role_arn: "arn:aws:iam::123456789012:role/reader",
            issuer: "https://idp.example.test",
            subject,
        };
        let cases = [
            (CallerKey::AccessKey("AKIDONE"), true),
            (CallerKey::AccessKey("AKIDONE"), false),
            (CallerKey::AccessKey("AKIDWIDE"), true),
            (CallerKey::AccessKey("AKIDWIDE"), true),
            (CallerKey::AccessKey("AKIDWIDE"), false),
            (session("alice"), true),
            (session("alice"), false),
            (session("bob"), true),
            (CallerKey::Anonymous, true),
            (CallerKey::Anonymous, true),
        ];
        for (index, (caller, allowed)) in cases.into_iter().enumerate() {
            let answer = limits.check_caller(caller, &metrics).await;
            assert_eq!(answer.is_ok(), allowed, "case {index}: {caller:?}");
        }
    }

    #[test]
    fn slow_down_carries_retry_after_in_whole_seconds() {
        let cases = [
            (1, "1"),
            (999, "1"),
            (1000, "1"),
            (1001, "2"),
            (61_500, "62"),
        ];
        for (millis, header) in cases {
            let error = Limited {
                scope: Scope::Global,
                retry_after: Duration::from_millis(millis),
            }
            .to_s3_error();
            assert_eq!(error.code(), S3ErrorCode::SlowDown);
            assert_eq!(error.headers(), [("retry-after", header.to_owned())]);
        }
    }
}
