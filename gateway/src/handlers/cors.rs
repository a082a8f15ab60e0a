//! The `?cors` subresource: GetBucketCors answers the bucket's configured
//! CORS rules; they are set in the gateway's configuration, so PutBucketCors
//! and DeleteBucketCors are refused with NotImplemented.

use super::{S3Response, target_error};
use crate::buckets::BucketTarget;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// GetBucketCors: the bucket's rules as a CORSConfiguration document, or
/// NoSuchCORSConfiguration when it has none.
pub(super) async fn get_bucket_cors(target: &BucketTarget) -> Result<S3Response, S3Error> {
    target
        .backend
        .head_bucket(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    if target.cors.is_empty() {
        return Err(S3Error::new(
            S3ErrorCode::NoSuchCORSConfiguration,
            "The CORS configuration does not exist",
        ));
    }
    Ok(S3Response::xml(cedargate_s3::cors::cors_configuration(
        &target.cors,
    )))
}

/// PutBucketCors / DeleteBucketCors: refused, naming where rules are set.
pub(super) fn configured_by_the_gateway(operation: S3Operation) -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        format!(
            "`{}` is not supported: CORS rules are set in the gateway configuration (`cors_rules` of the bucket's table)",
            operation.name()
        ),
    )
}
