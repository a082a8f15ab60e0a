//! The upstream's connection pool: pooled HTTP/1.1 connections handed out
//! for one exchange each, and taken back only once that exchange is
//! complete (the whole request written, the whole answer read).

use std::time::Duration;

use pingora::connectors::http::v1::Connector;
use pingora::protocols::http::v1::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;

use crate::{BackendError, BackendResult};

/// How long an idle pooled connection is kept.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections to the upstream, new or pooled.
pub(super) struct Pool {
    connector: Connector,
}

impl Pool {
    /// An empty pool.
    pub fn new() -> BackendResult<Self> {
        // pingora's TLS setup (loading the platform's root certificates)
        // panics on failure instead of answering an error.
        let connector = std::panic::catch_unwind(|| Connector::new(None))
            .map_err(|_| BackendError::other("setting up the upstream connector failed"))?;
        Ok(Self { connector })
    }

    /// A connection to `peer`, pooled (`true`) or new.
    pub async fn session(&self, peer: &HttpPeer) -> pingora::Result<(HttpSession, bool)> {
        self.connector.get_http_session(peer).await
    }

    /// Returns a connection whose exchange is complete to the pool.
    pub async fn release(&self, session: HttpSession, peer: &HttpPeer) {
        self.connector
            .release_http_session(session, peer, Some(IDLE_TIMEOUT))
            .await;
    }
}
