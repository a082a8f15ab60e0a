//! PostObject's store step: the form's file streamed into the backend's
//! put, as PutObject stores a body (the same headers, metadata and tags,
//! from the form fields the pipeline turned into a PutObject request).
//! The file's size is known only once it has streamed, so the backend is
//! given no length: the body itself enforces the size limits, and ends
//! only once the whole form has arrived.

use cedargate_backends::BodySource;

use super::{object, target_error};
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use cedargate_s3::error::S3Error;

/// Stores `body` under the key of `request` (the PutObject the form
/// stands for): the stored object's ETag, unquoted.
pub async fn post_object(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
) -> Result<String, S3Error> {
    let key = target.backend_key(request.key()?);
    let mut options = object::put_options(request)?;
    // `Content-Length` of the request stands for an upper bound only.
    options.content_length = None;
    let output = target
        .backend
        .put_object(&target.backend_bucket, &key, body, options)
        .await
        .map_err(target_error(target))?;
    Ok(output.etag)
}
