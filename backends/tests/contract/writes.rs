//! How the filesystem backend writes: nothing is left behind by a failed,
//! dropped or crashed write, readers keep their version during an
//! overwrite, and multipart objects keep their part count and the
//! conditions given at creation.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cedargate_backends::fs::FsBackend;
use cedargate_backends::{
    Backend, BackendError, BodySource, ByteRange, CompletedPart, Conditions, GetOptions,
    MemoryBody, ObjectRef, PartCopyOptions, PartOptions, PutOptions, UploadRef, collect_body,
};
use tempfile::TempDir;

use super::{BUCKET, backend, files_under, get, internal, md5_hex, put, with_bucket};

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
    // A file placed by hand where the key directory of `file/child` belongs.
    std::fs::write(backend.root().join(BUCKET).join("file"), b"f").unwrap();

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
            checksum: None,
        });
    }
    backend
        .complete_multipart_upload(upload, &parts, Default::default())
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
        checksum: None,
    }];
    let result = backend
        .complete_multipart_upload(upload, &parts, Default::default())
        .await;
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

#[tokio::test]
async fn a_part_copy_range_past_the_source_is_refused_not_shortened() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    put(&backend, "source", b"0123456789").await.unwrap();
    let upload_id = backend
        .create_multipart_upload(BUCKET, "k", PutOptions::default())
        .await
        .unwrap();
    let upload = UploadRef {
        bucket: BUCKET,
        key: "k",
        upload_id: &upload_id,
    };
    let source = ObjectRef {
        bucket: BUCKET,
        key: "source",
    };
    let range = |first, last| PartCopyOptions {
        range: Some(ByteRange::FromTo { first, last }),
        ..PartCopyOptions::default()
    };
    let past = backend
        .upload_part_copy(upload, 1, source, range(0, Some(10)))
        .await;
    assert!(
        matches!(past, Err(BackendError::InvalidRange { size: 10 })),
        "{past:?}"
    );
    let exact = backend
        .upload_part_copy(upload, 1, source, range(2, Some(9)))
        .await
        .unwrap();
    assert_eq!(exact.etag, md5_hex(b"23456789"));
    let open_ended = backend
        .upload_part_copy(upload, 2, source, range(8, None))
        .await
        .unwrap();
    assert_eq!(open_ended.etag, md5_hex(b"89"));
}
