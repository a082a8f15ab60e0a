//! The listening sockets, bound before any service starts.
//!
//! pingora binds a listener inside its service thread and, when the address
//! is in use, retries for 30 seconds and then panics that thread while the
//! rest of the process keeps running (and `/readyz` answers). The gateway
//! binds every listener itself first instead (S3, S3 over TLS, admin): an
//! address it cannot bind ends the start with one error naming the address,
//! the config field and the OS error, before anything serves or logs
//! "listening". The bound sockets reach pingora through its listen-fd table,
//! the way it takes over sockets on a graceful upgrade ([`PreBound`]), so
//! nothing is bound twice and no other process can take the address between
//! a check and the bind.
//!
//! A listener may be configured on port 0: the OS picks a free port, the
//! configuration the gateway is built from names the address actually bound
//! ([`BoundListeners::record_in`]), and the "cedargate listening" log line
//! reports it, one field per listener
//! (`s3=127.0.0.1:40123 s3_tls=off admin=127.0.0.1:40125`).

use std::net::{SocketAddr, TcpListener};
use std::os::fd::IntoRawFd;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use pingora::server::{Fds, ListenFds, ShutdownWatch};
use pingora::services::Service;

use crate::config::Config;

/// The bound listeners, by the address text each pingora service is given
/// (the bound address, so that several listeners on port 0 stay apart).
#[derive(Clone)]
pub struct BoundListeners {
    fds: ListenFds,
    /// (config field, configured address, bound address), in bind order.
    bound: Vec<(&'static str, SocketAddr, SocketAddr)>,
}

impl std::fmt::Debug for BoundListeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundListeners")
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl BoundListeners {
    /// Binds the S3 listener, the TLS S3 listener (when configured) and the
    /// admin listener of `config`; the first that fails is the error, e.g.
    /// "cannot listen on 127.0.0.1:9000 (`server.listen`): Address already
    /// in use (os error 98)".
    pub fn bind(config: &Config) -> anyhow::Result<Self> {
        let server = &config.server;
        let mut wanted = vec![("server.listen", server.listen)];
        if let Some(tls) = &server.tls {
            wanted.push(("server.tls.listen", tls.listen));
        }
        wanted.push(("server.admin_listen", server.admin_listen));
        let mut listeners = Vec::with_capacity(wanted.len());
        for (field, address) in wanted {
            let listener = TcpListener::bind(address)
                .and_then(|listener| {
                    // pingora's accept loop polls the socket: it must not block.
                    listener.set_nonblocking(true)?;
                    Ok(listener)
                })
                .with_context(|| format!("cannot listen on {address} (`{field}`)"))?;
            let local = listener
                .local_addr()
                .with_context(|| format!("cannot read the address bound for `{field}`"))?;
            listeners.push((field, address, local, listener));
        }
        // Handed over only once all are bound: an early return closes them.
        let mut table = Fds::new();
        let mut bound = Vec::with_capacity(listeners.len());
        for (field, address, local, listener) in listeners {
            table.add(local.to_string(), listener.into_raw_fd());
            bound.push((field, address, local));
        }
        Ok(Self {
            fds: Arc::new(table.into()),
            bound,
        })
    }

    /// The address actually bound for `field` (differs from the configured
    /// one for port 0).
    pub fn local_addr(&self, field: &str) -> Option<SocketAddr> {
        self.bound
            .iter()
            .find(|(name, _, _)| *name == field)
            .map(|(_, _, local)| *local)
    }

    /// Writes the addresses bound into `config`'s listener fields, so that
    /// the gateway built from it (the services, the console's host check,
    /// the status page) names the port the OS chose for port 0.
    pub fn record_in(&self, config: &mut Config) {
        for &(field, _, local) in &self.bound {
            match field {
                "server.listen" => config.server.listen = local,
                "server.admin_listen" => config.server.admin_listen = local,
                _ => {
                    if let Some(tls) = config.server.tls.as_mut() {
                        tls.listen = local;
                    }
                }
            }
        }
    }

    /// `service`, made to serve from these sockets instead of binding its
    /// own (its addresses must be ones bound here).
    pub fn serve<S: Service>(&self, service: S) -> PreBound<S> {
        PreBound {
            inner: service,
            fds: Arc::clone(&self.fds),
        }
    }
}

/// A pingora service that takes its listeners from [`BoundListeners`].
pub struct PreBound<S> {
    inner: S,
    fds: ListenFds,
}

#[async_trait]
impl<S: Service> Service for PreBound<S> {
    async fn start_service(
        &mut self,
        _inherited: Option<ListenFds>,
        shutdown: ShutdownWatch,
        listeners_per_fd: usize,
    ) {
        let fds = Some(Arc::clone(&self.fds));
        self.inner
            .start_service(fds, shutdown, listeners_per_fd)
            .await;
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn threads(&self) -> Option<usize> {
        self.inner.threads()
    }

    fn runtime_opts_override(
        &self,
        global: &pingora::server::RuntimeOpts,
    ) -> Option<pingora::server::RuntimeOpts> {
        self.inner.runtime_opts_override(global)
    }

    fn listen_addresses(&self) -> Option<Vec<String>> {
        self.inner.listen_addresses()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_in_use_is_an_error_naming_it_and_its_field() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut config = Config::embedded_default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.server.admin_listen = taken.local_addr().unwrap();
        let error = format!("{:#}", BoundListeners::bind(&config).unwrap_err());
        let address = taken.local_addr().unwrap().to_string();
        assert!(
            error.starts_with(&format!(
                "cannot listen on {address} (`server.admin_listen`): "
            )),
            "{error}"
        );
        assert!(error.contains("in use"), "{error}");
        assert!(!error.contains('\n'), "one line: {error}");
    }

    #[test]
    fn every_listener_is_bound_before_serving() {
        let mut config = Config::embedded_default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.server.admin_listen = "127.0.0.2:0".parse().unwrap();
        let bound = BoundListeners::bind(&config).unwrap();
        for field in ["server.listen", "server.admin_listen"] {
            let local = bound.local_addr(field).unwrap();
            assert_ne!(local.port(), 0);
            assert!(
                TcpListener::bind(local).is_err(),
                "`{field}` is held by the gateway"
            );
        }
    }

    #[test]
    fn listeners_on_port_zero_each_serve_their_own_socket() {
        let mut config = Config::embedded_default();
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.server.admin_listen = "127.0.0.1:0".parse().unwrap();
        let bound = BoundListeners::bind(&config).unwrap();
        bound.record_in(&mut config);
        let addresses = [config.server.listen, config.server.admin_listen].map(|a| a.to_string());
        assert_ne!(addresses[0], addresses[1]);
        assert_ne!(config.server.listen.port(), 0);
        let table = bound.fds.lock();
        let fds: Vec<_> = addresses
            .iter()
            .map(|address| table.get(address).copied())
            .collect();
        assert!(fds.iter().all(Option::is_some), "{addresses:?}");
        assert_ne!(fds[0], fds[1]);
    }
}
