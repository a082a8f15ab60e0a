//! The contract suite against [`FsBackend`], plus what only the filesystem
//! backend can be asked (in `contract/`): where files land, what a failed,
//! dropped or crashed write leaves behind, files placed by hand, keys that
//! are prefixes of other keys, and the migration of an older layout.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail loudly; clippy exempts only #[test] functions"
)]

#[path = "contract/layout.rs"]
mod layout;
#[path = "contract/migrate.rs"]
mod migrate;
#[path = "contract/writes.rs"]
mod writes;

use std::path::{Path, PathBuf};

use cedargate_backends::contract::{self, ContractConfig, ExpectedFailure};
use cedargate_backends::fs::FsBackend;
use cedargate_backends::{
    Backend, BackendError, GetOptions, MemoryBody, ObjectIdentifier, PutOptions, collect_body,
};
use md5::{Digest, Md5};
use tempfile::TempDir;

/// The bucket every test writes to.
pub(crate) const BUCKET: &str = "bucket";

/// A backend rooted in `dir` (default settings).
pub(crate) fn backend(dir: &TempDir) -> FsBackend {
    FsBackend::new(dir.path().join("root")).unwrap()
}

/// A backend rooted in `dir` with [`BUCKET`] created.
pub(crate) async fn with_bucket(dir: &TempDir) -> FsBackend {
    let backend = backend(dir);
    backend.create_bucket_dir(BUCKET).await.unwrap();
    backend
}

/// Every file (not directory) under `dir`, recursively.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Every file under the root but the layout marker.
pub(crate) fn object_files(backend: &FsBackend) -> Vec<PathBuf> {
    let marker = internal(backend, "layout");
    let mut files = files_under(backend.root());
    files.retain(|file| *file != marker);
    files
}

/// `<root>/.cedargate/<name>`.
pub(crate) fn internal(backend: &FsBackend, name: &str) -> PathBuf {
    backend.root().join(".cedargate").join(name)
}

/// Puts `data` at `key`, answering the ETag.
pub(crate) async fn put(
    backend: &FsBackend,
    key: &str,
    data: &[u8],
) -> Result<String, BackendError> {
    let mut body = MemoryBody::from(data);
    let out = backend
        .put_object(BUCKET, key, &mut body, PutOptions::default())
        .await?;
    Ok(out.etag)
}

/// Gets `key`, answering its ETag and content.
pub(crate) async fn get(backend: &FsBackend, key: &str) -> Result<(String, Vec<u8>), BackendError> {
    let out = backend
        .get_object(BUCKET, key, GetOptions::default())
        .await?;
    Ok((out.meta.etag, collect_body(out.body).await.unwrap()))
}

/// Lowercase hex MD5.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_with_small_parts_and_reads_on_the_blocking_pool() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir)
        .await
        .with_min_part_size(1024)
        .with_inline_reads(false);
    contract::run_all_with(
        &backend,
        BUCKET,
        &ContractConfig {
            min_part_size: 1024,
            ..ContractConfig::default()
        },
    )
    .await;
    assert_eq!(
        object_files(&backend),
        Vec::<PathBuf>::new(),
        "the suite cleans up after itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_with_default_settings() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    contract::run_all(&backend, BUCKET).await;
    assert_eq!(object_files(&backend), Vec::<PathBuf>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioning_cases() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    contract::run_versioning(&backend, BUCKET, &ContractConfig::default()).await;
    let left = backend.list_buckets().await.unwrap();
    assert_eq!(left.len(), 1, "the cases remove their buckets: {left:?}");
}

#[tokio::test]
#[should_panic(expected = "but it passed: remove it from the list")]
async fn an_expected_failure_that_passes_fails_the_suite() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let config = ContractConfig {
        expected_failures: vec![ExpectedFailure {
            case: "missing_bucket",
            reason: "the filesystem backend passes it",
        }],
        ..ContractConfig::default()
    };
    contract::run_all_with(&backend, BUCKET, &config).await;
}

#[tokio::test]
#[should_panic(expected = "the expected failures name an unknown case `no_such_case`")]
async fn an_expected_failure_must_name_a_case() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let config = ContractConfig {
        expected_failures: vec![ExpectedFailure {
            case: "no_such_case",
            reason: "a typo",
        }],
        ..ContractConfig::default()
    };
    contract::run_all_with(&backend, BUCKET, &config).await;
}

#[test]
fn inline_reads_answer_without_waiting_for_the_blocking_pool() {
    use futures::FutureExt;
    // One blocking thread, which the test keeps busy: what still answers
    // did not need the pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = TempDir::new().unwrap();
        let backend = with_bucket(&dir).await;
        put(&backend, "small", b"inline").await.unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = tokio::task::spawn_blocking(move || held.recv());
        let head = |bucket| backend.head_object(bucket, "small", GetOptions::default());
        let answered = head(BUCKET)
            .now_or_never()
            .expect("an inline HEAD is ready at once");
        assert_eq!(answered.unwrap().size, 6);
        let got = backend
            .get_object(BUCKET, "small", GetOptions::default())
            .now_or_never()
            .expect("an inline GET is ready at once")
            .unwrap();
        assert_eq!(collect_body(got.body).await.unwrap(), b"inline");
        let missing = backend
            .get_object(BUCKET, "missing", GetOptions::default())
            .now_or_never()
            .expect("an inline GET of a missing key is ready at once");
        assert!(matches!(missing, Err(BackendError::NoSuchKey)));
        let gone = head("no-such-bucket")
            .now_or_never()
            .expect("ready at once");
        assert!(matches!(gone, Err(BackendError::NoSuchBucket)));
        // Without inline reads the HEAD queues behind the busy pool thread.
        let pooled = backend.clone().with_inline_reads(false);
        let mut waiting = Box::pin(pooled.head_object(BUCKET, "small", GetOptions::default()));
        assert!((&mut waiting).now_or_never().is_none());
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        assert_eq!(waiting.await.unwrap().size, 6);
    });
}

#[tokio::test]
async fn delete_objects_takes_a_version_as_delete_object_does() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    for key in ["kept", "gone", "plain", "a/../b", "b"] {
        let mut body = MemoryBody::from(key.as_bytes());
        backend
            .put_object(BUCKET, key, &mut body, PutOptions::default())
            .await
            .unwrap();
    }
    let versioned = |key: &str, version: &str| ObjectIdentifier {
        key: key.to_owned(),
        version_id: Some(version.to_owned()),
    };
    let objects = [
        versioned("kept", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"),
        versioned("gone", "null"),
        ObjectIdentifier::key("plain"),
        ObjectIdentifier::key("a/../b"),
    ];
    let results = backend.delete_objects(BUCKET, &objects).await.unwrap();
    assert!(
        matches!(results[0], Err(BackendError::InvalidArgument { .. })),
        "{results:?}"
    );
    assert!(results[1..].iter().all(Result::is_ok), "{results:?}");
    let exists = |key: &'static str| {
        let backend = &backend;
        async move {
            backend
                .head_object(BUCKET, key, GetOptions::default())
                .await
                .is_ok()
        }
    };
    assert!(exists("kept").await, "a bogus version deletes nothing");
    assert!(!exists("gone").await && !exists("plain").await);
    assert!(!exists("a/../b").await, "the literal key is deleted");
    assert!(exists("b").await, "and only it");
}
