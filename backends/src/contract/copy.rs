//! Contract cases for CopyObject: metadata directives, ETags, source
//! preconditions and copies onto the source itself.

use std::collections::BTreeMap;
use std::time::Duration;

use super::objects::{sample_headers, sample_metadata};
use super::{assert_err, clean, get_bytes, must, put_with};
use crate::{
    Backend, BackendError, Conditions, CopyOptions, GetOptions, MetadataDirective, ObjectHeaders,
    ObjectRef, PutOptions,
};

/// Copies keep or replace metadata by directive, keep the content and
/// ETag, evaluate source conditions as 412s, and refuse a plain self-copy.
pub async fn copy_object(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/copy/";
    clean(backend, bucket, prefix).await;
    let (source, target) = ("contract/copy/source", "contract/copy/target");
    let options = PutOptions {
        headers: sample_headers(),
        user_metadata: sample_metadata(),
        ..PutOptions::default()
    };
    let written = put_with(backend, bucket, source, b"copied content", options).await;
    let from = ObjectRef {
        bucket,
        key: source,
    };
    let to = ObjectRef {
        bucket,
        key: target,
    };

    let copied = must(
        backend.copy_object(from, to, CopyOptions::default()).await,
        "copy",
    );
    assert_eq!(copied.etag, written.etag, "a copy keeps the ETag");
    let meta = must(
        backend
            .head_object(bucket, target, GetOptions::default())
            .await,
        "head",
    );
    assert_eq!(
        (meta.etag, meta.headers, meta.user_metadata),
        (written.etag.clone(), sample_headers(), sample_metadata())
    );
    assert_eq!(get_bytes(backend, bucket, target).await, b"copied content");

    let replaced_headers = ObjectHeaders {
        content_type: Some("application/json".into()),
        ..ObjectHeaders::default()
    };
    let replace = CopyOptions {
        metadata_directive: MetadataDirective::Replace,
        headers: replaced_headers.clone(),
        user_metadata: BTreeMap::from([("new".to_owned(), "yes".to_owned())]),
        ..CopyOptions::default()
    };
    must(
        backend.copy_object(from, to, replace.clone()).await,
        "copy with Replace",
    );
    let meta = must(
        backend
            .head_object(bucket, target, GetOptions::default())
            .await,
        "head",
    );
    assert_eq!(meta.headers, replaced_headers);
    assert_eq!(meta.user_metadata, replace.user_metadata);

    let onto_itself = backend
        .copy_object(from, from, CopyOptions::default())
        .await;
    assert_err!(
        onto_itself,
        BackendError::CopyOntoItself,
        "self-copy with Copy"
    );
    must(
        backend.copy_object(from, from, replace.clone()).await,
        "self-copy with Replace",
    );
    let meta = must(
        backend
            .head_object(bucket, source, GetOptions::default())
            .await,
        "head",
    );
    assert_eq!(
        meta.user_metadata, replace.user_metadata,
        "self-copy replaced metadata"
    );
    assert_eq!(get_bytes(backend, bucket, source).await, b"copied content");

    let with = |conditions| CopyOptions {
        source_conditions: conditions,
        ..CopyOptions::default()
    };
    let none = Conditions::default();
    let failing = [
        Conditions {
            if_match: Some("\"nope\"".into()),
            ..none.clone()
        },
        Conditions {
            if_none_match: Some(format!("\"{}\"", written.etag)),
            ..none.clone()
        },
        Conditions {
            if_modified_since: Some(meta.last_modified + Duration::from_secs(3600)),
            ..none.clone()
        },
    ];
    for conditions in failing {
        let result = backend
            .copy_object(from, to, with(conditions.clone()))
            .await;
        assert_err!(
            result,
            BackendError::PreconditionFailed,
            "copy source {conditions:?}"
        );
    }
    let matching = Conditions {
        if_match: Some(written.etag.clone()),
        ..none
    };
    must(
        backend.copy_object(from, to, with(matching)).await,
        "copy with a matching If-Match",
    );
    let missing = ObjectRef {
        bucket,
        key: "contract/copy/missing",
    };
    let result = backend
        .copy_object(missing, to, CopyOptions::default())
        .await;
    assert_err!(result, BackendError::NoSuchKey, "copy from a missing key");
    clean(backend, bucket, prefix).await;
}
