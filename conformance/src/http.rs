//! A deliberately small HTTP/1.1 client over `std::net::TcpStream` (and
//! rustls for `https://` endpoints).
//!
//! The suite owns every byte it sends: malformed requests (a streaming PUT
//! with no decoded length, a broken `Authorization` header) go out exactly as
//! built, and the response is read without any client-side normalisation, so
//! a body sent after a HEAD or a 304 is seen instead of being silently
//! dropped. Every request sends `Connection: close`, has a deadline, and
//! reads at most [`MAX_RESPONSE_BYTES`].

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::conn::default_tls_config;
use crate::conn::{Stream, connect};

/// The most the suite reads of one response (headers and body).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// The most the suite reads of one response head (status line and headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// How long to wait for stray bytes after a response that has no body.
const TRAILING_BYTES_WAIT: Duration = Duration::from_millis(300);

/// A transport failure: nothing (or nothing parseable) came back.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The endpoint URL is not `http(s)://host[:port]`.
    #[error("invalid endpoint `{0}`: {1}")]
    Endpoint(String, String),
    /// No connection could be made.
    #[error("cannot connect to `{0}`: {1}")]
    Connect(String, String),
    /// The TLS setup or handshake failed.
    #[error("tls: {0}")]
    Tls(String),
    /// Reading or writing failed (including timeouts).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The response could not be parsed as HTTP/1.1.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// Where requests go: scheme, host and port of an S3 endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    tls: Option<Arc<rustls::ClientConfig>>,
    host: String,
    port: u16,
    /// The `Host` header value: host, plus the port when it is not the default.
    pub authority: String,
    /// `http` or `https`.
    pub scheme: &'static str,
}

impl Endpoint {
    /// Parses `http://host[:port][/]` or `https://...`; a path is refused
    /// because requests are path-style from the root.
    pub fn parse(url: &str, tls: Option<Arc<rustls::ClientConfig>>) -> Result<Self, HttpError> {
        let bad = |why: &str| HttpError::Endpoint(url.to_owned(), why.to_owned());
        let uri: http::Uri = url.parse().map_err(|_| bad("not a url"))?;
        let (scheme, default_port) = match uri.scheme_str() {
            Some("http") => ("http", 80),
            Some("https") => ("https", 443),
            _ => return Err(bad("the scheme must be http or https")),
        };
        if (uri.path() != "/" && !uri.path().is_empty()) || uri.query().is_some() {
            return Err(bad("the endpoint must not carry a path or query"));
        }
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let port = uri.port_u16().unwrap_or(default_port);
        let authority = if port == default_port {
            host.to_owned()
        } else {
            format!("{host}:{port}")
        };
        let tls = match (scheme, tls) {
            ("https", Some(config)) => Some(config),
            ("https", None) => Some(default_tls_config(None)?),
            _ => None,
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Self {
            tls,
            host,
            port,
            authority,
            scheme,
        })
    }

    /// The host name or address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS configuration, for `https://` endpoints.
    pub fn tls(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.tls.as_ref()
    }

    /// The endpoint as a URL prefix, e.g. `http://127.0.0.1:9000`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// One HTTP response as read off the wire.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names lowercased, values as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The body after de-chunking; for HEAD, 1xx, 204 and 304 responses,
    /// whatever bytes arrived after the head (which should be none).
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` (a complete HTTP/1.1 message) and reads the response.
/// `head` says the request was a HEAD, so the response has no body by framing.
pub fn exchange(
    endpoint: &Endpoint,
    request: &[u8],
    head: bool,
    timeout: Duration,
) -> Result<Response, HttpError> {
    let deadline = Instant::now() + timeout;
    let mut stream = connect(endpoint, timeout)?;
    // A server may answer early (411, 507) and stop reading: when writing
    // fails, the answer may still be there to read.
    let written = stream.write_all(request).and_then(|()| stream.flush());
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let (status, headers, head_len) = match read_head(&mut stream, &mut buf, deadline) {
            Ok(head) => head,
            Err(e) => return Err(written.err().map_or(e, HttpError::Io)),
        };
        buf.drain(..head_len);
        if (100..200).contains(&status) {
            continue;
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let bodiless = head || status == 204 || status == 304;
        response.body = if bodiless {
            stream.tcp().set_read_timeout(Some(TRAILING_BYTES_WAIT))?;
            read_to_end_lenient(&mut stream, buf, deadline)
        } else if response
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            read_chunked(&mut stream, buf, deadline)?
        } else if let Some(len) = response.header("content-length") {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| HttpError::Malformed(format!("content-length `{len}`")))?;
            read_exact_len(&mut stream, buf, len, deadline)?
        } else {
            read_to_end(&mut stream, buf, deadline)?
        };
        return Ok(response);
    }
}

fn check_deadline(deadline: Instant) -> Result<(), HttpError> {
    if Instant::now() > deadline {
        return Err(HttpError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the response did not arrive in time",
        )));
    }
    Ok(())
}

/// Reads one chunk from the stream into `buf`; returns false at end of stream.
fn fill(stream: &mut Stream, buf: &mut Vec<u8>, deadline: Instant) -> Result<bool, HttpError> {
    check_deadline(deadline)?;
    if buf.len() > MAX_RESPONSE_BYTES {
        return Err(HttpError::Malformed("the response is too large".into()));
    }
    let mut chunk = [0u8; 16 * 1024];
    let n = match stream.read(&mut chunk) {
        Ok(n) => n,
        // A peer that closes without TLS close_notify still ended the stream.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
        Err(e) => return Err(e.into()),
    };
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

type Head = (u16, Vec<(String, String)>, usize);

fn read_head(stream: &mut Stream, buf: &mut Vec<u8>, deadline: Instant) -> Result<Head, HttpError> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                let status = parsed.code.unwrap_or(0);
                let headers = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value).into_owned();
                        (h.name.to_ascii_lowercase(), value)
                    })
                    .collect();
                return Ok((status, headers, len));
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(HttpError::Malformed(e.to_string())),
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Err(HttpError::Malformed(
                "the response head is too large".into(),
            ));
        }
        if !fill(stream, buf, deadline)? {
            return Err(HttpError::Malformed(
                "the connection closed before a complete response head".into(),
            ));
        }
    }
}

fn read_exact_len(
    stream: &mut Stream,
    mut buf: Vec<u8>,
    len: usize,
    deadline: Instant,
) -> Result<Vec<u8>, HttpError> {
    if len > MAX_RESPONSE_BYTES {
        return Err(HttpError::Malformed("the response is too large".into()));
    }
    while buf.len() < len {
        if !fill(stream, &mut buf, deadline)? {
            return Err(HttpError::Malformed(format!(
                "the body ended after {} of {len} bytes",
                buf.len()
            )));
        }
    }
    buf.truncate(len);
    Ok(buf)
}

fn read_to_end(
    stream: &mut Stream,
    mut buf: Vec<u8>,
    deadline: Instant,
) -> Result<Vec<u8>, HttpError> {
    while fill(stream, &mut buf, deadline)? {}
    Ok(buf)
}

/// Collects stray bytes after a bodiless response; a timeout or reset ends
/// the wait without error.
fn read_to_end_lenient(stream: &mut Stream, mut buf: Vec<u8>, deadline: Instant) -> Vec<u8> {
    while let Ok(true) = fill(stream, &mut buf, deadline) {}
    buf
}

fn read_chunked(
    stream: &mut Stream,
    buf: Vec<u8>,
    deadline: Instant,
) -> Result<Vec<u8>, HttpError> {
    let mut raw = buf;
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = loop {
            if let Some(i) = find_crlf(&raw[pos..]) {
                break pos + i;
            }
            if !fill(stream, &mut raw, deadline)? {
                return Err(HttpError::Malformed("the chunked body ended early".into()));
            }
        };
        let line = String::from_utf8_lossy(&raw[pos..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size `{size_text}`")))?;
        pos = line_end + 2;
        if size == 0 {
            return Ok(body);
        }
        if body.len() + size > MAX_RESPONSE_BYTES {
            return Err(HttpError::Malformed("the response is too large".into()));
        }
        while raw.len() < pos + size + 2 {
            if !fill(stream, &mut raw, deadline)? {
                return Err(HttpError::Malformed("the chunked body ended early".into()));
            }
        }
        body.extend_from_slice(&raw[pos..pos + size]);
        pos += size + 2;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
