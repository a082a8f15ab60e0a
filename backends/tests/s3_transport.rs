//! [`S3Backend`] against misbehaving upstreams, played by tiny servers on
//! 127.0.0.1: an upstream dying mid-GET, a refused port, an answer that is
//! not HTTP, a silent upstream, a 503, failed uploads that must never
//! reach the upstream complete, connection reuse, and the storage headers
//! on the wire (of copies too).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly; clippy exempts only #[test] functions"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cedargate_backends::s3::{S3Backend, S3Config};
use cedargate_backends::{
    Backend, BackendError, BodySource, CopyOptions, GetOptions, MemoryBody, MetadataDirective,
    ObjectChecksum, ObjectHeaders, ObjectRef, PutOptions, collect_body,
};
use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

mod upstream;
use upstream::{Seen, read_request};

fn backend(port: u16) -> S3Backend {
    let mut config = S3Config::new(
        format!("http://127.0.0.1:{port}"),
        "us-east-1",
        "AKIDTEST",
        "secret",
    );
    config.connect_timeout = Duration::from_secs(2);
    config.read_timeout = Duration::from_millis(500);
    S3Backend::new(config).unwrap()
}

/// A server answering every request of every connection with `answer`
/// (keep-alive), reporting each request; counts connections.
async fn keep_alive_server(
    answer: &'static str,
) -> (u16, mpsc::UnboundedReceiver<Seen>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::unbounded_channel();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let sender = sender.clone();
            tokio::spawn(async move {
                while let Some(seen) = read_request(&mut stream).await {
                    let complete = seen.complete;
                    let _ = sender.send(seen);
                    if !complete || stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, receiver, connections)
}

/// A server that answers the first request of each connection with
/// `answer` and then closes.
async fn one_shot_server(answer: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if read_request(&mut stream).await.is_some() {
                    let _ = stream.write_all(answer).await;
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn an_upstream_dying_mid_get_ends_the_stream_with_an_error() {
    const ANSWER: &str = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\
                          ETag: \"0123456789abcdef0123456789abcdef\"\r\n\
                          Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n0123456789";
    let port = one_shot_server(ANSWER.as_bytes()).await;
    let backend = backend(port);
    let got = backend
        .get_object("bucket", "key", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(got.meta.size, 1000);
    let mut body = got.body;
    let mut received = 0;
    let mut failed = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(item) = body.next().await {
        assert!(Instant::now() < deadline, "the stream must end");
        match item {
            Ok(chunk) => received += chunk.len(),
            Err(error) => {
                failed = Some(error);
                break;
            }
        }
    }
    assert_eq!(received, 10);
    let error = failed.expect("a short body ends with an Err item, never silently");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionAborted
        ),
        "{error:?}"
    );
    assert!(body.next().await.is_none(), "nothing follows the error");
}

#[tokio::test]
async fn a_refused_port_is_unavailable_quickly() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let backend = backend(port);
    let started = Instant::now();
    let result = backend.head_bucket("bucket").await;
    assert!(
        matches!(result, Err(BackendError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let result = backend
        .get_object("bucket", "key", GetOptions::default())
        .await;
    assert!(
        matches!(result, Err(BackendError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_http_is_a_bad_gateway() {
    let port = one_shot_server(b"220 smtp.example ESMTP ready\r\n\r\ngarbage").await;
    let backend = backend(port);
    let result = backend.head_bucket("bucket").await;
    assert!(
        matches!(result, Err(BackendError::BadGateway(_))),
        "{result:?}"
    );
    let result = backend
        .get_object("bucket", "key", GetOptions::default())
        .await;
    assert!(
        matches!(result, Err(BackendError::BadGateway(_))),
        "{result:?}"
    );

    let xml_port = one_shot_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: application/xml\r\n\r\nnot a listing",
    )
    .await;
    let result = backend_list(xml_port).await;
    assert!(
        matches!(result, Err(BackendError::BadGateway(_))),
        "{result:?}"
    );
}

async fn backend_list(port: u16) -> Result<(), BackendError> {
    backend(port)
        .list_objects("bucket", Default::default())
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_silent_upstream_or_a_503_is_unavailable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let result = backend(port).head_bucket("bucket").await;
    assert!(
        matches!(result, Err(BackendError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let busy = one_shot_server(
        b"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    let result = backend(busy).head_bucket("bucket").await;
    assert!(
        matches!(result, Err(BackendError::Unavailable(_))),
        "{result:?}"
    );
}

/// A body that yields its chunks, then fails like a client going away.
struct Failing(Vec<Bytes>);

#[async_trait::async_trait]
impl BodySource for Failing {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Bytes>> {
        if self.0.is_empty() {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the client went away",
            ))
        } else {
            Ok(Some(self.0.remove(0)))
        }
    }
}

#[tokio::test]
async fn failed_uploads_never_reach_the_upstream_complete() {
    let answer = "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\n\r\n";
    let (port, mut seen, _) = keep_alive_server(answer).await;
    let backend = backend(port);
    let sized = |length: u64, md5: Option<[u8; 16]>| PutOptions {
        content_length: Some(length),
        content_md5: md5,
        ..PutOptions::default()
    };

    let mut body = Failing(vec![Bytes::from_static(b"partial")]);
    let result = backend
        .put_object("b", "k", &mut body, sized(100, None))
        .await;
    assert!(matches!(result, Err(BackendError::Body(_))), "{result:?}");

    let mut body = MemoryBody::new([Bytes::from_static(b"0123456789"), Bytes::from_static(b"x")]);
    let result = backend
        .put_object("b", "k", &mut body, sized(10, None))
        .await;
    assert!(
        matches!(result, Err(BackendError::IncompleteBody)),
        "{result:?}"
    );

    let mut body = MemoryBody::from(&b"short"[..]);
    let result = backend
        .put_object("b", "k", &mut body, sized(6, None))
        .await;
    assert!(
        matches!(result, Err(BackendError::IncompleteBody)),
        "{result:?}"
    );

    let wrong: [u8; 16] = Md5::digest(b"other").into();
    let mut body = MemoryBody::from(&b"content"[..]);
    let result = backend
        .put_object("b", "k", &mut body, sized(7, Some(wrong)))
        .await;
    assert!(matches!(result, Err(BackendError::BadDigest)), "{result:?}");

    for _ in 0..4 {
        let request = tokio::time::timeout(Duration::from_secs(5), seen.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            request.head.starts_with("PUT /b/k HTTP/1.1"),
            "{}",
            request.head
        );
        assert!(
            !request.complete,
            "the upstream never gets a complete body: {request:?}"
        );
    }

    let right: [u8; 16] = Md5::digest(b"content").into();
    let mut body = MemoryBody::new([Bytes::from_static(b"con"), Bytes::from_static(b"tent")]);
    let done = backend
        .put_object("b", "k", &mut body, sized(7, Some(right)))
        .await
        .unwrap();
    assert_eq!(done.etag, "e");
    let request = seen.recv().await.unwrap();
    assert!(request.complete);
    assert_eq!(request.body, b"content");
    let head = request.head.to_ascii_lowercase();
    let md5_header = {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(right);
        format!("content-md5: {}", encoded.to_ascii_lowercase())
    };
    for expected in [
        "content-length: 7",
        "x-amz-content-sha256: unsigned-payload",
        &md5_header,
        "authorization: aws4-hmac-sha256 credential=akidtest/",
        "host: 127.0.0.1:",
    ] {
        assert!(head.contains(expected), "{expected} in {head}");
    }
}

#[tokio::test]
async fn connections_are_reused_only_after_complete_exchanges() {
    let answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\
                  ETag: \"0123456789abcdef0123456789abcdef\"\r\n\
                  Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n0123456789";
    let (port, _seen, connections) = keep_alive_server(answer).await;
    let backend = backend(port);
    for _ in 0..3 {
        let got = backend
            .get_object("b", "k", GetOptions::default())
            .await
            .unwrap();
        assert_eq!(collect_body(got.body).await.unwrap(), b"0123456789");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one pooled connection"
    );

    let got = backend
        .get_object("b", "k", GetOptions::default())
        .await
        .unwrap();
    drop(got);
    let got = backend
        .get_object("b", "k", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(collect_body(got.body).await.unwrap(), b"0123456789");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "a download dropped unread is not reused"
    );
}

#[tokio::test]
async fn an_early_error_answer_to_an_upload_is_used_and_its_connection_closed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            // Answer from the head alone, then stop reading: the upload
            // stalls and the backend must still report this answer.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let doc = "<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>";
            let answer = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\n\r\n{doc}",
                doc.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            held.push(stream);
        }
    });
    let backend = backend(port);
    let big = Bytes::from(vec![b'x'; 32 * 1024 * 1024]);
    let mut body = MemoryBody::new([big.clone()]);
    let options = PutOptions {
        content_length: Some(big.len() as u64),
        ..PutOptions::default()
    };
    let result = backend.put_object("b", "k", &mut body, options).await;
    assert!(
        matches!(result, Err(BackendError::NoSuchBucket)),
        "{result:?}"
    );
    let _ = backend.head_bucket("b").await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "the connection of an unfinished upload is not reused"
    );
}

#[tokio::test]
async fn storage_and_customer_key_headers_reach_the_upstream_and_come_back() {
    let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\
                  ETag: \"0123456789abcdef0123456789abcdef\"\r\n\
                  Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\
                  x-amz-server-side-encryption-customer-algorithm: AES256\r\n\
                  x-amz-storage-class: STANDARD_IA\r\n\
                  x-amz-tagging-count: 2\r\n\r\nok";
    let (port, mut seen, _) = keep_alive_server(answer).await;
    let backend = backend(port);
    let sse_customer = BTreeMap::from([
        (
            "x-amz-server-side-encryption-customer-algorithm".to_owned(),
            "AES256".to_owned(),
        ),
        (
            "x-amz-server-side-encryption-customer-key".to_owned(),
            "a2V5".to_owned(),
        ),
        ("x-amz-storage-class".to_owned(), "not-for-reads".to_owned()),
    ]);
    let got = backend
        .get_object(
            "b",
            "k",
            GetOptions {
                sse_customer,
                ..GetOptions::default()
            },
        )
        .await
        .unwrap();
    let request = seen.recv().await.unwrap().head.to_ascii_lowercase();
    assert!(
        request.contains("x-amz-server-side-encryption-customer-key: a2v5"),
        "{request}"
    );
    assert!(request.contains("x-amz-server-side-encryption-customer-algorithm: aes256"));
    assert!(!request.contains("not-for-reads"), "{request}");
    let storage = &got.meta.headers.storage;
    assert_eq!(storage["x-amz-storage-class"], "STANDARD_IA");
    assert_eq!(storage["x-amz-tagging-count"], "2");
    assert_eq!(
        storage["x-amz-server-side-encryption-customer-algorithm"],
        "AES256"
    );
    assert_eq!(collect_body(got.body).await.unwrap(), b"ok");

    let storage = BTreeMap::from([
        (
            "x-amz-server-side-encryption".to_owned(),
            "aws:kms".to_owned(),
        ),
        ("x-amz-tagging".to_owned(), "team=blue".to_owned()),
        ("x-amz-object-lock-mode".to_owned(), "GOVERNANCE".to_owned()),
        ("x-amz-tagging-count".to_owned(), "9".to_owned()),
    ]);
    let options = PutOptions {
        headers: ObjectHeaders {
            storage,
            ..ObjectHeaders::default()
        },
        content_length: Some(2),
        checksum: Some(ObjectChecksum::full_object(
            cedargate_backends::ChecksumAlgorithm::Crc32,
            "2JMqrA==",
        )),
        ..PutOptions::default()
    };
    let _ = backend
        .put_object("b", "k", &mut MemoryBody::from(&b"hi"[..]), options)
        .await;
    let request = seen.recv().await.unwrap().head.to_ascii_lowercase();
    for sent in [
        "x-amz-server-side-encryption: aws:kms",
        "x-amz-tagging: team=blue",
        "x-amz-object-lock-mode: governance",
        "x-amz-checksum-crc32: 2jmqra==",
        "x-amz-sdk-checksum-algorithm: crc32",
    ] {
        assert!(request.contains(sent), "`{sent}` missing in {request}");
    }
    assert!(
        !request.contains("x-amz-tagging-count"),
        "a response-only header was sent: {request}"
    );
}

#[tokio::test]
async fn a_copy_keeping_metadata_still_sends_storage_class_and_encryption() {
    const RESULT: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 137\r\n\r\n\
        <CopyObjectResult><LastModified>2025-01-01T00:00:00.000Z</LastModified>\
        <ETag>\"0123456789abcdef0123456789abcdef\"</ETag></CopyObjectResult>";
    let (port, mut seen, _) = keep_alive_server(RESULT).await;
    let backend = backend(port);
    let object = ObjectRef {
        bucket: "b",
        key: "k",
    };
    let storage = |pairs: &[(&str, &str)]| ObjectHeaders {
        content_type: Some("text/not-for-copies".to_owned()),
        storage: pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        ..ObjectHeaders::default()
    };
    // Onto itself with a new storage class (what `rclone settier` sends):
    // legal in S3, and the class must reach the upstream.
    let settier = CopyOptions {
        headers: storage(&[
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-amz-server-side-encryption", "AES256"),
            ("x-amz-tagging", "team=blue"),
        ]),
        ..CopyOptions::default()
    };
    let copied = backend.copy_object(object, object, settier).await.unwrap();
    assert_eq!(copied.etag, "0123456789abcdef0123456789abcdef");
    let request = seen.recv().await.unwrap().head.to_ascii_lowercase();
    for sent in [
        "x-amz-metadata-directive: copy",
        "x-amz-storage-class: standard_ia",
        "x-amz-server-side-encryption: aes256",
    ] {
        assert!(request.contains(sent), "`{sent}` missing in {request}");
    }
    for kept in ["x-amz-tagging", "text/not-for-copies"] {
        assert!(
            !request.contains(kept),
            "a copy keeping metadata sent {kept}: {request}"
        );
    }

    // Replacing metadata but keeping the source's tags: the tags the
    // gateway decided on are the source's, so no `x-amz-tagging` is sent.
    let destination = ObjectRef {
        bucket: "b",
        key: "other",
    };
    let replace_metadata = CopyOptions {
        metadata_directive: MetadataDirective::Replace,
        headers: storage(&[("x-amz-tagging", "team=blue")]),
        ..CopyOptions::default()
    };
    backend
        .copy_object(object, destination, replace_metadata)
        .await
        .unwrap();
    let request = seen.recv().await.unwrap().head.to_ascii_lowercase();
    assert!(
        request.contains("x-amz-metadata-directive: replace")
            && request.contains("text/not-for-copies"),
        "{request}"
    );
    assert!(
        !request.contains("x-amz-tagging"),
        "a copy keeping its source's tags sent other tags: {request}"
    );

    // Onto itself changing nothing S3 lets a copy change: refused here.
    let unchanged = CopyOptions {
        headers: storage(&[("x-amz-acl", "private")]),
        ..CopyOptions::default()
    };
    let refused = backend.copy_object(object, object, unchanged).await;
    assert!(
        matches!(refused, Err(BackendError::CopyOntoItself)),
        "{refused:?}"
    );
}
