//! Part of the *authorize* stage: the S3 tags of the object a request is
//! about, which Cedar policies read as the Object's entity tags
//! (`resource.getTag("classification")`).
//!
//! Fetched only when a policy of the live set reads resource tags, so the
//! common case costs nothing. Writes that set tags (PutObject,
//! CreateMultipartUpload, and CopyObject with `x-amz-tagging-directive:
//! REPLACE`) are decided on the tags they set; a CopyObject keeping its
//! tags, on the source's. Every other object operation is decided on the
//! stored tags, and a copy's source read on the source's. A key that does
//! not exist has no tags. When the tags cannot be read (the backend is
//! down) the request is refused: a policy that forbids by tag must never be
//! skipped. DeleteObjects fetches each key's tags in its handler. A write
//! over an existing object is decided on the tags it sets, not on the
//! replaced object's (as S3's `ExistingObjectTag` does not apply to PutObject).

use cedargate_backends::{BackendError, ObjectRef, TagSet, VersioningStatus, tagging};

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
    if request.query.has("versionId") {
        let never_versioned = match buckets.resolve(bucket) {
            Some(target) => never_versioned(&target).await,
            None => true,
        };
        if !never_versioned {
            return Err(named_version_refused());
        }
    }
    let source = match request.operation {
        Op::CopyObject | Op::UploadPartCopy => Some(crate::request::copy_source(request)?),
        _ => None,
    };
    let source_tags = match &source {
        Some(source) => stored(buckets, &source.bucket, &source.key).await?,
        None => TagSet::new(),
    };
    let replaces = request
        .header("x-amz-tagging-directive")
        .is_some_and(|directive| directive.eq_ignore_ascii_case("REPLACE"));
    let tags = match request.operation {
        Op::PutObject | Op::CreateMultipartUpload => requested(request)?,
        Op::CopyObject if replaces => requested(request)?,
        Op::CopyObject => source_tags.clone(),
        _ => stored(buckets, bucket, key).await?,
    };
    authz.set_object_tags(bucket, key, tags);
    if source.is_some() {
        authz.set_copy_source_tags(source_tags);
    }
    Ok(())
}

/// Whether `target`'s storage was never versioned, so that its one version
/// (`null`) is the current one and the tags read are the named version's.
/// Unknown (the backend cannot tell) counts as versioned.
pub async fn never_versioned(target: &BucketTarget) -> bool {
    matches!(
        target
            .backend
            .get_bucket_versioning(&target.backend_bucket)
            .await,
        Ok(VersioningStatus::Unversioned)
    )
}

/// The refusal of a request for a named version while policies read object
/// tags, in a bucket that is or was versioned: the tags read are the
/// current version's, which may not be the named version's, so such a
/// request is never decided on them.
pub fn named_version_refused() -> S3Error {
    S3Error::new(
        S3ErrorCode::AccessDenied,
        "the policies decide on object tags, which cannot be read for a named version: \
         only the current version (no `versionId`) can be requested",
    )
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

/// The stored tags of `bucket` / `key`; none when there is no such bucket.
async fn stored(buckets: &BucketMap, bucket: &str, key: &str) -> Result<TagSet, S3Error> {
    match buckets.resolve(bucket) {
        Some(target) => stored_on(&target, key).await,
        None => Ok(TagSet::new()),
    }
}

/// The stored tags of `key` in `target`; none when there is no such object
/// (or bucket, or the backend keeps no tags); ServiceUnavailable when they
/// cannot be read.
pub async fn stored_on(target: &BucketTarget, key: &str) -> Result<TagSet, S3Error> {
    let backend_key = target.backend_key(key);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &backend_key,
    };
    match target.backend.get_object_tagging(object).await {
        Ok(tags) => Ok(tags),
        Err(
            BackendError::NoSuchKey
            | BackendError::NoSuchBucket
            | BackendError::NotImplemented { .. }
            | BackendError::InvalidArgument { .. },
        ) => Ok(TagSet::new()),
        Err(error) => Err(S3Error::new(S3ErrorCode::ServiceUnavailable, "").with_detail(&error)),
    }
}
