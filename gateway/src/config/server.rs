//! `[server]`: the listeners, their connection caps and timeouts, and the
//! worker threads.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, invalid};

/// Most connections the admin listener may hold open at once: it serves
/// probes, Prometheus and a few operators, never S3 traffic.
pub const MAX_ADMIN_CONNECTIONS: usize = 1024;

/// Listeners and process settings (`[server]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the S3 listener.
    pub listen: SocketAddr,
    /// Address of the admin listener (`/healthz`, `/readyz`, `/metrics`,
    /// `/quotas` and the console).
    pub admin_listen: SocketAddr,
    /// Worker threads for the S3 listener.
    pub threads: usize,
    /// Seconds in-flight requests may take to finish on graceful shutdown (SIGTERM).
    pub grace_period_seconds: u64,
    /// An additional HTTPS listener for S3 (`[server.tls]`), off by default.
    pub tls: Option<TlsConfig>,
    /// Client connections open at once on the S3 listeners together; more are
    /// answered with SlowDown and closed.
    pub max_connections: usize,
    /// Seconds a request's header section may take to arrive (slow senders
    /// are cut off; bodies are not limited by it).
    pub header_timeout_seconds: u64,
    /// Seconds a request body may go without sending a byte; past that the
    /// request is answered 400 RequestTimeout, nothing of it is stored,
    /// and the connection is closed.
    pub body_timeout_seconds: u64,
    /// Client connections open at once on the admin listener; more are
    /// answered with 503 and closed. Kept small: the admin listener must
    /// never take the file descriptors the S3 listener needs.
    pub admin_max_connections: usize,
    /// Seconds a request's header section may take to arrive on the admin
    /// listener.
    pub admin_header_timeout_seconds: u64,
    /// Seconds a request body may take to arrive on the admin listener,
    /// once its header section was accepted; past that the request is
    /// answered 408 and the connection closed.
    pub admin_body_timeout_seconds: u64,
}

/// An HTTPS listener for S3 (`[server.tls]`), served with rustls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Address of the HTTPS S3 listener.
    pub listen: SocketAddr,
    /// PEM certificate chain; relative paths are relative to the config file.
    pub cert_file: PathBuf,
    /// PEM private key; relative paths are relative to the config file.
    pub key_file: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9000)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9001)),
            threads: 2,
            grace_period_seconds: 10,
            tls: None,
            max_connections: 4096,
            header_timeout_seconds: 10,
            body_timeout_seconds: 20,
            admin_max_connections: 64,
            admin_header_timeout_seconds: 5,
            admin_body_timeout_seconds: 10,
        }
    }
}

impl ServerConfig {
    /// Checks `[server]`: connection caps and timeouts, threads, and that
    /// no two listeners share an address.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be at least 1"));
        }
        for (field, value) in [
            ("server.header_timeout_seconds", self.header_timeout_seconds),
            ("server.body_timeout_seconds", self.body_timeout_seconds),
            (
                "server.admin_header_timeout_seconds",
                self.admin_header_timeout_seconds,
            ),
            (
                "server.admin_body_timeout_seconds",
                self.admin_body_timeout_seconds,
            ),
        ] {
            if value == 0 {
                return Err(invalid(field, "must be at least 1"));
            }
        }
        if !(1..=MAX_ADMIN_CONNECTIONS).contains(&self.admin_max_connections) {
            return Err(invalid(
                "server.admin_max_connections",
                format!("must be between 1 and {MAX_ADMIN_CONNECTIONS}"),
            ));
        }
        if self.threads == 0 || self.threads > 1024 {
            return Err(invalid("server.threads", "must be between 1 and 1024"));
        }
        // Port 0 asks the OS for a free port: such listeners never clash.
        let clash = |a: SocketAddr, b: SocketAddr| a == b && a.port() != 0;
        if clash(self.listen, self.admin_listen) {
            return Err(invalid(
                "server.admin_listen",
                "must differ from `server.listen`",
            ));
        }
        if let Some(tls) = &self.tls {
            let taken = [self.listen, self.admin_listen];
            if taken.iter().any(|&other| clash(other, tls.listen)) {
                return Err(invalid(
                    "server.tls.listen",
                    "must differ from `server.listen` and `server.admin_listen`",
                ));
            }
        }
        Ok(())
    }
}
