//! `[rate_limits]` and `[state]`: request rate limits and where their
//! buckets and quota usage live.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Deserialize;

use super::{BucketConfig, ConfigError, invalid};
use crate::state::RateLimit;

/// Request rate limits (`[rate_limits]`): token buckets with a sustained
/// `rate` (requests per second) and a `burst`. A limit that is not set does
/// not apply. Exceeding one answers 429 SlowDown with `Retry-After`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// Every request to this gateway instance's store (with the redis store:
    /// to every instance sharing it).
    pub global: Option<RateLimit>,
    /// Per access key, checked once the signature verified.
    pub credential: Option<RateLimit>,
    /// Per access key, replacing `credential` for the keys listed.
    pub credentials: BTreeMap<String, RateLimit>,
    /// Per client address (an IPv6 one by its /64), checked before the
    /// signature is verified, so a flood of badly signed requests is
    /// limited too.
    pub source_ip: Option<RateLimit>,
    /// Per client address (an IPv6 one by its /64) for unsigned requests,
    /// replacing `source_ip` for them.
    pub anonymous_source_ip: Option<RateLimit>,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` and
    /// `Forwarded` headers name the client; from anyone else these headers
    /// are ignored.
    #[serde(deserialize_with = "addresses_or_networks")]
    pub trusted_proxies: Vec<IpNet>,
    /// Largest number of per-address buckets, and apart of per-key ones,
    /// the embedded store tracks per rate; when full, a new source (or
    /// key) evicts the least recently used one of its own table.
    pub max_tracked_keys: usize,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            global: None,
            credential: None,
            credentials: BTreeMap::new(),
            source_ip: None,
            anonymous_source_ip: None,
            trusted_proxies: Vec::new(),
            max_tracked_keys: crate::state::embedded::DEFAULT_MAX_KEYS,
        }
    }
}

impl RateLimitsConfig {
    /// Checks `[rate_limits]` and each bucket's `anonymous_rate_limit`:
    /// rates and bursts that can refill, a bound on tracked keys.
    pub(super) fn validate(
        &self,
        buckets: &BTreeMap<String, BucketConfig>,
    ) -> Result<(), ConfigError> {
        let named = [
            ("global", self.global),
            ("credential", self.credential),
            ("source_ip", self.source_ip),
            ("anonymous_source_ip", self.anonymous_source_ip),
        ];
        let overrides = self
            .credentials
            .iter()
            .map(|(key, limit)| (format!("credentials.{key}"), Some(*limit)));
        let per_bucket = buckets.iter().map(|(bucket, config)| {
            (
                format!("buckets.{bucket}.anonymous_rate_limit"),
                config.anonymous_rate_limit,
            )
        });
        let all = named
            .into_iter()
            .map(|(name, limit)| (format!("rate_limits.{name}"), limit))
            .chain(overrides.map(|(name, limit)| (format!("rate_limits.{name}"), limit)))
            .chain(per_bucket);
        for (name, limit) in all {
            let Some(limit) = limit else { continue };
            if limit.period().is_none() {
                return Err(invalid(
                    format!("{name}.rate"),
                    "must be a positive number of requests per second (at most 1e9)",
                ));
            }
            if limit.burst == 0 {
                return Err(invalid(format!("{name}.burst"), "must be at least 1"));
            }
        }
        if self.max_tracked_keys == 0 {
            return Err(invalid(
                "rate_limits.max_tracked_keys",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// `["10.0.0.0/8", "192.0.2.7"]`: CIDR blocks, or single addresses.
fn addresses_or_networks<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<IpNet>, D::Error> {
    let texts = Vec::<String>::deserialize(deserializer)?;
    texts
        .iter()
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{text}` is neither an address nor a CIDR block"
                    ))
                })
        })
        .collect()
}

/// Which state store holds quota usage and rate-limit buckets (`[state]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// `embedded` (in this process; one gateway) or `redis` (shared by
    /// several gateway instances).
    pub store: StoreKind,
    /// The Redis server for `store = "redis"`: `redis://[:password@]host:port/db`.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key this gateway writes.
    pub key_prefix: String,
    /// Milliseconds to wait for a Redis connection.
    pub connect_timeout_ms: u64,
    /// Milliseconds to wait for a Redis answer.
    pub response_timeout_ms: u64,
    /// Seconds after which the in-flight reservations of an instance that
    /// stopped renewing them (it crashed) no longer count.
    pub lease_seconds: u64,
    /// Seconds between housekeeping rounds: evicting idle limiter state,
    /// renewing leases, and scanning capped buckets whose usage is unknown.
    pub maintenance_interval_seconds: u64,
}

/// The state store implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process.
    #[default]
    Embedded,
    /// A Redis server.
    Redis,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::Embedded,
            redis_url: None,
            key_prefix: "cedargate".into(),
            connect_timeout_ms: 2000,
            response_timeout_ms: 2000,
            lease_seconds: 30,
            maintenance_interval_seconds: 5,
        }
    }
}

impl StateConfig {
    /// Checks `[state]`: the Redis URL when needed, key prefix, timeouts,
    /// lease and maintenance interval.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.store == StoreKind::Redis && self.redis_url.is_none() {
            return Err(invalid(
                "state.redis_url",
                "is required with `store = \"redis\"`",
            ));
        }
        if self.key_prefix.is_empty() || self.key_prefix.contains(['{', '}', ' ']) {
            return Err(invalid(
                "state.key_prefix",
                "must be non-empty, without braces or spaces",
            ));
        }
        let millis = [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("response_timeout_ms", self.response_timeout_ms),
        ];
        for (field, value) in millis {
            if !(1..=60_000).contains(&value) {
                return Err(invalid(
                    format!("state.{field}"),
                    "must be between 1 and 60000",
                ));
            }
        }
        if !(1..=3600).contains(&self.lease_seconds) {
            return Err(invalid("state.lease_seconds", "must be between 1 and 3600"));
        }
        if !(1..=3600).contains(&self.maintenance_interval_seconds)
            || self.maintenance_interval_seconds >= self.lease_seconds
        {
            return Err(invalid(
                "state.maintenance_interval_seconds",
                "must be between 1 and 3600 and shorter than `lease_seconds`",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    #[test]
    fn limits_and_the_state_store_are_refused_with_the_field_and_the_rule() {
        let cases = [
            (
                "[rate_limits]\nmax_tracked_keys = 0\n",
                "`rate_limits.max_tracked_keys`: must be at least 1",
            ),
            (
                "[rate_limits]\nsource_ip = { rate = 1e12, burst = 1 }\n",
                "`rate_limits.source_ip.rate`: must be a positive number of requests per second (at most 1e9)",
            ),
            (
                "[buckets.open]\nbackend = \"b\"\nanonymous_rate_limit = { rate = 1, burst = 0 }\n",
                "`buckets.open.anonymous_rate_limit.burst`: must be at least 1",
            ),
            (
                "[state]\nkey_prefix = \"a b\"\n",
                "`state.key_prefix`: must be non-empty, without braces or spaces",
            ),
            (
                "[state]\nresponse_timeout_ms = 60001\n",
                "`state.response_timeout_ms`: must be between 1 and 60000",
            ),
            (
                "[state]\nlease_seconds = 0\n",
                "`state.lease_seconds`: must be between 1 and 3600",
            ),
        ];
        for (text, expected) in cases {
            let error = Config::from_str(text).unwrap_err().to_string();
            assert_eq!(error, format!("invalid config field {expected}"), "{text}");
        }
    }
}
