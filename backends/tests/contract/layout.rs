//! Where the filesystem backend puts things: hostile keys stay inside the
//! bucket, data files placed by hand are objects, a key and the keys under
//! it coexist with deletes pruning what they empty, and keys it could never
//! store are simply absent.

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
    for key in keys {
        put(&backend, key, key.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    }
    let stored = keys;
    for key in &stored {
        assert_eq!(get(&backend, key).await.unwrap().1, key.as_bytes(), "{key}");
    }
    let bucket_dir = backend.root().join(BUCKET);
    let marker = internal(&backend, "layout");
    for file in files_under(dir.path()) {
        assert!(
            file.starts_with(&bucket_dir) || file == marker,
            "{}",
            file.display()
        );
    }
    assert_eq!(
        files_under(&bucket_dir).len(),
        2 * stored.len(),
        "a data file and a sidecar per key"
    );
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
    for dir in ["hand/made.txt", "hand/bad%name", "hand/link"] {
        std::fs::create_dir_all(bucket_dir.join(dir)).unwrap();
    }
    std::fs::write(
        bucket_dir.join("hand/made.txt/%object"),
        b"placed by an operator",
    )
    .unwrap();
    std::fs::write(
        bucket_dir.join("hand/bad%name/%object"),
        b"not a key's encoding",
    )
    .unwrap();
    std::fs::write(bucket_dir.join("hand/plain"), b"not a data file").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", bucket_dir.join("hand/link/%object")).unwrap();

    let (etag, content) = get(&backend, "hand/made.txt").await.unwrap();
    assert_eq!(etag, md5_hex(b"placed by an operator"));
    assert_eq!(content, b"placed by an operator");
    assert!(
        bucket_dir.join("hand/made.txt/%meta.json").is_file(),
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
        "stray names, other files and links are not objects"
    );
    for key in ["hand/bad%name", "hand/link", "hand/plain"] {
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
    std::fs::write(bucket_dir.join("hand/edited/%object"), edited).unwrap();
    let meta = backend
        .head_object(BUCKET, "hand/edited", GetOptions::default())
        .await
        .unwrap();
    assert_eq!(meta.etag, md5_hex(edited), "a stale sidecar is not trusted");
    assert!(meta.user_metadata.is_empty());
}

#[tokio::test]
async fn a_key_and_the_keys_under_it_coexist_and_deletes_prune() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    let bucket_dir = backend.root().join(BUCKET);
    let keys = ["a", "a/b", "a/", "a//b", "dir/", "dir", "d/e", "d"];
    for key in keys {
        put(&backend, key, key.as_bytes()).await.unwrap();
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
    assert!(copy.is_ok(), "{copy:?}");
    for key in keys {
        assert_eq!(get(&backend, key).await.unwrap().1, key.as_bytes(), "{key}");
    }
    assert_eq!(get(&backend, "a/c").await.unwrap().1, b"a");
    assert!(bucket_dir.join("a/%/%object").is_file(), "`a/` is `a/%`");

    backend.delete_object(BUCKET, "d").await.unwrap();
    assert!(bucket_dir.join("d/e/%object").is_file(), "`d/e` stays");
    assert!(!bucket_dir.join("d/%object").exists());
    backend.delete_object(BUCKET, "d/e").await.unwrap();
    assert!(
        !bucket_dir.join("d").exists(),
        "deletes prune empty directories"
    );
    backend.delete_object(BUCKET, "a//b").await.unwrap();
    assert!(!bucket_dir.join("a/%/b").exists());
    assert!(bucket_dir.join("a/%").is_dir(), "`a/` still lives there");

    // A file placed by hand where a key's directory belongs blocks it.
    std::fs::write(bucket_dir.join("blocker"), b"not an object").unwrap();
    let root = backend.root().display().to_string();
    for key in ["blocker", "blocker/x"] {
        match put(&backend, key, b"x").await {
            Err(BackendError::InvalidArgument { message }) => {
                assert!(message.contains(key), "{message}");
                assert!(
                    !message.contains(&root),
                    "no paths in client messages: {message}"
                );
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let create = backend
        .create_multipart_upload(BUCKET, "blocker/y", PutOptions::default())
        .await;
    assert!(matches!(create, Err(BackendError::InvalidArgument { .. })));
    assert_eq!(
        std::fs::read(bucket_dir.join("blocker")).unwrap(),
        b"not an object"
    );
}

#[tokio::test]
async fn delete_bucket_sees_through_pruned_and_orphaned_leftovers() {
    let dir = TempDir::new().unwrap();
    let backend = with_bucket(&dir).await;
    backend.create_bucket("empty-me").await.unwrap();
    let mut body = MemoryBody::from(&b"x"[..]);
    backend
        .put_object("empty-me", "k/v", &mut body, PutOptions::default())
        .await
        .unwrap();
    let key_dir = backend.root().join("empty-me/k/v");
    // A crash between removing the data file and its sidecar.
    std::fs::remove_file(key_dir.join("%object")).unwrap();
    assert!(key_dir.join("%meta.json").is_file());
    let listed = backend
        .list_objects("empty-me", ListOptions::default())
        .await
        .unwrap();
    assert!(listed.objects.is_empty());
    backend.delete_bucket("empty-me").await.unwrap();
    assert!(!backend.root().join("empty-me").exists());
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
