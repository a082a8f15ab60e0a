//! Object tagging handlers: GetObjectTagging, PutObjectTagging and
//! DeleteObjectTagging. Tags set here are the ones Cedar policies read as
//! the object's tags (`resource.getTag("k")`).

use cedargate_backends::{BodySource, ObjectRef};

use super::object::read_capped;
use super::{HandlerEnv, backend_error, refuse_version, target_error, xml_error};
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use crate::response::S3Response;
use crate::xml;
use cedargate_s3::error::S3Error;

pub(super) async fn get(request: &S3Request, target: &BucketTarget) -> Result<S3Response, S3Error> {
    refuse_version(request)?;
    let key = target.backend_key(request.key()?);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &key,
    };
    let tags = target
        .backend
        .get_object_tagging(object)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::xml(xml::tagging(&tags)))
}

pub(super) async fn put(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    refuse_version(request)?;
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
        .put_object_tagging(object, &tags)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(200))
}

pub(super) async fn delete(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    refuse_version(request)?;
    let key = target.backend_key(request.key()?);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &key,
    };
    target
        .backend
        .delete_object_tagging(object)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(204))
}
