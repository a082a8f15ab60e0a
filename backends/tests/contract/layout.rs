//! Where the filesystem backend puts things: hostile keys stay inside the
//! bucket, files placed by hand are objects, a key cannot be both an
//! object and a directory, and keys it could never store are simply absent.

use cedargate_backends::{
    Backend, BackendError, CopyOptions, GetOptions, ListOptions, MemoryBody, ObjectRef, PutOptions,
};
use tempfile::TempDir;

use super::{BUCKET, files_under, get, internal, md5_hex, put, with_bucket};

#[tokio::test]
async fn hostile_keys_never_leave_the_bucket() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    backend.create_bucket_dir("other").await.unwrap();
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
        let created = backend.create_bucket_dir(bad).await;
        assert!(
            matches!(created, Err(BackendError::InvalidArgument { .. })),
            "{bad:?}"
        );
    }
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

#[tokio::test]
async fn keys_that_cannot_be_stored_are_refused_on_write_and_absent_on_read() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let long_segment = "s".repeat(300);
    let long_key = "k/".repeat(600);
    for key in ["nul\0byte", long_segment.as_str(), long_key.as_str()] {
        let written = put(&backend, key, b"x").await;
        assert!(
            matches!(written, Err(BackendError::InvalidArgument { .. })),
            "{written:?}"
        );
        let got = backend.get_object(BUCKET, key, GetOptions::default()).await;
        assert!(matches!(got, Err(BackendError::NoSuchKey)), "{got:?}");
        let head = backend
            .head_object(BUCKET, key, GetOptions::default())
            .await;
        assert!(matches!(head, Err(BackendError::NoSuchKey)), "{head:?}");
        backend.delete_object(BUCKET, key).await.unwrap();
        let source = ObjectRef {
            bucket: BUCKET,
            key,
        };
        let destination = ObjectRef {
            bucket: BUCKET,
            key: "copy",
        };
        let copied = backend
            .copy_object(source, destination, CopyOptions::default())
            .await;
        assert!(matches!(copied, Err(BackendError::NoSuchKey)), "{copied:?}");
        let missing_bucket = backend
            .get_object("missing", key, GetOptions::default())
            .await;
        assert!(
            matches!(missing_bucket, Err(BackendError::NoSuchBucket)),
            "{missing_bucket:?}"
        );
    }
}
