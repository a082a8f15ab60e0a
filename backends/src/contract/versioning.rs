//! Cases for S3's versioning: Enabled and Suspended buckets, version ids,
//! delete markers, reads, deletes, tags and copies by version, the `null`
//! version, and ListObjectVersions with its markers.
//!
//! Each case works in its own bucket, created for it (`<bucket>-<case>`)
//! and removed, every version with it, at the end: versioning is a
//! property of a whole bucket and never goes back to unversioned.

use super::{fail, get_bytes, must, put};
use crate::{
    Backend, BackendError, CopyOptions, DeleteOutput, GetOptions, ListVersionsOptions,
    ObjectIdentifier, ObjectRef, ObjectVersion, TagSet, VersioningStatus,
};

/// Creates the bucket `name`, removing a leftover of an earlier run first.
async fn fresh_bucket(backend: &dyn Backend, name: &str) {
    if backend.head_bucket(name).await.is_ok() {
        drop_bucket(backend, name).await;
    }
    must(backend.create_bucket(name).await, "create a bucket");
}

/// Deletes every version and delete marker of `name`, then the bucket.
async fn drop_bucket(backend: &dyn Backend, name: &str) {
    let versions = all_versions(backend, name, "").await;
    for version in versions {
        must(
            backend
                .delete_object_version(name, &version.key, &version.version_id)
                .await,
            &format!("delete `{}` version {}", version.key, version.version_id),
        );
    }
    must(backend.delete_bucket(name).await, "delete the bucket");
}

/// Every version under `prefix`, following every page.
async fn all_versions(backend: &dyn Backend, bucket: &str, prefix: &str) -> Vec<ObjectVersion> {
    let mut out = Vec::new();
    let mut options = ListVersionsOptions {
        prefix: prefix.to_owned(),
        ..ListVersionsOptions::default()
    };
    for _ in 0..1000 {
        let page = must(
            backend.list_object_versions(bucket, options.clone()).await,
            "list versions",
        );
        out.extend(page.versions);
        if !page.is_truncated {
            return out;
        }
        if page.next_key_marker.is_none() {
            fail("a truncated versions page has no key marker".to_owned());
        }
        options.key_marker = page.next_key_marker;
        options.version_id_marker = page.next_version_id_marker;
    }
    fail("the versions listing never ends".to_owned())
}

fn version(id: &str) -> GetOptions {
    GetOptions {
        version_id: Some(id.to_owned()),
        ..GetOptions::default()
    }
}

async fn get_version(backend: &dyn Backend, bucket: &str, key: &str, id: &str) -> Vec<u8> {
    let output = must(
        backend.get_object(bucket, key, version(id)).await,
        &format!("get `{key}` version {id}"),
    );
    if output.meta.version_id.as_deref() != Some(id) {
        fail(format!(
            "get `{key}` version {id} reports version {:?}",
            output.meta.version_id
        ));
    }
    match crate::collect_body(output.body).await {
        Ok(bytes) => bytes,
        Err(error) => fail(format!("reading `{key}` version {id}: {error}")),
    }
}

/// The new version id a write in an Enabled bucket reports.
#[track_caller]
fn new_id(version_id: Option<String>, what: &str) -> String {
    match version_id {
        Some(id) if id != "null" && !id.is_empty() => id,
        other => fail(format!("{what}: expected a new version id, got {other:?}")),
    }
}

/// Ids of `versions`, in listing order.
fn ids(versions: &[ObjectVersion]) -> Vec<&str> {
    versions.iter().map(|v| v.version_id.as_str()).collect()
}

/// An Enabled bucket: an object written before versioning is version
/// `null`; each write adds a version; reads, HEAD and tags by version id;
/// a delete adds a delete marker (404 with the marker for reads, 405 for a
/// read naming it), deleting the marker brings the object back, deleting
/// the current version makes the previous one current; an unknown
/// version is NoSuchVersion; a copy of an old version; DeleteObjects
/// reporting markers and versions.
pub async fn versioning_enabled(backend: &dyn Backend, bucket: &str) {
    let b = format!("{bucket}-versioning");
    let b = b.as_str();
    fresh_bucket(backend, b).await;
    let key = "doc";
    put(backend, b, key, b"one").await;
    must(
        backend
            .put_bucket_versioning(b, VersioningStatus::Enabled)
            .await,
        "enable versioning",
    );
    let status = must(backend.get_bucket_versioning(b).await, "versioning");
    if status != VersioningStatus::Enabled {
        fail(format!("after enabling, the status is {status:?}"));
    }
    let two = new_id(put(backend, b, key, b"two").await.version_id, "second put");
    let three = new_id(put(backend, b, key, b"three").await.version_id, "third put");
    if two == three {
        fail(format!("two writes share the version id {two}"));
    }
    let head = must(
        backend.head_object(b, key, GetOptions::default()).await,
        "head",
    );
    if head.version_id.as_deref() != Some(three.as_str()) {
        fail(format!(
            "the current version is {:?}, not {three}",
            head.version_id
        ));
    }
    if get_bytes(backend, b, key).await != b"three"
        || get_version(backend, b, key, &two).await != b"two"
        || get_version(backend, b, key, "null").await != b"one"
    {
        fail("reads by version id answer other content".to_owned());
    }
    must(
        backend.head_object(b, key, version(&two)).await,
        "head version two",
    );
    let listed = all_versions(backend, b, "").await;
    if ids(&listed) != [three.as_str(), two.as_str(), "null"]
        || listed.iter().map(|v| v.is_latest).collect::<Vec<_>>() != [true, false, false]
        || listed.iter().any(|v| v.is_delete_marker || v.key != key)
        || listed.iter().map(|v| v.size).collect::<Vec<_>>() != [5, 3, 3]
    {
        fail(format!("versions of `{key}`: {listed:?}"));
    }

    // Tags belong to a version.
    let object = ObjectRef { bucket: b, key };
    let tags = TagSet::from([("v".to_owned(), "two".to_owned())]);
    must(
        backend.put_object_tagging(object, Some(&two), &tags).await,
        "tag version two",
    );
    if must(backend.get_object_tagging(object, Some(&two)).await, "tags") != tags
        || !must(backend.get_object_tagging(object, None).await, "tags").is_empty()
    {
        fail("tags set on version two are not version two's alone".to_owned());
    }
    must(
        backend.delete_object_tagging(object, Some(&two)).await,
        "untag version two",
    );

    // An id the key never had.
    let other = new_id(put(backend, b, "other", b"x").await.version_id, "put other");
    match backend.get_object(b, key, version(&other)).await {
        Err(BackendError::NoSuchVersion) => {}
        other => fail(format!(
            "a version of another key: {:?}",
            other.map(|o| o.meta)
        )),
    }

    // A copy of an old version.
    let copied = must(
        backend
            .copy_object(
                object,
                ObjectRef {
                    bucket: b,
                    key: "copy",
                },
                CopyOptions {
                    source_version_id: Some(two.clone()),
                    ..CopyOptions::default()
                },
            )
            .await,
        "copy version two",
    );
    new_id(copied.version_id, "copy");
    if get_bytes(backend, b, "copy").await != b"two" {
        fail("a copy of version two does not hold it".to_owned());
    }

    // A delete adds a marker.
    let deleted = must(backend.delete_object(b, key).await, "delete");
    let marker = match deleted {
        DeleteOutput {
            delete_marker: true,
            version_id: Some(id),
        } => id,
        other => fail(format!("a delete in an Enabled bucket: {other:?}")),
    };
    match backend.get_object(b, key, GetOptions::default()).await {
        Err(BackendError::DeleteMarker { named: false, .. }) => {}
        other => fail(format!("get behind a marker: {:?}", other.map(|o| o.meta))),
    }
    match backend.head_object(b, key, GetOptions::default()).await {
        Err(BackendError::DeleteMarker { named: false, .. }) => {}
        other => fail(format!("head behind a marker: {other:?}")),
    }
    match backend.get_object(b, key, version(&marker)).await {
        Err(BackendError::DeleteMarker { named: true, .. }) => {}
        other => fail(format!("get of the marker: {:?}", other.map(|o| o.meta))),
    }
    if get_version(backend, b, key, &three).await != b"three" {
        fail("a marker hid a version named by its id".to_owned());
    }
    let listed = all_versions(backend, b, key).await;
    let first = listed.first();
    if !first.is_some_and(|v| v.is_delete_marker && v.is_latest && v.version_id == marker)
        || listed.len() != 4
        || listed.iter().skip(1).any(|v| v.is_latest)
    {
        fail(format!("versions after a delete: {listed:?}"));
    }

    // Deleting the marker brings the object back.
    let removed = must(
        backend.delete_object_version(b, key, &marker).await,
        "delete the marker",
    );
    if removed.version_id.as_deref() != Some(marker.as_str()) {
        fail(format!("deleting the marker reports {removed:?}"));
    }
    if get_bytes(backend, b, key).await != b"three" {
        fail("deleting the marker did not bring the object back".to_owned());
    }

    // Deleting the current version makes the previous one current.
    let removed = must(
        backend.delete_object_version(b, key, &three).await,
        "delete version three",
    );
    if removed.delete_marker || removed.version_id.as_deref() != Some(three.as_str()) {
        fail(format!("deleting version three reports {removed:?}"));
    }
    if get_bytes(backend, b, key).await != b"two" {
        fail("after deleting the current version, version two is not current".to_owned());
    }
    match backend.get_object(b, key, version(&three)).await {
        Err(BackendError::NoSuchVersion) => {}
        other => fail(format!("a deleted version: {:?}", other.map(|o| o.meta))),
    }

    // DeleteObjects: a marker for a key, a named version for another.
    let results = must(
        backend
            .delete_objects(
                b,
                &[
                    ObjectIdentifier::key("copy"),
                    ObjectIdentifier {
                        key: key.to_owned(),
                        version_id: Some(two.clone()),
                    },
                ],
            )
            .await,
        "delete objects",
    );
    match &results[..] {
        [
            Ok(DeleteOutput {
                delete_marker: true,
                version_id: Some(_),
            }),
            Ok(DeleteOutput {
                delete_marker: false,
                version_id: Some(id),
            }),
        ] if *id == two => {}
        other => fail(format!("DeleteObjects reports {other:?}")),
    }
    if get_bytes(backend, b, key).await != b"one" {
        fail("after deleting version two, the null version is not current".to_owned());
    }
    drop_bucket(backend, b).await;
}

/// Deleting a delete marker by its version id, alone or in a batch,
/// reports that a marker was deleted (`x-amz-delete-marker: true`).
pub async fn versioning_marker_deletes(backend: &dyn Backend, bucket: &str) {
    let b = format!("{bucket}-markers");
    let b = b.as_str();
    fresh_bucket(backend, b).await;
    must(
        backend
            .put_bucket_versioning(b, VersioningStatus::Enabled)
            .await,
        "enable versioning",
    );
    for key in ["a", "b"] {
        put(backend, b, key, b"x").await;
    }
    let mut markers = Vec::new();
    for key in ["a", "b"] {
        match must(backend.delete_object(b, key).await, "delete") {
            DeleteOutput {
                delete_marker: true,
                version_id: Some(id),
            } => markers.push(id),
            other => fail(format!("a delete in an Enabled bucket: {other:?}")),
        }
    }
    let removed = must(
        backend.delete_object_version(b, "a", &markers[0]).await,
        "delete a's marker",
    );
    if !removed.delete_marker || removed.version_id.as_deref() != Some(markers[0].as_str()) {
        fail(format!("deleting a marker reports {removed:?}"));
    }
    let batch = [ObjectIdentifier {
        key: "b".to_owned(),
        version_id: Some(markers[1].clone()),
    }];
    let results = must(backend.delete_objects(b, &batch).await, "delete objects");
    match &results[..] {
        [
            Ok(DeleteOutput {
                delete_marker: true,
                version_id: Some(id),
            }),
        ] if *id == markers[1] => {}
        other => fail(format!("DeleteObjects of a marker reports {other:?}")),
    }
    drop_bucket(backend, b).await;
}

/// A Suspended bucket: writes replace the `null` version and keep the
/// others; a delete makes a `null` delete marker.
pub async fn versioning_suspended(backend: &dyn Backend, bucket: &str) {
    let b = format!("{bucket}-suspended");
    let b = b.as_str();
    fresh_bucket(backend, b).await;
    let key = "doc";
    must(
        backend
            .put_bucket_versioning(b, VersioningStatus::Enabled)
            .await,
        "enable versioning",
    );
    let kept = new_id(put(backend, b, key, b"kept").await.version_id, "put");
    must(
        backend
            .put_bucket_versioning(b, VersioningStatus::Suspended)
            .await,
        "suspend versioning",
    );
    let status = must(backend.get_bucket_versioning(b).await, "versioning");
    if status != VersioningStatus::Suspended {
        fail(format!("after suspending, the status is {status:?}"));
    }
    put(backend, b, key, b"first null").await;
    put(backend, b, key, b"second null").await;
    let listed = all_versions(backend, b, "").await;
    if ids(&listed) != ["null", kept.as_str()] || !listed[0].is_latest || listed[0].size != 11 {
        fail(format!("a suspended bucket's versions: {listed:?}"));
    }
    if get_version(backend, b, key, "null").await != b"second null"
        || get_version(backend, b, key, &kept).await != b"kept"
    {
        fail("a suspended bucket's versions hold other content".to_owned());
    }
    let deleted = must(backend.delete_object(b, key).await, "delete");
    if !deleted.delete_marker {
        fail(format!("a delete in a suspended bucket: {deleted:?}"));
    }
    let listed = all_versions(backend, b, "").await;
    if ids(&listed) != ["null", kept.as_str()] || !listed[0].is_delete_marker {
        fail(format!(
            "after a delete, the null version is not a marker: {listed:?}"
        ));
    }
    match backend.head_object(b, key, GetOptions::default()).await {
        Err(BackendError::DeleteMarker { named: false, .. }) => {}
        other => fail(format!("head behind a null marker: {other:?}")),
    }
    must(
        backend.delete_object_version(b, key, "null").await,
        "delete the null marker",
    );
    if get_bytes(backend, b, key).await != b"kept" {
        fail("deleting the null marker did not bring back the kept version".to_owned());
    }
    drop_bucket(backend, b).await;
}

/// ListObjectVersions of several keys with versions and markers: one
/// entry per page follows key and version id markers through every
/// version in order (keys ascending, newest first within a key), and a
/// delimiter rolls keys up into common prefixes.
pub async fn versioning_listing(backend: &dyn Backend, bucket: &str) {
    let b = format!("{bucket}-version-list");
    let b = b.as_str();
    fresh_bucket(backend, b).await;
    must(
        backend
            .put_bucket_versioning(b, VersioningStatus::Enabled)
            .await,
        "enable versioning",
    );
    for key in ["a", "b", "b", "d/x", "d/y", "e"] {
        put(backend, b, key, key.as_bytes()).await;
    }
    must(backend.delete_object(b, "b").await, "delete b");
    must(backend.delete_object(b, "e").await, "delete e");
    let whole = all_versions(backend, b, "").await;
    let keys: Vec<&str> = whole.iter().map(|v| v.key.as_str()).collect();
    if keys != ["a", "b", "b", "b", "d/x", "d/y", "e", "e"] {
        fail(format!("versions in order: {whole:?}"));
    }
    let markers: Vec<bool> = whole.iter().map(|v| v.is_delete_marker).collect();
    if markers != [false, true, false, false, false, false, true, false] {
        fail(format!("delete markers: {whole:?}"));
    }
    let mut paged = Vec::new();
    let mut options = ListVersionsOptions {
        max_keys: 1,
        ..ListVersionsOptions::default()
    };
    for _ in 0..20 {
        let page = must(
            backend.list_object_versions(b, options.clone()).await,
            "list one version",
        );
        if page.versions.len() != 1 {
            fail(format!("a page of max-keys 1: {page:?}"));
        }
        paged.extend(page.versions);
        if !page.is_truncated {
            break;
        }
        options.key_marker = page.next_key_marker;
        options.version_id_marker = page.next_version_id_marker;
    }
    if paged != whole {
        fail(format!("paged: {paged:?}\nwhole: {whole:?}"));
    }
    let rolled = must(
        backend
            .list_object_versions(
                b,
                ListVersionsOptions {
                    delimiter: Some("/".to_owned()),
                    ..ListVersionsOptions::default()
                },
            )
            .await,
        "list with a delimiter",
    );
    let keys: Vec<&str> = rolled.versions.iter().map(|v| v.key.as_str()).collect();
    if keys != ["a", "b", "b", "b", "e", "e"] || rolled.common_prefixes != ["d/"] {
        fail(format!("versions with a delimiter: {rolled:?}"));
    }
    drop_bucket(backend, b).await;
}
