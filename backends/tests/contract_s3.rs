//! The contract suite against [`S3Backend`] talking to a real S3 server:
//! moto's `moto_server`, started on 127.0.0.1 for the test (installed by
//! `scripts/setup` into `.venv`). Moto deviates from S3 in a few places;
//! the cases it cannot pass are expected to fail, each with the reason.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly; clippy exempts only #[test] functions"
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use cedargate_backends::contract::{self, ContractConfig, ExpectedFailure};
use cedargate_backends::s3::{S3Backend, S3Config};
use cedargate_backends::{
    Backend, BackendError, GetOptions, ListOptions, MemoryBody, PutOptions, collect_body,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACCESS_KEY: &str = "AKIDCEDARGATETEST";
const SECRET_KEY: &str = "cedargate-test-secret";
const REGION: &str = "us-east-1";

/// The cases moto cannot pass, and why: they must fail.
fn moto_expected_failures() -> Vec<ExpectedFailure> {
    vec![
        ExpectedFailure {
            case: "multipart_wrong_upload",
            reason: "moto does not check that an upload belongs to the key given (UploadPart \
                     and AbortMultipartUpload act on another key's upload) and answers \
                     UploadPart to an unknown or aborted upload id with a 500 (KeyError), \
                     not NoSuchUpload",
        },
        ExpectedFailure {
            case: "multipart_list_uploads",
            reason: "moto's ListMultipartUploads ignores delimiter, key and upload-id markers \
                     and max-uploads, does not sort by key and reports a fixed initiation time",
        },
        ExpectedFailure {
            case: "versioning_marker_deletes",
            reason: "moto answers the deletion of a delete marker by its version id without \
                     x-amz-delete-marker (DeleteMarker in a DeleteObjects result)",
        },
        ExpectedFailure {
            case: "versioning_suspended",
            reason: "moto answers a PutObject in a suspended bucket without a version and a \
                     DeleteObject there without x-amz-delete-marker, and lists neither the \
                     null version nor the null delete marker",
        },
        ExpectedFailure {
            case: "version_null_requests",
            reason: "moto answers HeadObject with versionId=null in an unversioned bucket \
                     with 400, where S3 answers the object",
        },
        ExpectedFailure {
            case: "multipart_checksums",
            reason: "moto's ListParts shows no part checksums",
        },
        ExpectedFailure {
            case: "object_attributes",
            reason: "moto's GetObjectAttributes does not return ObjectParts",
        },
        ExpectedFailure {
            case: "part_number_reads",
            reason: "moto ignores partNumber on a multipart object's GetObject and answers \
                     the whole object",
        },
        ExpectedFailure {
            case: "multipart_complete_again",
            reason: "moto answers a repeated CompleteMultipartUpload with NoSuchUpload, \
                     where S3 answers the same result while the object is unchanged",
        },
        ExpectedFailure {
            case: "multipart_conditional_complete",
            reason: "moto's CompleteMultipartUpload ignores If-Match",
        },
    ]
}

/// A `moto_server` on a free port of 127.0.0.1, killed on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn binary() -> PathBuf {
        if let Some(python) = std::env::var_os("CEDARGATE_TEST_PYTHON") {
            let python = PathBuf::from(python);
            if let Some(dir) = python.parent() {
                return dir.join("moto_server");
            }
        }
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server")
    }

    async fn start() -> Self {
        let binary = Self::binary();
        assert!(
            binary.exists(),
            "{} is missing: run scripts/setup",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moto = Self { child, port };
        let backend = moto.backend(true);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match backend.head_bucket("cedargate-probe").await {
                Err(BackendError::NoSuchBucket) => return moto,
                other if Instant::now() > deadline => {
                    panic!("moto_server did not answer within 20 s: {other:?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn backend(&self, path_style: bool) -> S3Backend {
        let mut config = S3Config::new(self.endpoint(), REGION, ACCESS_KEY, SECRET_KEY);
        config.path_style = path_style;
        config.connect_timeout = Duration::from_secs(2);
        config.read_timeout = Duration::from_secs(30);
        S3Backend::new(config).unwrap()
    }

    /// Creates `bucket` with a signed `PUT /bucket` (the trait has no
    /// CreateBucket).
    async fn create_bucket(&self, bucket: &str) {
        let host = format!("127.0.0.1:{}", self.port);
        let path = format!("/{bucket}");
        let identity: Identity =
            Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(REGION)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let url = format!("http://{host}{path}");
        let signable = SignableRequest::new(
            "PUT",
            url,
            [("host", host.as_str())].into_iter(),
            SignableBody::Bytes(&[]),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut request = format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n");
        for (name, value) in instructions.headers() {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("Connection: close\r\n\r\n");
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .unwrap()
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "create {bucket}: {answer}"
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_against_moto() {
    let moto = Moto::start().await;
    moto.create_bucket("contract").await;
    let backend = moto.backend(true);
    let config = ContractConfig {
        expected_failures: moto_expected_failures(),
        ..ContractConfig::default()
    };
    contract::run_all_with(&backend, "contract", &config).await;
    contract::run_versioning(&backend, "contract", &config).await;
    let left = backend
        .list_objects("contract", ListOptions::default())
        .await
        .unwrap();
    assert!(left.objects.is_empty(), "the suite cleans up: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_hosted_addressing_and_s3_specific_limits() {
    let moto = Moto::start().await;
    moto.create_bucket("hosted").await;
    let backend = moto.backend(false);
    assert_eq!(backend.kind(), "s3");
    backend.head_bucket("hosted").await.unwrap();
    assert!(matches!(
        backend.head_bucket("missing-bucket").await,
        Err(BackendError::NoSuchBucket)
    ));
    let data = b"virtually hosted";
    let options = PutOptions {
        content_length: Some(data.len() as u64),
        ..PutOptions::default()
    };
    let mut body = MemoryBody::from(&data[..]);
    backend
        .put_object("hosted", "dir/a b+c", &mut body, options)
        .await
        .unwrap();
    let got = backend
        .get_object("hosted", "dir/a b+c", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(collect_body(got.body).await.unwrap(), data);
    let page = backend
        .list_objects("hosted", ListOptions::default())
        .await
        .unwrap();
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.objects[0].key, "dir/a b+c");

    let mut body = MemoryBody::from(&b"no length"[..]);
    let result = backend
        .put_object("hosted", "k", &mut body, PutOptions::default())
        .await;
    assert!(
        matches!(result, Err(BackendError::InvalidArgument { .. })),
        "a write without a declared length: {result:?}"
    );
    let mut body = MemoryBody::from(&b"x"[..]);
    let result = backend
        .put_object("hosted", "", &mut body, PutOptions::default())
        .await;
    assert!(matches!(result, Err(BackendError::InvalidArgument { .. })));
    assert!(matches!(
        backend
            .get_object("hosted", "", GetOptions::default())
            .await,
        Err(BackendError::NoSuchKey)
    ));
    assert!(matches!(
        backend.head_bucket("Not_A_Dns_Name").await,
        Err(BackendError::InvalidArgument { .. })
    ));
    backend.delete_object("hosted", "dir/a b+c").await.unwrap();
}
