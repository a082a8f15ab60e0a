//! The contract suite against [`FsBackend`], plus what only the filesystem
//! backend can be asked: where files land, what a crash or a dropped write
//! leaves behind, files placed by hand, and the key/directory conflict.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should stop the test loudly"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cedargate_backends::contract::{self, ContractConfig};
use cedargate_backends::fs::FsBackend;
use cedargate_backends::{
    Backend, BackendError, BodySource, CompletedPart, Conditions, CopyOptions, GetOptions,
    ListOptions, MemoryBody, ObjectRef, PartOptions, PutOptions, UploadRef, collect_body,
};
use md5::{Digest, Md5};
use tempfile::TempDir;

const BUCKET: &str = "bucket";

fn backend(dir: &TempDir) -> FsBackend {
    FsBackend::new(dir.path().join("root")).unwrap()
}

async fn with_bucket(dir: &TempDir) -> FsBackend {
    let backend = backend(dir);
    backend.create_bucket(BUCKET).await.unwrap();
    backend
}

/// Every file (not directory) under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
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

fn internal(backend: &FsBackend, name: &str) -> PathBuf {
    backend.root().join(".cedargate").join(name)
}

async fn put(backend: &FsBackend, key: &str, data: &[u8]) -> Result<String, BackendError> {
    let mut body = MemoryBody::from(data);
    let out = backend
        .put_object(BUCKET, key, &mut body, PutOptions::default())
        .await?;
    Ok(out.etag)
}

async fn get(backend: &FsBackend, key: &str) -> Result<(String, Vec<u8>), BackendError> {
    let out = backend
        .get_object(BUCKET, key, GetOptions::default())
        .await?;
    Ok((out.meta.etag, collect_body(out.body).await.unwrap()))
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_with_small_parts() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await.with_min_part_size(1024);
    contract::run_all_with(
        &backend,
        BUCKET,
        &ContractConfig {
            min_part_size: 1024,
        },
    )
    .await;
    assert_eq!(
        files_under(backend.root()),
        Vec::<PathBuf>::new(),
        "the suite cleans up after itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_suite_with_default_settings() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    contract::run_all(&backend, BUCKET).await;
    assert_eq!(files_under(backend.root()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn hostile_keys_never_leave_the_bucket() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    backend.create_bucket("other").await.unwrap();
    let keys = [
        "../escape",
        "../../outside",
        "../other/planted",
        "/abs/olute",
        "a/../../x",
        "x/..",
        ".",
        "./y",
        "..\\z",
        "%2E%2E/w",
        "a/%2E%2E/v",
        "...",
        ".cedargate/meta/u",
        "../.cedargate/tmp/t",
        "//",
        "/",
        "s/./..",
    ];
    let mut stored = Vec::new();
    for key in keys {
        match put(&backend, key, key.as_bytes()).await {
            Ok(_) => stored.push(key),
            Err(BackendError::InvalidArgument { message }) => {
                assert!(message.contains("conflicts"), "{key}: {message}");
            }
            Err(other) => panic!("{key}: {other:?}"),
        }
    }
    assert!(
        stored.len() >= keys.len() - 2,
        "only conflicts are refused: {stored:?}"
    );
    for key in &stored {
        assert_eq!(get(&backend, key).await.unwrap().1, key.as_bytes(), "{key}");
    }
    let bucket_dir = backend.root().join(BUCKET);
    let meta_dir = internal(&backend, "meta").join(BUCKET);
    for file in files_under(dir.path()) {
        assert!(
            file.starts_with(&bucket_dir) || file.starts_with(&meta_dir),
            "{}",
            file.display()
        );
    }
    assert_eq!(files_under(&bucket_dir).len(), stored.len());
    assert!(files_under(&backend.root().join("other")).is_empty());
    let listed = backend
        .list_objects(BUCKET, ListOptions::default())
        .await
        .unwrap();
    let mut expected: Vec<String> = stored.iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    assert_eq!(
        listed
            .objects
            .iter()
            .map(|o| o.key.clone())
            .collect::<Vec<_>>(),
        expected
    );

    let got = backend
        .get_object("../root/bucket", "x", GetOptions::default())
        .await;
    assert!(matches!(got, Err(BackendError::NoSuchBucket)));
    for bad in [".cedargate", "a/b", "..", ""] {
        let created = backend.create_bucket(bad).await;
        assert!(
            matches!(created, Err(BackendError::InvalidArgument { .. })),
            "{bad:?}"
        );
    }
}

/// A body that yields one chunk, then never another (a stalled client);
/// `waiting` is set once the backend asks for the second chunk.
struct StalledBody {
    sent: bool,
    waiting: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl BodySource for StalledBody {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Bytes>> {
        if !self.sent {
            self.sent = true;
            return Ok(Some(Bytes::from_static(b"first chunk")));
        }
        self.waiting.store(true, Ordering::SeqCst);
        std::future::pending().await
    }
}

/// Polls `future` until `waiting` is set, then drops it.
async fn drop_when_stalled<F: std::future::Future>(future: F, waiting: &AtomicBool, tmp: &Path) {
    let mut future = Box::pin(future);
    for _ in 0..500 {
        let timed_out = tokio::time::timeout(Duration::from_millis(10), future.as_mut()).await;
        assert!(timed_out.is_err(), "a stalled write cannot finish");
        if waiting.load(Ordering::SeqCst) {
            break;
        }
    }
    assert!(waiting.load(Ordering::SeqCst), "the body was read");
    assert_eq!(
        files_under(tmp).len(),
        1,
        "the write is staged in a temp file"
    );
    drop(future);
    assert_eq!(
        files_under(tmp),
        Vec::<PathBuf>::new(),
        "dropping the write removed its temp file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_dropped_writes_leave_no_temp_files() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let tmp = internal(&backend, "tmp");
    put(&backend, "existing", b"old").await.unwrap();
    put(&backend, "file", b"f").await.unwrap();

    let failures: [(&str, PutOptions); 4] = [
        (
            "new",
            PutOptions {
                content_md5: Some([0; 16]),
                ..PutOptions::default()
            },
        ),
        (
            "new",
            PutOptions {
                content_length: Some(1),
                ..PutOptions::default()
            },
        ),
        (
            "existing",
            PutOptions {
                conditions: Conditions {
                    if_none_match: Some("*".into()),
                    ..Conditions::default()
                },
                ..PutOptions::default()
            },
        ),
        ("file/child", PutOptions::default()),
    ];
    for (key, options) in failures {
        let mut body = MemoryBody::from(&b"some body"[..]);
        let result = backend.put_object(BUCKET, key, &mut body, options).await;
        assert!(result.is_err(), "{key}");
        assert_eq!(
            files_under(&tmp),
            Vec::<PathBuf>::new(),
            "{key}: {result:?}"
        );
    }

    let waiting = Arc::new(AtomicBool::new(false));
    let mut body = StalledBody {
        sent: false,
        waiting: waiting.clone(),
    };
    let write = backend.put_object(BUCKET, "existing", &mut body, PutOptions::default());
    drop_when_stalled(write, &waiting, &tmp).await;
    assert_eq!(
        get(&backend, "existing").await.unwrap().1,
        b"old",
        "the old object is intact"
    );

    let upload_id = backend
        .create_multipart_upload(BUCKET, "mp", PutOptions::default())
        .await
        .unwrap();
    let upload = UploadRef {
        bucket: BUCKET,
        key: "mp",
        upload_id: &upload_id,
    };
    let waiting = Arc::new(AtomicBool::new(false));
    let mut body = StalledBody {
        sent: false,
        waiting: waiting.clone(),
    };
    let write = backend.upload_part(upload, 1, &mut body, PartOptions::default());
    drop_when_stalled(write, &waiting, &tmp).await;
    let uploads = internal(&backend, "uploads").join(BUCKET);
    assert_eq!(
        files_under(&uploads).len(),
        1,
        "only upload.json: no part was stored"
    );
    backend.abort_multipart_upload(upload).await.unwrap();
    assert_eq!(files_under(&uploads), Vec::<PathBuf>::new());
    assert_eq!(files_under(&tmp), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn files_placed_by_hand_are_served_with_their_md5() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let bucket_dir = backend.root().join(BUCKET);
    std::fs::create_dir_all(bucket_dir.join("hand")).unwrap();
    std::fs::write(bucket_dir.join("hand/made.txt"), b"placed by an operator").unwrap();
    std::fs::write(bucket_dir.join("hand/bad%name"), b"not a key's encoding").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", bucket_dir.join("hand/link")).unwrap();

    let (etag, content) = get(&backend, "hand/made.txt").await.unwrap();
    assert_eq!(etag, md5_hex(b"placed by an operator"));
    assert_eq!(content, b"placed by an operator");
    assert!(
        internal(&backend, "meta")
            .join("bucket/hand/made.txt")
            .is_file(),
        "sidecar written"
    );
    let listed = backend
        .list_objects(BUCKET, ListOptions::default())
        .await
        .unwrap();
    let keys: Vec<(&str, &str)> = listed
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.etag.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![("hand/made.txt", etag.as_str())],
        "stray names and links are not objects"
    );
    for key in ["hand/bad%name", "hand/link"] {
        assert!(
            matches!(get(&backend, key).await, Err(BackendError::NoSuchKey)),
            "{key}"
        );
    }

    let options = PutOptions {
        user_metadata: [("k".to_owned(), "v".to_owned())].into(),
        ..PutOptions::default()
    };
    let (original, edited) = (b"written through the api", b"edited in place, same l");
    assert_eq!(
        original.len(),
        edited.len(),
        "only the modification time tells them apart"
    );
    let mut body = MemoryBody::from(&original[..]);
    backend
        .put_object(BUCKET, "hand/edited", &mut body, options)
        .await
        .unwrap();
    std::fs::write(bucket_dir.join("hand/edited"), edited).unwrap();
    let meta = backend
        .head_object(BUCKET, "hand/edited", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(meta.etag, md5_hex(edited), "a stale sidecar is not trusted");
    assert!(meta.user_metadata.is_empty());
}

#[tokio::test]
async fn a_key_cannot_be_both_an_object_and_a_directory() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let root = backend.root().display().to_string();
    put(&backend, "a", b"object a").await.unwrap();
    put(&backend, "d/e", b"under d").await.unwrap();
    put(&backend, "dir/", b"folder marker").await.unwrap();
    let cases = [
        ("a/b", "`a/b` conflicts with existing object `a`"),
        ("d", "`d` conflicts with existing objects under `d/`"),
    ];
    for (key, expected) in cases {
        match put(&backend, key, b"x").await {
            Err(BackendError::InvalidArgument { message }) => {
                assert!(message.contains(expected), "{message}");
                assert!(
                    !message.contains(&root),
                    "no paths in client messages: {message}"
                );
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let copy = backend
        .copy_object(
            ObjectRef {
                bucket: BUCKET,
                key: "a",
            },
            ObjectRef {
                bucket: BUCKET,
                key: "a/c",
            },
            CopyOptions::default(),
        )
        .await;
    assert!(matches!(copy, Err(BackendError::InvalidArgument { .. })));
    let create = backend
        .create_multipart_upload(BUCKET, "d", PutOptions::default())
        .await;
    assert!(matches!(create, Err(BackendError::InvalidArgument { .. })));
    assert!(matches!(
        put(&backend, "dir", b"x").await,
        Err(BackendError::InvalidArgument { .. })
    ));
    assert_eq!(
        get(&backend, "a").await.unwrap().1,
        b"object a",
        "a refused write changes nothing"
    );

    backend.delete_object(BUCKET, "d/e").await.unwrap();
    assert!(
        !backend.root().join("bucket/d").exists(),
        "deletes prune empty directories"
    );
    assert!(!internal(&backend, "meta").join("bucket/d").exists());
    put(&backend, "d", b"now a file").await.unwrap();
    assert_eq!(get(&backend, "d").await.unwrap().1, b"now a file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_keeps_its_version_while_the_key_is_replaced() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let old: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let old_etag = put(&backend, "k", &old).await.unwrap();
    let reading = backend
        .get_object(BUCKET, "k", GetOptions::default())
        .await
        .unwrap();
    put(&backend, "k", b"replacement").await.unwrap();
    assert_eq!(reading.meta.etag, old_etag);
    assert_eq!(collect_body(reading.body).await.unwrap(), old);
    assert_eq!(
        get(&backend, "k").await.unwrap(),
        (md5_hex(b"replacement"), b"replacement".to_vec())
    );
}

#[tokio::test]
async fn multipart_objects_record_their_part_count() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await.with_min_part_size(4);
    let upload_id = backend
        .create_multipart_upload(BUCKET, "mp", PutOptions::default())
        .await
        .unwrap();
    let upload = UploadRef {
        bucket: BUCKET,
        key: "mp",
        upload_id: &upload_id,
    };
    let mut parts = Vec::new();
    for (number, data) in [(1, &b"abcd"[..]), (2, b"efgh"), (3, b"ij")] {
        let out = backend
            .upload_part(
                upload,
                number,
                &mut MemoryBody::from(data),
                PartOptions::default(),
            )
            .await
            .unwrap();
        parts.push(CompletedPart {
            part_number: number,
            etag: out.etag,
        });
    }
    backend
        .complete_multipart_upload(upload, &parts)
        .await
        .unwrap();
    let meta = backend
        .head_object(BUCKET, "mp", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(meta.parts_count, Some(3));
    assert!(meta.etag.ends_with("-3"));
    assert_eq!(
        files_under(&internal(&backend, "uploads")),
        Vec::<PathBuf>::new()
    );
}

#[tokio::test]
async fn conditions_given_at_creation_are_checked_at_completion() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let create_only = PutOptions {
        conditions: Conditions {
            if_none_match: Some("*".into()),
            ..Conditions::default()
        },
        ..PutOptions::default()
    };
    let upload_id = backend
        .create_multipart_upload(BUCKET, "k", create_only)
        .await
        .unwrap();
    let upload = UploadRef {
        bucket: BUCKET,
        key: "k",
        upload_id: &upload_id,
    };
    let part = backend
        .upload_part(
            upload,
            1,
            &mut MemoryBody::from(&b"part"[..]),
            PartOptions::default(),
        )
        .await
        .unwrap();
    put(&backend, "k", b"got there first").await.unwrap();
    let parts = [CompletedPart {
        part_number: 1,
        etag: part.etag,
    }];
    let result = backend.complete_multipart_upload(upload, &parts).await;
    assert!(
        matches!(result, Err(BackendError::PreconditionFailed)),
        "{result:?}"
    );
    assert_eq!(get(&backend, "k").await.unwrap().1, b"got there first");
}

#[tokio::test]
async fn start_removes_stale_temp_files_only() {
    let dir = TempDir::new().unwrap();
    let backend = backend(&dir);
    let tmp = internal(&backend, "tmp");
    let (stale, fresh) = (tmp.join("stale.tmp"), tmp.join("fresh.tmp"));
    std::fs::write(&stale, b"left by a crash").unwrap();
    std::fs::write(&fresh, b"in flight").unwrap();
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let _again = FsBackend::new(backend.root()).unwrap();
    assert!(!stale.exists());
    assert!(fresh.exists());
}
