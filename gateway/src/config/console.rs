//! `[console]`: the operator console on the admin listener and the admin
//! token that guards it (see `gateway/docs/console.md`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, invalid};

/// Most decisions the console may keep.
pub const MAX_CONSOLE_DECISIONS: usize = 10_000;

/// A login session's default lifetime: 12 hours.
pub const DEFAULT_SESSION_SECONDS: u64 = 12 * 3600;

/// Longest login session: 7 days.
pub const MAX_SESSION_SECONDS: u64 = 7 * 24 * 3600;

/// Most names `console.allowed_hosts` may list.
pub const MAX_ALLOWED_HOSTS: usize = 64;

/// The operator console (`[console]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Serve the console (`/console`, `/console/api/*`) on the admin listener.
    pub enabled: bool,
    /// The environment variable holding the admin token. The token guards
    /// the console, its JSON endpoints and `/quotas`; it is never logged.
    pub admin_token_env: Option<String>,
    /// A file holding the admin token (surrounding whitespace trimmed);
    /// relative paths are relative to the config file.
    pub admin_token_file: Option<PathBuf>,
    /// How many recent authorization decisions the console keeps.
    pub decisions: usize,
    /// Seconds between two samples of the traffic charts.
    pub sample_interval_seconds: u64,
    /// How many traffic samples are kept (90 x 10 s = 15 minutes).
    pub samples: usize,
    /// Host names (`name` or `name:port`) the console and `/quotas` answer
    /// to besides the loopback ones (`localhost`, `127.x.x.x`, `[::1]`):
    /// a request naming any other `Host` is refused with 421.
    pub allowed_hosts: Vec<String>,
    /// How long a login session lasts, in seconds (default 12 hours).
    pub session_seconds: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            admin_token_env: None,
            admin_token_file: None,
            decisions: 200,
            sample_interval_seconds: 10,
            samples: 90,
            allowed_hosts: Vec::new(),
            session_seconds: DEFAULT_SESSION_SECONDS,
        }
    }
}

impl ConsoleConfig {
    /// Whether an admin token is configured.
    pub fn has_token(&self) -> bool {
        self.admin_token_env.is_some() || self.admin_token_file.is_some()
    }

    /// Resolves a relative token file against the config file's directory.
    pub(super) fn resolve(&mut self, dir: &Path) {
        if let Some(file) = &self.admin_token_file {
            self.admin_token_file = Some(dir.join(file));
        }
    }

    /// The console's rules: ranges, one token source at most, and no
    /// token-less console on a non-loopback admin listener.
    pub(super) fn validate(&self, admin_listen: SocketAddr) -> Result<(), ConfigError> {
        if self.admin_token_env.is_some() && self.admin_token_file.is_some() {
            return Err(invalid(
                "console.admin_token_file",
                "set `admin_token_env` or `admin_token_file`, not both",
            ));
        }
        if self.admin_token_env.as_deref() == Some("") {
            return Err(invalid("console.admin_token_env", "must not be empty"));
        }
        if self.enabled && !self.has_token() && !admin_listen.ip().is_loopback() {
            return Err(invalid(
                "server.admin_listen",
                "is not a loopback address: the console needs `console.admin_token_env` or `console.admin_token_file` (or `console.enabled = false`)",
            ));
        }
        if !(1..=MAX_CONSOLE_DECISIONS).contains(&self.decisions) {
            return Err(invalid(
                "console.decisions",
                format!("must be between 1 and {MAX_CONSOLE_DECISIONS}"),
            ));
        }
        if !(1..=3600).contains(&self.sample_interval_seconds) {
            return Err(invalid(
                "console.sample_interval_seconds",
                "must be between 1 and 3600",
            ));
        }
        if !(2..=1000).contains(&self.samples) {
            return Err(invalid("console.samples", "must be between 2 and 1000"));
        }
        if !(1..=MAX_SESSION_SECONDS).contains(&self.session_seconds) {
            return Err(invalid(
                "console.session_seconds",
                format!("must be between 1 and {MAX_SESSION_SECONDS} (7 days)"),
            ));
        }
        if self.allowed_hosts.len() > MAX_ALLOWED_HOSTS {
            return Err(invalid(
                "console.allowed_hosts",
                format!("lists more than {MAX_ALLOWED_HOSTS} names"),
            ));
        }
        if let Some(bad) = self
            .allowed_hosts
            .iter()
            .find(|name| super::host::HostName::parse(name).is_none())
        {
            return Err(invalid(
                "console.allowed_hosts",
                format!("`{bad}` is not a host name, `name:port`, an IP address or `[IPv6]:port`"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_less_console_is_refused_off_loopback() {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 9001));
        let public = SocketAddr::from(([0, 0, 0, 0], 9001));
        let mut console = ConsoleConfig::default();
        assert!(console.validate(loopback).is_ok());
        let error = console.validate(public).unwrap_err().to_string();
        assert!(error.contains("`server.admin_listen`"), "{error}");
        console.admin_token_env = Some("CG_ADMIN_TOKEN".into());
        assert!(console.validate(public).is_ok());
        console.admin_token_env = None;
        console.enabled = false;
        assert!(console.validate(public).is_ok());
        let both = ConsoleConfig {
            admin_token_env: Some("A".into()),
            admin_token_file: Some("t".into()),
            ..ConsoleConfig::default()
        };
        assert!(both.validate(loopback).is_err());
    }

    #[test]
    fn session_lifetimes_and_allowed_hosts_are_checked() {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 9001));
        assert_eq!(ConsoleConfig::default().session_seconds, 12 * 3600);
        let table: &[(u64, &[&str], Option<&str>)] = &[
            (1, &[], None),
            (
                MAX_SESSION_SECONDS,
                &["console.example.test", "proxy.test:8443", "[::2]:9001"],
                None,
            ),
            (0, &[], Some("console.session_seconds")),
            (
                MAX_SESSION_SECONDS + 1,
                &[],
                Some("console.session_seconds"),
            ),
            (
                60,
                &["https://console.example.test"],
                Some("console.allowed_hosts"),
            ),
            (60, &["console example"], Some("console.allowed_hosts")),
            (60, &["host:99999"], Some("console.allowed_hosts")),
            (60, &[""], Some("console.allowed_hosts")),
        ];
        for (seconds, hosts, field) in table {
            let console = ConsoleConfig {
                session_seconds: *seconds,
                allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
                ..ConsoleConfig::default()
            };
            match (console.validate(loopback), field) {
                (Ok(()), None) => {}
                (Err(error), Some(field)) => {
                    assert!(error.to_string().contains(field), "{error}");
                }
                (result, _) => panic!("{seconds} {hosts:?}: {result:?}"),
            }
        }
        let many = ConsoleConfig {
            allowed_hosts: vec!["a.test".to_owned(); MAX_ALLOWED_HOSTS + 1],
            ..ConsoleConfig::default()
        };
        assert!(many.validate(loopback).is_err());
    }
}
