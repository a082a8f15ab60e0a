//! The pipeline run in-process, without a socket: a [`Gateway`] built from
//! a [`Config`] with a filesystem backend in a temporary directory, fed
//! SigV4-signed request heads and in-memory bodies through
//! [`Gateway::serve`]. Every backend call is recorded by a decorator
//! ([`recording::Recording`]), so each case checks the status, the S3 error
//! code and the backend calls the request made.
//!
//! [`handlers`] holds the table of every operation the dispatcher serves,
//! allowed and denied by policy; [`quota`] the quota stage; [`acl`] the
//! canned ACLs policies decide on.

mod acl;
mod handlers;
mod quota;
mod recording;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use cedargate_backends::collect_body;

use crate::auth::{Credential, CredentialStore};
use crate::body::ClientBody;
use crate::config::Config;
use crate::pipeline::{Gateway, Peer, RequestCtx};
use crate::response::ResponseBody;
use recording::{Calls, Recording};

/// The credential every policy permits.
const ADMIN: (&str, &str) = ("AKIDADMIN", "admin-secret-key-for-tests");
/// The credential a policy forbids everything.
const OUTSIDER: (&str, &str) = ("AKIDOUTSIDER", "outsider-secret-key-for-tests");

/// The policy set: `admin` may do everything, `outsider` nothing (an
/// explicit forbid, so a denial names its policy).
const POLICIES: &str = r#"
@id("admin-may-do-everything")
permit (principal == Credential::"admin", action, resource);

@id("outsider-may-do-nothing")
forbid (principal == Credential::"outsider", action, resource);
"#;

/// The host requests are sent to (path-style addressing).
const HOST: &str = "s3.test";

/// A gateway over a temporary directory, its backend calls recorded.
struct Harness {
    gateway: Arc<Gateway>,
    calls: Calls,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// What the pipeline answered.
#[derive(Debug)]
struct Outcome {
    status: u16,
    /// The `<Code>` of an error document.
    code: Option<String>,
    body: String,
    headers: Vec<(String, String)>,
    /// The backend calls made, in order.
    calls: Vec<&'static str>,
    ctx: RequestCtx,
    /// Whether the connection was kept alive.
    keepalive: bool,
    /// Whether `100 Continue` was sent.
    continued: bool,
}

impl Outcome {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Harness {
    /// A gateway whose config is the base below plus `extra` TOML.
    fn new(extra: &str) -> Self {
        Self::with_policies(extra, POLICIES)
    }

    /// As [`Self::new`], with the policy set `text`.
    fn with_policies(extra: &str, text: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let policies = dir.path().join("policies");
        std::fs::create_dir(&policies).expect("policy directory");
        std::fs::write(policies.join("test.cedar"), text).expect("policy file");
        let text = format!(
            r#"
            [server]
            listen = "127.0.0.1:9"
            admin_listen = "127.0.0.1:10"
            [policies]
            dir = "{policies}"
            watch = false
            [backends.local]
            kind = "fs"
            root = "{root}"
            durable_writes = false
            [default_route]
            backend = "local"
            [buckets.photos]
            backend = "local"
            backend_bucket = "photos-store"
            [buckets.source]
            backend = "local"
            {extra}
            "#,
            policies = policies.display(),
            root = dir.path().join("data").display(),
        );
        let config = Config::from_str(&text)
            .and_then(Config::validate)
            .expect("test config");
        let credentials = CredentialStore::from_credentials(vec![
            Credential::new(ADMIN.0, ADMIN.1, "admin"),
            Credential::new(OUTSIDER.0, OUTSIDER.1, "outsider"),
        ])
        .expect("credentials");
        let gateway = crate::server::build_gateway(config, credentials).expect("gateway");
        let calls = Calls::default();
        let mut buckets = (**gateway.buckets.load()).clone();
        buckets.wrap_backends(|inner| {
            Arc::new(Recording {
                inner,
                calls: calls.clone(),
            })
        });
        gateway.buckets.store(Arc::new(buckets));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Self {
            gateway,
            calls,
            runtime,
            _dir: dir,
        }
    }

    /// Sends `method target` (path and query, encoded), signed by
    /// `credential` (`None`: unsigned), with `headers` and `body`.
    fn send(
        &self,
        credential: Option<(&str, &str)>,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Outcome {
        let head = request_head(credential, method, target, headers, body);
        self.serve(head, body)
    }

    /// Runs the pipeline over `head` and `body` and collects the answer.
    fn serve(&self, head: http::request::Parts, body: &[u8]) -> Outcome {
        self.calls.take();
        let mut client = MemoryClient::new(body);
        let mut ctx = RequestCtx::new();
        let peer = Peer {
            addr: Some(([127, 0, 0, 1], 40000).into()),
            tls: false,
        };
        let (status, headers, body) = self.runtime.block_on(async {
            let answer = self
                .gateway
                .serve(&head, &peer, &mut client, &mut ctx)
                .await;
            let body = match answer.body {
                ResponseBody::Empty => Vec::new(),
                ResponseBody::Full(bytes) => bytes.to_vec(),
                ResponseBody::Stream { stream, .. } => {
                    collect_body(stream).await.expect("streamed body")
                }
            };
            let headers = answer
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_owned()))
                .collect::<Vec<_>>();
            (answer.status, headers, body)
        });
        self.gateway.finish(head.method.as_str(), &ctx, None);
        let body = String::from_utf8_lossy(&body).into_owned();
        Outcome {
            status,
            code: if status >= 300 {
                error_code(&body)
            } else {
                None
            },
            body,
            headers,
            calls: self.calls.take(),
            ctx,
            keepalive: client.keepalive,
            continued: client.continued,
        }
    }
}

/// The `<Code>` of an S3 error document.
fn error_code(body: &str) -> Option<String> {
    let start = body.find("<Code>")? + "<Code>".len();
    let end = body[start..].find("</Code>")? + start;
    body.contains("<Error>")
        .then(|| body[start..end].to_owned())
}

/// A request head as an S3 client sends it, signed with SigV4 by
/// `aws-sigv4` (header signature, signed payload hash) when `credential`
/// is given.
fn request_head(
    credential: Option<(&str, &str)>,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::request::Parts {
    signed_head("s3", credential, method, target, headers, body)
}

/// A request head for `service`, signed when `credential` is given.
fn signed_head(
    service: &str,
    credential: Option<(&str, &str)>,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::request::Parts {
    let url = format!("http://{HOST}{target}");
    let mut builder = http::Request::builder().method(method).uri(&url);
    builder = builder.header("host", HOST);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if !body.is_empty() || method == "PUT" || method == "POST" {
        builder = builder.header("content-length", body.len().to_string());
    }
    let mut request = builder.body(()).expect("request");
    if let Some((access_key, secret)) = credential {
        let identity: Identity = Credentials::new(access_key, secret, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .expect("signing parameters")
            .into();
        let signable = SignableRequest::new(
            method,
            &url,
            request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str(), value.to_str().expect("ASCII header"))),
            SignableBody::Bytes(body),
        )
        .expect("signable request");
        let (instructions, _) = sign(signable, &params).expect("signature").into_parts();
        instructions.apply_to_request_http1x(&mut request);
    }
    request.into_parts().0
}

/// A client body held in memory, sent in one chunk.
#[derive(Debug)]
struct MemoryClient {
    chunks: VecDeque<Bytes>,
    continued: bool,
    keepalive: bool,
}

impl MemoryClient {
    fn new(body: &[u8]) -> Self {
        let chunks = if body.is_empty() {
            VecDeque::new()
        } else {
            VecDeque::from([Bytes::copy_from_slice(body)])
        };
        Self {
            chunks,
            continued: false,
            keepalive: true,
        }
    }
}

#[async_trait]
impl ClientBody for MemoryClient {
    async fn read_chunk(&mut self) -> std::io::Result<Option<Bytes>> {
        Ok(self.chunks.pop_front())
    }

    async fn send_continue(&mut self) -> std::io::Result<()> {
        self.continued = true;
        Ok(())
    }

    fn is_done(&mut self) -> bool {
        self.chunks.is_empty()
    }

    fn disable_keepalive(&mut self) {
        self.keepalive = false;
    }
}

/// A shared, lock-protected list.
#[derive(Debug, Default, Clone)]
struct Shared<T>(Arc<Mutex<Vec<T>>>);

impl<T> Shared<T> {
    fn push(&self, item: T) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(item);
    }

    fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[test]
fn the_memory_client_sends_continue_and_gives_up_keepalive() {
    let harness = Harness::new("");
    // A refused PUT with a body: the body is left unread, the connection closed.
    let refused = harness.send(
        Some(OUTSIDER),
        "PUT",
        "/photos/a.txt",
        &[("expect", "100-continue")],
        b"hello",
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(!refused.keepalive, "an unread body closes the connection");
    assert!(!refused.continued, "no 100 Continue for a refused body");
    assert_eq!(refused.header("connection"), Some("close"));
    let stored = harness.send(
        Some(ADMIN),
        "PUT",
        "/photos/a.txt",
        &[("expect", "100-continue")],
        b"hello",
    );
    assert_eq!(stored.status, 200, "{stored:?}");
    assert!(stored.keepalive && stored.continued);
    assert_eq!(stored.ctx.bytes_in, 5);
    assert_eq!(
        stored.header("x-amz-request-id"),
        Some(stored.ctx.request_id.as_str())
    );
    assert_eq!(stored.header("server"), Some("cedargate"));
    let metrics = String::from_utf8_lossy(&harness.gateway.metrics.render()).into_owned();
    assert!(
        metrics.contains(r#"operation="PutObject""#) && metrics.contains(r#"status="403""#),
        "both requests are counted: {metrics}"
    );
}

#[test]
fn the_sts_endpoint_reads_its_form_from_the_client_body() {
    let harness = Harness::new("");
    let form = b"Action=GetCallerIdentity&Version=2011-06-15";
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let head = signed_head("sts", Some(ADMIN), "POST", "/", &headers, form);
    let outcome = harness.serve(head, form);
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    assert!(
        outcome.body.contains("<Arn>arn:aws:iam::") && outcome.body.contains(":user/admin</Arn>"),
        "{}",
        outcome.body
    );
    assert_eq!(outcome.header("content-type"), Some("text/xml"));
    assert_eq!(outcome.ctx.sts_action, Some("GetCallerIdentity"));
    assert_eq!(outcome.ctx.principal.as_deref(), Some("admin"));
    assert_eq!(
        (outcome.ctx.auth_mode.as_str(), outcome.ctx.result.as_str()),
        ("signed", "ok")
    );
    assert!(outcome.calls.is_empty());
    // A form announced longer than `sts.max_form_bytes` is refused unread,
    // and the connection given up.
    let long = vec![b'a'; 70 * 1024];
    let head = signed_head("sts", Some(ADMIN), "POST", "/", &headers, &long);
    let refused = harness.serve(head, &long);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("<Code>InvalidParameterValue</Code>"),
        "{}",
        refused.body
    );
    assert!(!refused.keepalive);
    assert_eq!(refused.ctx.result.as_str(), "InvalidParameterValue");
}
