//! Object tagging handlers: GetObjectTagging, PutObjectTagging and
//! DeleteObjectTagging. Tags set here are the ones Cedar policies read as
//! the object's tags (`resource.getTag("k")`).

use cedargate_backends::{BodySource, ObjectRef};

use super::object::read_capped;
use super::{HandlerEnv, backend_error, target_error, xml_error};
use crate::buckets::BucketTarget;
use crate::request::{S3Request, version_id};
use crate::response::S3Response;
use crate::xml;
use cedargate_s3::error::S3Error;

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
