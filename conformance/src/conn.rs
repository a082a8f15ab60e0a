//! Connections for [`crate::http`]: TCP with a connect timeout and read and
//! write timeouts, wrapped in rustls for `https://` endpoints.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::http::{Endpoint, HttpError};

/// A rustls client configuration trusting the system roots, plus the
/// certificates of `ca_pem` (a PEM file's contents) when given.
pub fn default_tls_config(ca_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, HttpError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    if let Ok(native) = rustls_native_certs::load_native_certs() {
        let _ = roots.add_parsable_certificates(native);
    }
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| HttpError::Tls(format!("ca file: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| HttpError::Tls(format!("ca file: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A plain or TLS connection.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// The underlying TCP stream.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// Connects to `endpoint` (trying at most four addresses).
pub(crate) fn connect(endpoint: &Endpoint, timeout: Duration) -> Result<Stream, HttpError> {
    let target = format!("{}:{}", endpoint.host(), endpoint.port());
    let fail = |e: String| HttpError::Connect(target.clone(), e);
    let addrs = (endpoint.host(), endpoint.port())
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?;
    let mut last = String::from("no address");
    let mut tcp = None;
    for addr in addrs.take(4) {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = e.to_string(),
        }
    }
    let tcp = tcp.ok_or_else(|| fail(last))?;
    tcp.set_read_timeout(Some(timeout))?;
    tcp.set_write_timeout(Some(timeout))?;
    let _ = tcp.set_nodelay(true);
    match endpoint.tls() {
        None => Ok(Stream::Plain(tcp)),
        Some(config) => {
            let name = ServerName::try_from(endpoint.host().to_owned())
                .map_err(|e| HttpError::Tls(e.to_string()))?;
            let conn = rustls::ClientConnection::new(Arc::clone(config), name)
                .map_err(|e| HttpError::Tls(e.to_string()))?;
            Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
        }
    }
}
