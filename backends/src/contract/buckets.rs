//! Cases for bucket lifecycle, versions of an unversioned bucket, and
//! object tags.

use std::collections::BTreeMap;

use super::{clean, fail, get_bytes, must, put, put_with};
use crate::{
    Backend, BackendError, CopyOptions, GetOptions, ListVersionsOptions, MemoryBody,
    MetadataDirective, ObjectHeaders, ObjectRef, PutOptions, TagSet, VersioningStatus,
};

/// CreateBucket, ListBuckets, BucketAlreadyOwnedByYou, BucketNotEmpty and
/// DeleteBucket on a bucket named after `bucket` (`<bucket>-lifecycle`).
pub async fn bucket_lifecycle(backend: &dyn Backend, bucket: &str) {
    let created = format!("{bucket}-lifecycle");
    if backend.head_bucket(&created).await.is_ok() {
        clean(backend, &created, "").await;
        must(
            backend.delete_bucket(&created).await,
            "delete a leftover bucket",
        );
    }
    must(backend.create_bucket(&created).await, "create a bucket");
    match backend.create_bucket(&created).await {
        Err(BackendError::BucketAlreadyOwnedByYou) => {}
        other => fail(format!(
            "creating it again: expected BucketAlreadyOwnedByYou, got {other:?}"
        )),
    }
    let names: Vec<String> = must(backend.list_buckets().await, "list buckets")
        .into_iter()
        .map(|summary| summary.name)
        .collect();
    if !names.contains(&created) || !names.contains(&bucket.to_owned()) {
        fail(format!(
            "ListBuckets misses `{created}` or `{bucket}`: {names:?}"
        ));
    }
    if !names.is_sorted() {
        fail(format!("ListBuckets is not in name order: {names:?}"));
    }
    put(backend, &created, "dir/object", b"kept").await;
    match backend.delete_bucket(&created).await {
        Err(BackendError::BucketNotEmpty) => {}
        other => fail(format!(
            "deleting a bucket with an object: expected BucketNotEmpty, got {other:?}"
        )),
    }
    if get_bytes(backend, &created, "dir/object").await != b"kept" {
        fail("a refused DeleteBucket changed the object".to_owned());
    }
    must(
        backend.delete_object(&created, "dir/object").await,
        "delete the object",
    );
    must(
        backend.delete_bucket(&created).await,
        "delete the empty bucket",
    );
    match backend.head_bucket(&created).await {
        Err(BackendError::NoSuchBucket) => {}
        other => fail(format!(
            "a deleted bucket: expected NoSuchBucket, got {other:?}"
        )),
    }
    match backend.delete_bucket(&created).await {
        Err(BackendError::NoSuchBucket) => {}
        other => fail(format!(
            "deleting it again: expected NoSuchBucket, got {other:?}"
        )),
    }
}

/// An unversioned bucket: versioning never enabled, every object listed as
/// its one `null` version.
pub async fn unversioned_versions(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/versions/";
    clean(backend, bucket, prefix).await;
    let status = must(backend.get_bucket_versioning(bucket).await, "versioning");
    if status != VersioningStatus::Unversioned {
        fail(format!("a fresh bucket's versioning is {status:?}"));
    }
    for key in ["a", "b/c", "b/d", "e"] {
        put(backend, bucket, &format!("{prefix}{key}"), key.as_bytes()).await;
    }
    let options = ListVersionsOptions {
        prefix: prefix.to_owned(),
        delimiter: Some("/".to_owned()),
        max_keys: 2,
        ..ListVersionsOptions::default()
    };
    let first = must(
        backend.list_object_versions(bucket, options.clone()).await,
        "list versions",
    );
    let keys: Vec<&str> = first.versions.iter().map(|v| v.key.as_str()).collect();
    if keys != [format!("{prefix}a")] || first.common_prefixes != [format!("{prefix}b/")] {
        fail(format!(
            "first versions page: {keys:?} {:?}",
            first.common_prefixes
        ));
    }
    let version = &first.versions[0];
    if version.version_id != "null" || !version.is_latest || version.is_delete_marker {
        fail(format!("an unversioned object's version: {version:?}"));
    }
    if !first.is_truncated || first.next_key_marker.is_none() {
        fail(format!("the first page of two is not truncated: {first:?}"));
    }
    let rest = must(
        backend
            .list_object_versions(
                bucket,
                ListVersionsOptions {
                    key_marker: first.next_key_marker.clone(),
                    version_id_marker: first.next_version_id_marker.clone(),
                    ..options
                },
            )
            .await,
        "list versions, page 2",
    );
    let keys: Vec<&str> = rest.versions.iter().map(|v| v.key.as_str()).collect();
    if keys != [format!("{prefix}e")] || rest.is_truncated {
        fail(format!("second versions page: {keys:?} {rest:?}"));
    }
    clean(backend, bucket, prefix).await;
}

/// In an unversioned bucket, `versionId=null` reads, heads and deletes the
/// object.
pub async fn version_null_requests(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/version-null/";
    clean(backend, bucket, prefix).await;
    let key = format!("{prefix}a");
    put(backend, bucket, &key, b"a").await;
    let null = GetOptions {
        version_id: Some("null".to_owned()),
        ..GetOptions::default()
    };
    let read = must(
        backend.get_object(bucket, &key, null.clone()).await,
        "get versionId=null",
    );
    match crate::collect_body(read.body).await {
        Ok(bytes) if bytes == b"a" => {}
        other => fail(format!("versionId=null read {other:?}")),
    }
    must(
        backend.head_object(bucket, &key, null).await,
        "head versionId=null",
    );
    must(
        backend.delete_object_version(bucket, &key, "null").await,
        "delete versionId=null",
    );
    match backend
        .head_object(bucket, &key, GetOptions::default())
        .await
    {
        Err(BackendError::NoSuchKey) => {}
        other => fail(format!(
            "after deleting version null: expected NoSuchKey, got {other:?}"
        )),
    }
    clean(backend, bucket, prefix).await;
}

fn tags(pairs: &[(&str, &str)]) -> TagSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn with_tagging(header: &str) -> ObjectHeaders {
    ObjectHeaders {
        storage: BTreeMap::from([("x-amz-tagging".to_owned(), header.to_owned())]),
        ..ObjectHeaders::default()
    }
}

/// Tags set by `x-amz-tagging` on PutObject, read, replaced and removed;
/// kept by a copy with the COPY directive and replaced with REPLACE; and
/// counted by `x-amz-tagging-count` on reads. The content never changes.
pub async fn object_tagging(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/tagging/";
    clean(backend, bucket, prefix).await;
    let key = format!("{prefix}tagged");
    let object = ObjectRef { bucket, key: &key };
    let options = PutOptions {
        headers: with_tagging("project=blue&team=data%20eng"),
        ..PutOptions::default()
    };
    let written = put_with(backend, bucket, &key, b"tagged content", options).await;
    let expected = tags(&[("project", "blue"), ("team", "data eng")]);
    let stored = must(backend.get_object_tagging(object, None).await, "get tags");
    if stored != expected {
        fail(format!("tags from x-amz-tagging: {stored:?}"));
    }
    let meta = must(
        backend
            .head_object(bucket, &key, GetOptions::default())
            .await,
        "head",
    );
    if meta
        .headers
        .storage
        .get("x-amz-tagging-count")
        .map(String::as_str)
        != Some("2")
    {
        fail(format!("x-amz-tagging-count: {:?}", meta.headers.storage));
    }
    let replaced = tags(&[("state", "final")]);
    must(
        backend.put_object_tagging(object, None, &replaced).await,
        "put tags",
    );
    if must(backend.get_object_tagging(object, None).await, "get tags") != replaced {
        fail("PutObjectTagging did not replace the tags".to_owned());
    }
    let meta = must(
        backend
            .head_object(bucket, &key, GetOptions::default())
            .await,
        "head after tagging",
    );
    if meta.etag != written.etag || get_bytes(backend, bucket, &key).await != b"tagged content" {
        fail("PutObjectTagging changed the object".to_owned());
    }

    let kept = format!("{prefix}copy-kept");
    let copy = CopyOptions::default();
    let to = ObjectRef { bucket, key: &kept };
    must(backend.copy_object(object, to, copy).await, "copy");
    if must(backend.get_object_tagging(to, None).await, "copy's tags") != replaced {
        fail("a COPY-directive copy did not keep the tags".to_owned());
    }
    let retagged = format!("{prefix}copy-replaced");
    let copy = CopyOptions {
        tagging_directive: MetadataDirective::Replace,
        headers: with_tagging("copy=new"),
        ..CopyOptions::default()
    };
    let to = ObjectRef {
        bucket,
        key: &retagged,
    };
    must(
        backend.copy_object(object, to, copy).await,
        "copy, replacing tags",
    );
    if must(backend.get_object_tagging(to, None).await, "copy's tags") != tags(&[("copy", "new")]) {
        fail("a REPLACE-directive copy did not take the new tags".to_owned());
    }

    must(
        backend.delete_object_tagging(object, None).await,
        "delete tags",
    );
    if !must(backend.get_object_tagging(object, None).await, "get tags").is_empty() {
        fail("DeleteObjectTagging left tags".to_owned());
    }
    let meta = must(
        backend
            .head_object(bucket, &key, GetOptions::default())
            .await,
        "head untagged",
    );
    if meta.headers.storage.contains_key("x-amz-tagging-count") {
        fail("an untagged object reports a tag count".to_owned());
    }
    let missing = format!("{prefix}missing");
    let absent = ObjectRef {
        bucket,
        key: &missing,
    };
    match backend.get_object_tagging(absent, None).await {
        Err(BackendError::NoSuchKey) => {}
        other => fail(format!("tags of a missing object: {other:?}")),
    }
    match backend.put_object_tagging(absent, None, &replaced).await {
        Err(BackendError::NoSuchKey) => {}
        other => fail(format!("tagging a missing object: {other:?}")),
    }
    let mut body = MemoryBody::from(&b""[..]);
    let bad = PutOptions {
        headers: with_tagging("a=1&a=2"),
        content_length: Some(0),
        ..PutOptions::default()
    };
    let refused = backend.put_object(bucket, &missing, &mut body, bad).await;
    if !matches!(refused, Err(BackendError::InvalidTag { .. })) {
        fail(format!("a duplicate tag key: {refused:?}"));
    }
    clean(backend, bucket, prefix).await;
}
