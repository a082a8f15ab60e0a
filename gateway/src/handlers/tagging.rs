//! Tagging handlers: GetObjectTagging, PutObjectTagging and
//! DeleteObjectTagging (the tags Cedar policies read as the object's,
//! `resource.getTag("k")`), and GetBucketTagging, PutBucketTagging and
//! DeleteBucketTagging (stored with the bucket; a bucket without tags
//! answers NoSuchTagSet, as S3 does).

use cedargate_backends::{BodySource, ObjectRef};

use super::object::read_capped;
use super::{HandlerEnv, backend_error, target_error, xml_error};
use crate::buckets::BucketTarget;
use crate::request::{S3Request, version_id};
use crate::response::S3Response;
use crate::xml;
use cedargate_s3::error::{S3Error, S3ErrorCode};

pub(super) async fn get(request: &S3Request, target: &BucketTarget) -> Result<S3Response, S3Error> {
    let version_id = version_id(request)?;
    let key = target.backend_key(request.key()?);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &key,
    };
    let tags = target
        .backend
        .get_object_tagging(object, version_id)
        .await
        .map_err(target_error(target))?;
    Ok(with_version(
        S3Response::xml(xml::tagging(&tags)),
        version_id,
    ))
}

pub(super) async fn put(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let version_id = version_id(request)?;
    let key = target.backend_key(request.key()?);
    let max = env
        .max_xml_body_bytes
        .min(cedargate_s3::xml::MAX_TAGGING_BODY_BYTES);
    let document = read_capped(body, max).await?;
    let pairs = cedargate_s3::xml::parse_tagging(&document).map_err(xml_error)?;
    let tags = cedargate_backends::tagging::tag_set(pairs).map_err(backend_error)?;
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &key,
    };
    target
        .backend
        .put_object_tagging(object, version_id, &tags)
        .await
        .map_err(target_error(target))?;
    Ok(with_version(S3Response::empty(200), version_id))
}

pub(super) async fn delete(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let version_id = version_id(request)?;
    let key = target.backend_key(request.key()?);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &key,
    };
    target
        .backend
        .delete_object_tagging(object, version_id)
        .await
        .map_err(target_error(target))?;
    Ok(with_version(S3Response::empty(204), version_id))
}

/// `x-amz-version-id` on the answer about a named version.
fn with_version(response: S3Response, version_id: Option<&str>) -> S3Response {
    super::object::version_header(response, version_id)
}

pub(super) async fn get_bucket(target: &BucketTarget) -> Result<S3Response, S3Error> {
    let tags = if target.prefix.is_empty() {
        target
            .backend
            .get_bucket_tagging(&target.backend_bucket)
            .await
            .map_err(target_error(target))?
    } else {
        cedargate_backends::TagSet::new()
    };
    if tags.is_empty() {
        return Err(S3Error::new(
            S3ErrorCode::NoSuchTagSet,
            "the TagSet does not exist",
        ));
    }
    Ok(S3Response::xml(xml::tagging(&tags)))
}

pub(super) async fn put_bucket(
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    super::acl::refuse_prefixed(target, "tags")?;
    let max = env
        .max_xml_body_bytes
        .min(cedargate_s3::xml::MAX_TAGGING_BODY_BYTES);
    let document = read_capped(body, max).await?;
    let pairs = cedargate_s3::xml::parse_tagging(&document).map_err(xml_error)?;
    let tags = cedargate_backends::tagging::bucket_tag_set(pairs).map_err(backend_error)?;
    target
        .backend
        .put_bucket_tagging(&target.backend_bucket, &tags)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(204))
}

pub(super) async fn delete_bucket(target: &BucketTarget) -> Result<S3Response, S3Error> {
    super::acl::refuse_prefixed(target, "tags")?;
    target
        .backend
        .delete_bucket_tagging(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(204))
}
