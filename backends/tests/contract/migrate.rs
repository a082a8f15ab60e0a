//! Migrating a data directory of layout version 1 (data files at their
//! key paths, sidecars under `.cedargate/meta`) when the backend starts:
//! everything reads back with its metadata, an interrupted migration
//! resumes, and a migrated directory is left alone.

use std::path::Path;

use cedargate_backends::fs::FsBackend;
use cedargate_backends::{
    Backend, GetOptions, ListOptions, MemoryBody, ObjectRef, PutOptions, TagSet,
};
use tempfile::TempDir;

use super::{BUCKET, files_under, get, internal, md5_hex, with_bucket};

/// Keys of the version-1 tree; none is a prefix of another, as version 1
/// required.
const KEYS: [&str; 5] = ["top", "dir/nested/deep.txt", "dir/%", "x//y", "%2E%2E/up"];

/// Writes every key with metadata and tags through the current backend,
/// then rearranges its files as version 1 kept them.
async fn version_one_tree(dir: &TempDir) -> FsBackend {
    let backend = with_bucket(dir).await;
    for key in KEYS {
        let options = PutOptions {
            user_metadata: [("origin".to_owned(), key.to_owned())].into(),
            headers: cedargate_backends::ObjectHeaders {
                content_type: Some("text/plain".to_owned()),
                ..Default::default()
            },
            ..PutOptions::default()
        };
        let mut body = MemoryBody::from(key.as_bytes());
        backend
            .put_object(BUCKET, key, &mut body, options)
            .await
            .unwrap();
        let tags: TagSet = [("k".to_owned(), key.to_owned())].into();
        let object = ObjectRef {
            bucket: BUCKET,
            key,
        };
        backend
            .put_object_tagging(object, None, &tags)
            .await
            .unwrap();
    }
    let bucket_dir = backend.root().join(BUCKET);
    let meta_dir = internal(&backend, "meta").join(BUCKET);
    for data in files_under(&bucket_dir) {
        if data.file_name().unwrap() != "%object" {
            continue;
        }
        let key_dir = data.parent().unwrap();
        let relative = key_dir.strip_prefix(&bucket_dir).unwrap();
        let held = bucket_dir.join("held");
        std::fs::rename(&data, &held).unwrap();
        let old_sidecar = meta_dir.join(relative);
        std::fs::create_dir_all(old_sidecar.parent().unwrap()).unwrap();
        std::fs::rename(key_dir.join("%meta.json"), &old_sidecar).unwrap();
        std::fs::remove_dir(key_dir).unwrap();
        std::fs::rename(&held, key_dir).unwrap();
    }
    std::fs::remove_file(internal(&backend, "layout")).unwrap();
    assert!(
        bucket_dir.join("dir/nested/deep.txt").is_file(),
        "version 1"
    );
    assert!(bucket_dir.join("x/%/y").is_file(), "version 1");
    backend
}

/// Every key reads back with its content, metadata and tags.
async fn check_everything(backend: &FsBackend) {
    for key in KEYS {
        let (etag, content) = get(backend, key).await.unwrap();
        assert_eq!(content, key.as_bytes(), "{key}");
        assert_eq!(etag, md5_hex(key.as_bytes()), "{key}");
        let meta = backend
            .head_object(BUCKET, key, GetOptions::default())
            .await
            .unwrap();
        assert_eq!(
            meta.user_metadata.get("origin").map(String::as_str),
            Some(key)
        );
        assert_eq!(
            meta.headers.content_type.as_deref(),
            Some("text/plain"),
            "{key}"
        );
        let object = ObjectRef {
            bucket: BUCKET,
            key,
        };
        let tags = backend.get_object_tagging(object, None).await.unwrap();
        assert_eq!(tags.get("k").map(String::as_str), Some(key), "{key}");
    }
    let listed = backend
        .list_objects(BUCKET, ListOptions::default())
        .await
        .unwrap();
    let mut expected: Vec<&str> = KEYS.to_vec();
    expected.sort_unstable();
    let keys: Vec<&str> = listed.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(keys, expected);
}

fn marker(root: &Path) -> String {
    std::fs::read_to_string(root.join(".cedargate/layout")).unwrap()
}

#[tokio::test]
async fn a_version_one_tree_is_migrated_on_start_and_keeps_its_metadata() {
    let dir = TempDir::new().unwrap();
    let root = version_one_tree(&dir).await.root().to_owned();
    let backend = FsBackend::new(&root).unwrap();
    assert_eq!(marker(&root), "2\n");
    assert!(
        !root.join(".cedargate/meta").exists(),
        "the old sidecar tree is gone"
    );
    assert!(root.join("bucket/x/%/y/%object").is_file());
    assert!(root.join("bucket/x/%/y/%meta.json").is_file());
    check_everything(&backend).await;
    // Now keys under former objects can be written.
    super::put(&backend, "top/under", b"new").await.unwrap();
    assert_eq!(get(&backend, "top").await.unwrap().1, b"top");
}

#[tokio::test]
async fn an_interrupted_migration_resumes_on_the_next_start() {
    let dir = TempDir::new().unwrap();
    let root = version_one_tree(&dir).await.root().to_owned();
    let bucket_dir = root.join(BUCKET);
    // `top`: journalled and held, its key directory not created yet.
    std::fs::write(bucket_dir.join("%migrating"), "top").unwrap();
    std::fs::rename(bucket_dir.join("top"), bucket_dir.join("%migrating-data")).unwrap();
    // `x//y`: data moved, sidecar still in the old tree.
    let y = bucket_dir.join("x/%/y");
    std::fs::rename(&y, bucket_dir.join("x/%/held")).unwrap();
    std::fs::create_dir(&y).unwrap();
    std::fs::rename(bucket_dir.join("x/%/held"), y.join("%object")).unwrap();
    // `dir/%`: journal written, nothing moved yet.
    std::fs::write(bucket_dir.join("dir/%migrating"), "%").unwrap();

    let backend = FsBackend::new(&root).unwrap();
    assert_eq!(marker(&root), "2\n");
    for leftover in ["%migrating", "%migrating-data", "dir/%migrating"] {
        assert!(!bucket_dir.join(leftover).exists(), "{leftover}");
    }
    check_everything(&backend).await;
}

#[tokio::test]
async fn a_migrated_or_empty_directory_is_only_stamped_and_left_alone() {
    let dir = TempDir::new().unwrap();
    let root = dir.path().join("fresh");
    std::fs::create_dir_all(root.join("empty-bucket")).unwrap();
    drop(FsBackend::new(&root).unwrap());
    assert_eq!(marker(&root), "2\n");
    // With the marker in place, a start migrates nothing: a file placed
    // where version 1 kept data stays where it is (and is no object).
    std::fs::write(root.join("empty-bucket/loose"), b"by hand").unwrap();
    let backend = FsBackend::new(&root).unwrap();
    assert!(root.join("empty-bucket/loose").is_file());
    let listed = backend
        .list_objects("empty-bucket", ListOptions::default())
        .await
        .unwrap();
    assert!(listed.objects.is_empty());

    std::fs::write(root.join(".cedargate/layout"), "9\n").unwrap();
    let refused = FsBackend::new(&root).unwrap_err();
    let refused = std::error::Error::source(&refused).unwrap().to_string();
    assert!(refused.contains("layout version `9`"), "{refused}");
}
