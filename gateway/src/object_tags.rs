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
//! skipped. DeleteObjects decides its keys without their tags.

use cedargate_backends::{BackendError, ObjectRef, TagSet, tagging};

use crate::authorize::Authorizer;
use crate::buckets::BucketMap;
use crate::classify::S3Operation;
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;

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
    let source = match request.operation {
        Op::CopyObject | Op::UploadPartCopy => Some(crate::handlers::copy_source(request)?),
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
        Op::PutObject | Op::CreateMultipartUpload => requested(request),
        Op::CopyObject if replaces => requested(request),
        Op::CopyObject => source_tags.clone(),
        _ => stored(buckets, bucket, key).await?,
    };
    authz.set_object_tags(bucket, key, tags);
    if let Some(source) = source {
        authz.set_object_tags(&source.bucket, &source.key, source_tags);
    }
    Ok(())
}

/// The tags the request sets; an invalid header is refused by the handler.
fn requested(request: &S3Request) -> TagSet {
    request
        .header("x-amz-tagging")
        .and_then(|header| tagging::parse_header(header).ok())
        .unwrap_or_default()
}

/// The stored tags of `bucket` / `key`; none when there is no such object
/// (or bucket, or the backend keeps no tags).
async fn stored(buckets: &BucketMap, bucket: &str, key: &str) -> Result<TagSet, S3Error> {
    let Some(target) = buckets.resolve(bucket) else {
        return Ok(TagSet::new());
    };
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
