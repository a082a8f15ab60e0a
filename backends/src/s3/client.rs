//! The HTTP side of the s3 backend: one pingora connector (pooled HTTP/1.1
//! connections), requests signed with the backend's own credentials, and
//! answers read as status, headers and a body that is either collected
//! (documents) or streamed (object data).
//!
//! A connection returns to the pool only after a complete exchange: the
//! whole request written and the whole response body read. Anything else
//! (an abandoned upload, a download dropped halfway, a transport error)
//! closes it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use pingora::http::RequestHeader;
use pingora::protocols::http::v1::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;

use super::config::{Endpoint, S3Config};
use super::error::{Op, transport};
use super::pool::{IDLE_TIMEOUT, Pool};
use super::request::{Payload, Request};
use super::response::Response;
use super::signing::{BodyKind, Signer};
use super::transfer;
use super::url;
use crate::{BackendError, BackendResult};

/// How long resolved addresses of a host name are used.
const DNS_TTL: Duration = Duration::from_secs(30);

/// Attempts for a request whose body can be sent again, when a pooled
/// connection turns out to be closed.
const ATTEMPTS: usize = 3;

/// The upstream and how to talk to it.
pub(super) struct Client {
    pool: Arc<Pool>,
    endpoint: Endpoint,
    path_style: bool,
    /// [`S3Config::checksums`].
    pub checksums: bool,
    signer: Signer,
    connect_timeout: Duration,
    read_timeout: Duration,
    addresses: Mutex<Option<(Instant, Vec<SocketAddr>)>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("path_style", &self.path_style)
            .field("region", &self.signer.region())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`.
    pub fn new(config: &S3Config) -> BackendResult<Self> {
        let endpoint = Endpoint::parse(&config.endpoint)?;
        if config.region.is_empty() || config.access_key.is_empty() {
            return Err(BackendError::invalid_argument(
                "the s3 backend needs a region and an access key",
            ));
        }
        Ok(Self {
            pool: Arc::new(Pool::new()?),
            endpoint,
            path_style: config.path_style,
            checksums: config.checksums,
            signer: Signer::new(config),
            connect_timeout: config.connect_timeout,
            read_timeout: config.read_timeout,
            addresses: Mutex::new(None),
        })
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        self.signer.region()
    }

    /// Sends `request` and reads the answer's head. Any status is an `Ok`;
    /// see [`Response::check`].
    pub async fn send(
        &self,
        request: Request<'_>,
        payload: Payload<'_>,
    ) -> BackendResult<Response> {
        let service = request.bucket.is_empty() && request.key.is_none();
        if !service {
            url::check_bucket(request.bucket, self.path_style)?;
        }
        if let Some(key) = request.key {
            url::check_key(key)?;
        }
        let host = if self.path_style || service {
            self.endpoint.host.clone()
        } else {
            format!("{}.{}", request.bucket, self.endpoint.host)
        };
        let path =
            url::path_and_query(self.path_style, request.bucket, request.key, &request.query);
        let peer = self.peer(&host).await?;
        let op = request.op;
        match payload {
            Payload::Stream { body, length, md5 } if length > 0 => {
                let head = self.head(&request, &host, &path, BodyKind::Unsigned(length))?;
                let (mut session, _) = self.session(&peer).await?;
                let sent = transfer::upload(&mut session, head, body, length, md5).await;
                match sent {
                    Ok(()) => self.read_head(session, peer, op).await,
                    Err(transfer::UploadError::Upstream(error)) => {
                        // The upstream may have answered early (an error,
                        // before taking the whole body): prefer its answer.
                        match self.read_head(session, peer, op).await {
                            Ok(response) if response.status >= 300 => Ok(response.not_reusable()),
                            _ => Err(transport(error)),
                        }
                    }
                    Err(other) => Err(other.into_backend_error()),
                }
            }
            Payload::Stream { body, md5, .. } => {
                transfer::drain_empty(body, md5).await?;
                self.send_replayable(&request, &host, &path, &peer, None)
                    .await
            }
            Payload::Empty => {
                self.send_replayable(&request, &host, &path, &peer, None)
                    .await
            }
            Payload::Document(doc) => {
                self.send_replayable(&request, &host, &path, &peer, Some(doc))
                    .await
            }
        }
    }

    /// Sends a request whose body is in memory, retrying on a fresh
    /// connection when a pooled one was closed under it.
    async fn send_replayable(
        &self,
        request: &Request<'_>,
        host: &str,
        path: &str,
        peer: &HttpPeer,
        doc: Option<Bytes>,
    ) -> BackendResult<Response> {
        let kind = match &doc {
            Some(doc) => BodyKind::Document(doc),
            None => BodyKind::Empty,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let head = self.head(request, host, path, kind)?;
            let (mut session, reused) = self.session(peer).await?;
            let written = async {
                session.write_request_header(Box::new(head)).await?;
                if let Some(doc) = &doc {
                    session.write_body(doc).await?;
                }
                session.finish_body().await?;
                read_response_head(&mut session).await
            }
            .await;
            match written {
                Ok(()) => {
                    let bodiless = request.method == Method::HEAD;
                    return Ok(self.response(session, peer.clone(), request.op, bodiless));
                }
                Err(error) if reused && attempt < ATTEMPTS && is_stale(&error) => {
                    tracing::debug!(%error, "a pooled upstream connection was closed; retrying");
                }
                Err(error) => return Err(transport(error)),
            }
        }
    }

    async fn read_head(
        &self,
        mut session: HttpSession,
        peer: HttpPeer,
        op: Op,
    ) -> BackendResult<Response> {
        read_response_head(&mut session).await.map_err(transport)?;
        Ok(self.response(session, peer, op, false))
    }

    fn response(&self, session: HttpSession, peer: HttpPeer, op: Op, bodiless: bool) -> Response {
        Response::new(Arc::clone(&self.pool), session, peer, op, bodiless)
    }

    /// A connection to `peer`, pooled or new, with the timeouts set.
    async fn session(&self, peer: &HttpPeer) -> BackendResult<(HttpSession, bool)> {
        let (mut session, reused) = self.pool.session(peer).await.map_err(transport)?;
        session.read_timeout = Some(self.read_timeout);
        session.write_timeout = Some(self.read_timeout);
        Ok((session, reused))
    }

    /// The signed request head.
    fn head(
        &self,
        request: &Request<'_>,
        host: &str,
        path: &str,
        body: BodyKind<'_>,
    ) -> BackendResult<RequestHeader> {
        let host_header = self.endpoint.host_header(host);
        let url = format!("{}://{host_header}{path}", self.endpoint.scheme());
        self.signer.head(request, &host_header, &url, path, body)
    }

    /// The upstream peer for `host` (the bucket's virtual host, or the
    /// endpoint's), connecting to the endpoint's address.
    async fn peer(&self, host: &str) -> BackendResult<HttpPeer> {
        let address = self.address().await?;
        let sni = if self.endpoint.tls {
            host.to_owned()
        } else {
            String::new()
        };
        let mut peer = HttpPeer::new(address, self.endpoint.tls, sni);
        peer.options.connection_timeout = Some(self.connect_timeout);
        peer.options.total_connection_timeout = Some(self.connect_timeout);
        peer.options.read_timeout = Some(self.read_timeout);
        peer.options.write_timeout = Some(self.read_timeout);
        peer.options.idle_timeout = Some(IDLE_TIMEOUT);
        Ok(peer)
    }

    /// The endpoint's address: its IP, or its name resolved (cached briefly).
    async fn address(&self) -> BackendResult<SocketAddr> {
        if let Some(ip) = self.endpoint.ip() {
            return Ok(SocketAddr::new(ip, self.endpoint.port));
        }
        if let Ok(cache) = self.addresses.lock()
            && let Some((at, addresses)) = cache.as_ref()
            && at.elapsed() < DNS_TTL
            && let Some(first) = addresses.first()
        {
            return Ok(*first);
        }
        let lookup = tokio::net::lookup_host((self.endpoint.host.as_str(), self.endpoint.port));
        let addresses: Vec<SocketAddr> = tokio::time::timeout(self.connect_timeout, lookup)
            .await
            .map_err(|e| BackendError::Unavailable(Box::new(e)))?
            .map_err(|e| BackendError::Unavailable(Box::new(e)))?
            .collect();
        let first = addresses.first().copied().ok_or_else(|| {
            BackendError::Unavailable("the upstream's host name has no address".into())
        })?;
        if let Ok(mut cache) = self.addresses.lock() {
            *cache = Some((Instant::now(), addresses));
        }
        Ok(first)
    }
}

/// Reads the response head, skipping informational (1xx) answers.
async fn read_response_head(session: &mut HttpSession) -> pingora::Result<()> {
    for _ in 0..8 {
        session.read_response().await?;
        if !session
            .get_status()
            .is_some_and(|status| status.is_informational())
        {
            return Ok(());
        }
    }
    pingora::Error::e_explain(
        pingora::ErrorType::InvalidHTTPHeader,
        "too many informational answers",
    )
}

/// True for failures of a pooled connection the upstream had closed.
fn is_stale(error: &pingora::Error) -> bool {
    use pingora::ErrorType as T;
    matches!(
        error.etype(),
        T::ConnectionClosed | T::ReadError | T::WriteError
    )
}
