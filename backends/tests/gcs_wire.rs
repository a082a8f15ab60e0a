//! What the gcs backend sends, as a fake Cloud Storage on 127.0.0.1 sees
//! it: every documented difference from the s3 backend checked on the
//! captured requests (`src/gcs/mod.rs` lists them).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly; clippy exempts only #[test] functions"
)]

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};

use cedargate_backends::gcs::{GcsBackend, GcsConfig};
use cedargate_backends::{
    Backend, BackendError, ListOptions, MemoryBody, ObjectChecksum, ObjectIdentifier, ObjectRef,
    PartCopyOptions, PutOptions, UploadRef,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

mod upstream;
use upstream::{Seen, read_request};

const LISTING: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>\
<Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
<Contents><Key>k</Key><LastModified>2025-01-01T00:00:00.000Z</LastModified>\
<ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>2</Size></Contents></ListBucketResult>";

const DELETED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
<Deleted><Key>one</Key></Deleted><Deleted><Key>two</Key></Deleted>\
<Error><Key>a b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>";

/// A fake Cloud Storage answering by method, reporting each request.
async fn fake_gcs() -> (u16, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                while let Some(seen) = read_request(&mut stream).await {
                    let answer = if seen.head.starts_with("PUT ") {
                        "HTTP/1.1 200 OK\r\nETag: \"49f68a5c8493ec2c0bf489821c21fc3b\"\r\nContent-Length: 0\r\n\r\n".to_owned()
                    } else if seen.head.starts_with("DELETE ") {
                        "HTTP/1.1 204 No Content\r\n\r\n".to_owned()
                    } else {
                        let document = if seen.head.starts_with("POST ") {
                            DELETED
                        } else {
                            LISTING
                        };
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{document}",
                            document.len()
                        )
                    };
                    let _ = sender.send(seen);
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, receiver)
}

fn backend(port: u16) -> GcsBackend {
    let mut config = GcsConfig::new("GOOGTESTHMACID", "hmac-secret");
    config.endpoint = format!("http://127.0.0.1:{port}");
    config.project_id = Some("my-project".to_owned());
    config.connect_timeout = Duration::from_secs(2);
    config.read_timeout = Duration::from_secs(2);
    GcsBackend::new(config).unwrap()
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// What no request to GCS may carry.
fn assert_gcs_clean(seen: &Seen) {
    let lowered = seen.head.to_ascii_lowercase();
    for banned in [
        "x-amz-checksum",
        "x-amz-sdk-checksum-algorithm",
        "x-amz-trailer",
        "x-amz-decoded-content-length",
        "aws-chunked",
        "accept-encoding",
        "streaming-",
    ] {
        assert!(!lowered.contains(banned), "`{banned}` sent:\n{}", seen.head);
    }
    let authorization = header(seen, "authorization").unwrap();
    assert!(
        authorization.contains("Credential=GOOGTESTHMACID/")
            && authorization.contains("/auto/s3/aws4_request"),
        "{authorization}"
    );
}

#[tokio::test]
async fn requests_follow_the_xml_api_rules() {
    let (port, mut seen) = fake_gcs().await;
    let gcs = backend(port);
    assert_eq!(gcs.kind(), "gcs");
    assert_eq!(gcs.project_id(), Some("my-project"));

    let options = PutOptions {
        content_length: Some(2),
        checksum: Some(ObjectChecksum::full_object(
            cedargate_backends::ChecksumAlgorithm::Crc32,
            "2JMqrA==",
        )),
        ..PutOptions::default()
    };
    gcs.put_object("b", "k", &mut MemoryBody::from(&b"hi"[..]), options)
        .await
        .unwrap();
    let put = seen.recv().await.unwrap();
    assert!(put.head.starts_with("PUT /b/k HTTP/1.1"), "{}", put.head);
    assert_eq!(header(&put, "content-length"), Some("2"));
    assert_eq!(
        header(&put, "x-amz-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );
    assert_eq!(put.body, b"hi");
    assert_gcs_clean(&put);

    let page = gcs.list_objects("b", ListOptions::default()).await.unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_gcs_clean(&seen.recv().await.unwrap());

    // Multi-object delete: one POST ?delete whose body carries a Content-MD5.
    let keys: Vec<ObjectIdentifier> = ["one", "two", "a b"]
        .into_iter()
        .map(ObjectIdentifier::key)
        .collect();
    let results = gcs.delete_objects("b", &keys).await.unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert!(results[2].is_err(), "{results:?}");
    let delete = seen.recv().await.unwrap();
    assert!(
        delete.head.starts_with("POST /b?delete= HTTP/1.1"),
        "{}",
        delete.head
    );
    assert_gcs_clean(&delete);
    let md5 = BASE64.encode(Md5::digest(&delete.body));
    assert_eq!(header(&delete, "content-md5"), Some(md5.as_str()));
    let signed = header(&delete, "authorization").unwrap();
    assert!(signed.contains("content-md5"), "{signed}");
    let body = String::from_utf8(delete.body.clone()).unwrap();
    for key in ["<Key>one</Key>", "<Key>two</Key>", "<Key>a b</Key>"] {
        assert!(body.contains(key), "{body}");
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), seen.recv())
            .await
            .is_err(),
        "DeleteObjects sent more than one request"
    );

    // What GCS lacks is refused without a request.
    let upload = UploadRef {
        bucket: "b",
        key: "k",
        upload_id: "u",
    };
    let source = ObjectRef {
        bucket: "b",
        key: "src",
    };
    let refused = gcs
        .upload_part_copy(upload, 1, source, PartCopyOptions::default())
        .await;
    assert!(
        matches!(
            refused,
            Err(BackendError::NotImplemented {
                operation: "UploadPartCopy",
                backend: "gcs"
            })
        ),
        "{refused:?}"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), seen.recv())
            .await
            .is_err(),
        "a request was sent for an operation GCS lacks"
    );
}
