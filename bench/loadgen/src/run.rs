//! The load itself: `concurrency` workers, each on one keep-alive HTTP/1.1
//! connection, issuing requests until the deadline or the request budget
//! runs out, then the merged latency and byte counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::sign::{BodyHash, Signer, corrupt_signature, encode_path, encode_query};
use crate::stats::{Summary, WorkerStats, summarise};

/// The S3 operation each request performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    /// HeadObject.
    Head,
    /// GetObject.
    Get,
    /// PutObject of `--size` bytes.
    Put,
    /// ListObjectsV2 of `--prefix` (with `--unsigned`: `GET /bucket/prefix`).
    List,
    /// GetObject with a signature that does not verify (expects a 4xx).
    BadSignature,
    /// GetObject by a credential the policies refuse (expects 403).
    Denied,
}

/// The status an answer must have: exactly one, or any of a class (`2xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// This status.
    Status(u16),
    /// Any status of this hundred (2 for `2xx`).
    Class(u16),
}

impl Expect {
    /// Parses `200` or `2xx`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is neither a status nor a class like 2xx");
        match text.strip_suffix("xx") {
            Some(class) => class.parse().map(Self::Class).map_err(|_| invalid()),
            None => text.parse().map(Self::Status).map_err(|_| invalid()),
        }
    }

    fn matches(self, status: u16) -> bool {
        match self {
            Self::Status(expected) => status == expected,
            Self::Class(class) => status / 100 == class,
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(status) => write!(f, "{status}"),
            Self::Class(class) => write!(f, "{class}xx"),
        }
    }
}

/// Everything a worker needs to build its requests.
#[derive(Debug)]
pub struct Workload {
    /// `host:port` of the endpoint.
    pub authority: String,
    /// The operation.
    pub op: Op,
    /// Bucket.
    pub bucket: String,
    /// Key, or the key prefix when `keys` > 0.
    pub key: String,
    /// Requests cycle over `keys` keys `{key}{n}` (0: the one key `key`).
    pub keys: u64,
    /// The list prefix.
    pub prefix: String,
    /// The PUT body.
    pub body: Bytes,
    /// What the signature says about the body.
    pub body_hash: BodyHash,
    /// The signer; `None` for unsigned requests.
    pub signer: Option<Signer>,
    /// The status every request should get.
    pub expect: Expect,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Workload {
    fn path_and_query(&self, sequence: u64) -> String {
        let bucket = encode_path(&self.bucket);
        match self.op {
            Op::List if self.signer.is_none() => format!("/{bucket}/{}", encode_path(&self.prefix)),
            Op::List => format!(
                "/{bucket}?list-type=2&prefix={}",
                encode_query(&self.prefix)
            ),
            _ if self.keys > 0 => {
                let key = format!("{}{}", self.key, sequence % self.keys);
                format!("/{bucket}/{}", encode_path(&key))
            }
            _ => format!("/{bucket}/{}", encode_path(&self.key)),
        }
    }

    fn method(&self) -> http::Method {
        match self.op {
            Op::Head => http::Method::HEAD,
            Op::Put => http::Method::PUT,
            Op::Get | Op::List | Op::BadSignature | Op::Denied => http::Method::GET,
        }
    }

    /// The request with sequence number `sequence`, signed now.
    fn request(&self, sequence: u64) -> Result<http::Request<Full<Bytes>>, String> {
        let method = self.method();
        let path = self.path_and_query(sequence);
        let body = if self.op == Op::Put {
            self.body.clone()
        } else {
            Bytes::new()
        };
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(path.as_str())
            .header("host", self.authority.as_str())
            .header("user-agent", "cedargate-loadgen/0.1");
        if let Some(signer) = &self.signer {
            let hash = match self.op {
                Op::Put => &self.body_hash,
                _ => &BodyHash::Unsigned,
            };
            let signed = signer.sign_headers(
                method.as_str(),
                &self.authority,
                &path,
                hash,
                SystemTime::now(),
            )?;
            for (name, mut value) in signed {
                if name == "authorization" && self.op == Op::BadSignature {
                    corrupt_signature(&mut value);
                }
                builder = builder.header(name, value);
            }
        }
        builder.body(Full::new(body)).map_err(|e| e.to_string())
    }
}

/// How long and how much.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Workers (connections).
    pub concurrency: usize,
    /// No request starts after this much time.
    pub duration: Duration,
    /// At most this many requests in all (0: no limit but the duration).
    pub requests: u64,
}

/// Runs `workload` within `budget` and summarises it.
pub async fn run(workload: Arc<Workload>, budget: Budget) -> Summary {
    let started = Instant::now();
    let deadline = started + budget.duration;
    let issued = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::with_capacity(budget.concurrency);
    for _ in 0..budget.concurrency {
        let workload = Arc::clone(&workload);
        let issued = Arc::clone(&issued);
        handles.push(tokio::spawn(worker(workload, budget, deadline, issued)));
    }
    let mut total = WorkerStats::default();
    for handle in handles {
        match handle.await {
            Ok(stats) => {
                total.latencies_us.extend(stats.latencies_us);
                for (status, n) in stats.statuses {
                    *total.statuses.entry(status).or_default() += n;
                }
                total.errors += stats.errors;
                total.bytes += stats.bytes;
                if total.first_error.is_none() {
                    total.first_error = stats.first_error;
                }
            }
            Err(e) => total.error(format!("worker failed: {e}")),
        }
    }
    summarise(total, started.elapsed())
}

type Sender = SendRequest<Full<Bytes>>;

async fn connect(authority: &str) -> Result<Sender, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        // The connection ends when the server closes it or the sender drops.
        let _ = connection.await;
    });
    Ok(sender)
}

async fn worker(
    workload: Arc<Workload>,
    budget: Budget,
    deadline: Instant,
    issued: Arc<AtomicU64>,
) -> WorkerStats {
    let mut stats = WorkerStats::default();
    let mut sender: Option<Sender> = None;
    while Instant::now() < deadline {
        let sequence = issued.fetch_add(1, Ordering::Relaxed);
        if budget.requests > 0 && sequence >= budget.requests {
            break;
        }
        let request = match workload.request(sequence) {
            Ok(request) => request,
            Err(e) => {
                stats.error(e);
                break;
            }
        };
        let start = Instant::now();
        let outcome = tokio::time::timeout(
            workload.timeout,
            exchange(&mut sender, &workload.authority, request),
        )
        .await
        .unwrap_or_else(|_| Err("timed out".to_owned()));
        let latency = start.elapsed();
        stats
            .latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
        match outcome {
            Ok((status, received)) => {
                *stats.statuses.entry(status.to_string()).or_default() += 1;
                let sent = if workload.op == Op::Put {
                    workload.body.len() as u64
                } else {
                    0
                };
                stats.bytes += sent + received;
                if !workload.expect.matches(status) {
                    stats.error(format!("status {status}, expected {}", workload.expect));
                }
            }
            Err(e) => {
                *stats.statuses.entry("io".to_owned()).or_default() += 1;
                sender = None;
                stats.error(e);
            }
        }
    }
    stats
}

/// Sends one request on the worker's connection (opening one when there is
/// none or the server closed it) and reads the whole answer; returns the
/// status and the body bytes received.
async fn exchange(
    sender: &mut Option<Sender>,
    authority: &str,
    request: http::Request<Full<Bytes>>,
) -> Result<(u16, u64), String> {
    let reusable = match sender.take() {
        Some(mut existing) => existing.ready().await.is_ok().then_some(existing),
        None => None,
    };
    let open = match reusable {
        Some(existing) => existing,
        None => {
            let mut fresh = connect(authority).await?;
            fresh.ready().await.map_err(|e| format!("ready: {e}"))?;
            fresh
        }
    };
    let connection = sender.insert(open);
    let response = connection
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("body: {e}"))?;
        if let Some(data) = frame.data_ref() {
            received += data.len() as u64;
        }
    }
    Ok((status, received))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(op: Op, signed: bool) -> Workload {
        Workload {
            authority: "127.0.0.1:9".to_owned(),
            op,
            bucket: "bench".to_owned(),
            key: "obj/k".to_owned(),
            keys: 0,
            prefix: "list/".to_owned(),
            body: Bytes::from_static(b"abc"),
            body_hash: BodyHash::Unsigned,
            signer: signed.then(|| Signer::new("AK", "SK", "us-east-1")),
            expect: Expect::Status(200),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn paths_follow_the_operation() {
        assert_eq!(workload(Op::Get, true).path_and_query(0), "/bench/obj/k");
        assert_eq!(
            workload(Op::List, true).path_and_query(0),
            "/bench?list-type=2&prefix=list%2F"
        );
        assert_eq!(workload(Op::List, false).path_and_query(0), "/bench/list/");
        let mut cycling = workload(Op::Put, true);
        cycling.keys = 3;
        assert_eq!(cycling.path_and_query(7), "/bench/obj/k1");
    }

    #[test]
    fn only_signed_requests_carry_authorization() {
        let signed = workload(Op::Put, true).request(0).unwrap();
        assert!(signed.headers().contains_key("authorization"));
        assert_eq!(signed.method(), http::Method::PUT);
        let plain = workload(Op::Get, false).request(0).unwrap();
        assert!(!plain.headers().contains_key("authorization"));
    }

    #[test]
    fn expectations_are_a_status_or_a_class() {
        assert_eq!(Expect::parse("204").unwrap(), Expect::Status(204));
        let success = Expect::parse("2xx").unwrap();
        assert!(success.matches(201) && success.matches(204) && !success.matches(301));
        assert!(Expect::parse("x").is_err());
    }
}
