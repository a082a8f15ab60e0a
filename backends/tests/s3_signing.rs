//! Every request shape of [`S3Backend`] against a server that verifies
//! SigV4: `s3s-fs` (built into `.tools` by `scripts/setup`), started on
//! 127.0.0.1 with the backend's credentials. Moto, which runs the contract
//! suite, accepts any signature; this proves the signatures (awkward keys
//! in paths, query parameters, copy sources, signed document bodies,
//! unsigned streamed bodies) are the ones S3 computes. A wrong secret must
//! be refused.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly; clippy exempts only #[test] functions"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cedargate_backends::s3::{S3Backend, S3Config};
use cedargate_backends::{
    Backend, BackendError, ByteRange, CompletedPart, Conditions, CopyOptions, GetOptions,
    ListOptions, ListPartsOptions, MemoryBody, MetadataDirective, ObjectHeaders, ObjectIdentifier,
    ObjectRef, PartCopyOptions, PartOptions, PutOptions, UploadRef, collect_body,
};
use md5::{Digest, Md5};
use tempfile::TempDir;

const ACCESS_KEY: &str = "AKIDCEDARGATESIGN";
const SECRET_KEY: &str = "cedargate+sign/secret";
const BUCKET: &str = "signed";

/// An `s3s-fs` serving a temp directory on a free port, killed on drop.
struct S3sFs {
    child: Child,
    port: u16,
    _root: TempDir,
}

impl S3sFs {
    async fn start() -> Self {
        let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin/s3s-fs");
        assert!(
            binary.exists(),
            "{} is missing: run scripts/setup",
            binary.display()
        );
        let root = TempDir::new().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            port,
            _root: root,
        };
        let backend = server.backend(SECRET_KEY);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match backend.head_bucket(BUCKET).await {
                Ok(_) => return server,
                other if Instant::now() > deadline => {
                    panic!("s3s-fs did not answer within 20 s: {other:?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn backend(&self, secret: &str) -> S3Backend {
        let endpoint = format!("http://127.0.0.1:{}", self.port);
        S3Backend::new(S3Config::new(endpoint, "us-east-1", ACCESS_KEY, secret)).unwrap()
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

async fn put(backend: &S3Backend, key: &str, data: &[u8], options: PutOptions) -> String {
    let mut body = MemoryBody::from(data);
    let options = PutOptions {
        content_length: Some(data.len() as u64),
        content_md5: Some(md5(data)),
        ..options
    };
    backend
        .put_object(BUCKET, key, &mut body, options)
        .await
        .unwrap_or_else(|e| panic!("put `{key}`: {e:?}"))
        .etag
}

async fn get(backend: &S3Backend, key: &str, options: GetOptions) -> Vec<u8> {
    let got = backend
        .get_object(BUCKET, key, options)
        .await
        .unwrap_or_else(|e| panic!("get `{key}`: {e:?}"));
    collect_body(got.body).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_shape_is_signed_as_s3_expects() {
    let server = S3sFs::start().await;
    let backend = server.backend(SECRET_KEY);

    let keys = [
        "plain.txt",
        "a b",
        "a+b",
        "100%",
        "%2E%2E",
        "ü/ñ",
        "semi;colon",
        "q?x=1&y=2",
        "#hash",
        "~tilde",
        "star*(paren)!'",
        "deep/er/key=value,more",
    ];
    let options = PutOptions {
        headers: ObjectHeaders {
            content_type: Some("text/plain; charset=utf-8".into()),
            cache_control: Some("max-age=60".into()),
            ..ObjectHeaders::default()
        },
        user_metadata: BTreeMap::from([("color".to_owned(), "blue  and  green".to_owned())]),
        ..PutOptions::default()
    };
    for key in keys {
        put(&backend, key, key.as_bytes(), options.clone()).await;
        assert_eq!(
            get(&backend, key, GetOptions::default()).await,
            key.as_bytes()
        );
        let meta = backend
            .head_object(BUCKET, key, GetOptions::default())
            .await
            .unwrap_or_else(|e| panic!("head `{key}`: {e:?}"));
        assert_eq!(meta.user_metadata["color"], "blue  and  green");
    }

    let ranged = GetOptions {
        range: Some(ByteRange::FromTo {
            first: 1,
            last: Some(3),
        }),
        conditions: Conditions {
            if_none_match: Some("\"other\"".into()),
            ..Conditions::default()
        },
        ..GetOptions::default()
    };
    assert_eq!(get(&backend, "plain.txt", ranged).await, b"lai");

    for (prefix, delimiter, start_after) in [
        ("", None, None),
        ("a ", Some("/"), None),
        ("a+", None, Some("a b")),
        ("ü/", Some("/"), None),
        ("q?x=1&", None, Some("%")),
    ] {
        let listing = ListOptions {
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            start_after: start_after.map(str::to_owned),
            max_keys: 1000,
        };
        backend
            .list_objects(BUCKET, listing)
            .await
            .unwrap_or_else(|e| panic!("list `{prefix}`: {e:?}"));
    }

    let copy = CopyOptions {
        metadata_directive: MetadataDirective::Replace,
        headers: ObjectHeaders {
            content_type: Some("application/json".into()),
            ..ObjectHeaders::default()
        },
        user_metadata: BTreeMap::from([("copied".to_owned(), "yes".to_owned())]),
        ..CopyOptions::default()
    };
    let from = ObjectRef {
        bucket: BUCKET,
        key: "q?x=1&y=2",
    };
    let to = ObjectRef {
        bucket: BUCKET,
        key: "copies/a b+c",
    };
    backend
        .copy_object(from, to, copy)
        .await
        .unwrap_or_else(|e| panic!("copy: {e:?}"));
    assert_eq!(
        get(&backend, "copies/a b+c", GetOptions::default()).await,
        b"q?x=1&y=2"
    );

    let key = "multi part/ü+1";
    let upload_id = backend
        .create_multipart_upload(BUCKET, key, PutOptions::default())
        .await
        .unwrap_or_else(|e| panic!("create: {e:?}"));
    let upload = UploadRef {
        bucket: BUCKET,
        key,
        upload_id: &upload_id,
    };
    let part = Bytes::from(vec![b'p'; 5 * 1024 * 1024]);
    let mut body = MemoryBody::new([part.slice(..1024), part.slice(1024..)]);
    let part_options = PartOptions {
        content_length: Some(part.len() as u64),
        content_md5: Some(md5(&part)),
        checksum: None,
    };
    let first = backend
        .upload_part(upload, 1, &mut body, part_options)
        .await
        .unwrap_or_else(|e| panic!("upload_part: {e:?}"));
    let copied = backend
        .upload_part_copy(
            upload,
            2,
            ObjectRef {
                bucket: BUCKET,
                key: "a+b",
            },
            PartCopyOptions {
                range: Some(ByteRange::FromTo {
                    first: 0,
                    last: Some(1),
                }),
                ..PartCopyOptions::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("upload_part_copy: {e:?}"));
    let parts = backend
        .list_parts(upload, ListPartsOptions::default())
        .await
        .unwrap_or_else(|e| panic!("list_parts: {e:?}"));
    assert_eq!(parts.parts.len(), 2);
    let completed = [
        CompletedPart {
            part_number: 1,
            etag: first.etag,
            checksum: None,
        },
        CompletedPart {
            part_number: 2,
            etag: copied.etag,
            checksum: None,
        },
    ];
    let done = backend
        .complete_multipart_upload(upload, &completed, Default::default())
        .await
        .unwrap_or_else(|e| panic!("complete: {e:?}"));
    assert_eq!(done.size, part.len() as u64 + 2);
    let whole = get(&backend, key, GetOptions::default()).await;
    assert_eq!(whole.len(), part.len() + 2);
    assert!(
        whole.ends_with(b"pa+"),
        "part 2 is the first two bytes of `a+b`"
    );

    let mut all: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    all.extend(["copies/a b+c".to_owned(), key.to_owned()]);
    let objects: Vec<ObjectIdentifier> = all[1..].iter().map(ObjectIdentifier::key).collect();
    let results = backend
        .delete_objects(BUCKET, &objects)
        .await
        .unwrap_or_else(|e| panic!("delete_objects: {e:?}"));
    for (key, result) in all[1..].iter().zip(results) {
        result.unwrap_or_else(|e| panic!("deleting `{key}`: {e:?}"));
    }
    backend.delete_object(BUCKET, &all[0]).await.unwrap();
    let left = backend
        .list_objects(BUCKET, ListOptions::default())
        .await
        .unwrap();
    assert!(left.objects.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused() {
    let server = S3sFs::start().await;
    let backend = server.backend("not-the-secret");
    let result = backend.head_bucket(BUCKET).await;
    assert!(matches!(result, Err(BackendError::Other(_))), "{result:?}");
    let result = backend.list_objects(BUCKET, ListOptions::default()).await;
    assert!(matches!(result, Err(BackendError::Other(_))), "{result:?}");
}
