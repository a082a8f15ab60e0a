//! Part of the *authorize* stage: the S3 tags of the object a request is
//! about, which Cedar policies read as the Object's entity tags
//! (`resource.getTag("classification")`).
//!
//! Fetched only when a policy of the live set reads resource tags, so the
//! common case costs nothing. Writes that set tags (PutObject,
//! CreateMultipartUpload, and CopyObject with `x-amz-tagging-directive:
//! REPLACE`) are decided on the tags they set; a CopyObject keeping its
//! tags, on the source's. Every other object operation is decided on the
//! stored tags, and a copy's source read on the source's; a request naming
//! a version (`versionId`, a copy source's `?versionId=`) on that
//! version's own tags. A key that does not exist has no tags. When the tags cannot be read (the backend is
//! down) the request is refused: a policy that forbids by tag must never be
//! skipped. DeleteObjects fetches each key's tags in its handler. A write
//! over an existing object is decided on the tags it sets, not on the
//! replaced object's (as S3's `ExistingObjectTag` does not apply to PutObject).

use cedargate_backends::{BackendError, ObjectRef, TagSet, tagging};

use crate::authorize::Authorizer;
use crate::buckets::{BucketMap, BucketTarget};
use crate::request::S3Request;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// Records the tags of the request's object (and a copy's source) on
/// `authz`, when its policies read them.
pub async fn load(
    request: &S3Request,
    buckets: &BucketMap,
    authz: &mut Authorizer<'_>,
) -> Result<(), S3Error> {
    use S3Operation as Op;
    if !authz.reads_object_tags() || request.operation == Op::DeleteObjects {
        return Ok(());
    }
    let (Some(bucket), Some(key)) = (
        request.route.bucket.as_deref(),
        request.route.key.as_deref(),
    ) else {
        return Ok(());
    };
    // A named version is decided on that version's own tags.
    let version_id = request.query.get("versionId");
    let source = match request.operation {
        Op::CopyObject | Op::UploadPartCopy => Some(crate::request::copy_source(request)?),
        _ => None,
    };
    let source_tags = match &source {
        Some(source) => {
            stored(
                buckets,
                &source.bucket,
                &source.key,
                source.version_id.as_deref(),
            )
            .await?
        }
        None => TagSet::new(),
    };
    let replaces = request
        .header("x-amz-tagging-directive")
        .is_some_and(|directive| directive.eq_ignore_ascii_case("REPLACE"));
    let tags = match request.operation {
        Op::PutObject | Op::CreateMultipartUpload => requested(request)?,
        Op::CopyObject if replaces => requested(request)?,
        Op::CopyObject => source_tags.clone(),
        _ => stored(buckets, bucket, key, version_id).await?,
    };
    authz.set_object_tags(bucket, key, tags);
    if source.is_some() {
        authz.set_copy_source_tags(source_tags);
    }
    Ok(())
}

/// The tags the request sets: the very header value the write stores
/// (`write_headers` refuses a repeated or non-ASCII `x-amz-tagging`), and
/// a value that breaks the tagging rules is refused here already.
fn requested(request: &S3Request) -> Result<TagSet, S3Error> {
    match crate::request::tagging_header(request)? {
        Some(header) => tagging::parse_header(header).map_err(crate::backend_error::backend_error),
        None => Ok(TagSet::new()),
    }
}

/// The stored tags of `bucket` / `key` (of `version_id`, when named);
/// none when there is no such bucket.
async fn stored(
    buckets: &BucketMap,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<TagSet, S3Error> {
    match buckets.resolve(bucket) {
        Some(target) => stored_on(&target, key, version_id).await,
        None => Ok(TagSet::new()),
    }
}

/// The stored tags of `key` in `target` (of `version_id`, when named);
/// none when there is no such object or version (or bucket, or the backend
/// keeps no tags, or cannot name that version: the request itself then
/// fails the same way); ServiceUnavailable when they cannot be read.
pub async fn stored_on(
    target: &BucketTarget,
    key: &str,
    version_id: Option<&str>,
) -> Result<TagSet, S3Error> {
    let backend_key = target.backend_key(key);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &backend_key,
    };
    match target.backend.get_object_tagging(object, version_id).await {
        Ok(tags) => Ok(tags),
        Err(
            BackendError::NoSuchKey
            | BackendError::NoSuchVersion
            | BackendError::DeleteMarker { .. }
            | BackendError::NoSuchBucket
            | BackendError::NotImplemented { .. }
            | BackendError::InvalidArgument { .. },
        ) => Ok(TagSet::new()),
        Err(error) => Err(S3Error::new(S3ErrorCode::ServiceUnavailable, "").with_detail(&error)),
    }
}
