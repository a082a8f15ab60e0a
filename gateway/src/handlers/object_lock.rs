//! Object Lock on buckets without it: the gateway creates no bucket with
//! Object Lock (CreateBucket with `x-amz-bucket-object-lock-enabled` is
//! refused), so on a backend that reports none, the lock operations answer
//! what S3 answers for a bucket created without it. A backend whose
//! buckets may have a lock the gateway does not relay answers
//! NotImplemented.

use super::{S3Response, not_implemented, target_error};
use crate::buckets::BucketTarget;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// GetObjectLockConfiguration, PutObjectLockConfiguration, and
/// Get/PutObjectRetention and Get/PutObjectLegalHold.
pub(super) async fn answer(
    operation: S3Operation,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let enabled = target
        .backend
        .object_lock_enabled(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    if enabled {
        return Err(not_implemented(operation));
    }
    Err(without_lock(operation))
}

/// S3's answer to a lock operation on a bucket created without Object Lock.
fn without_lock(operation: S3Operation) -> S3Error {
    use S3Operation as Op;
    match operation {
        Op::GetObjectLockConfiguration => S3Error::new(
            S3ErrorCode::ObjectLockConfigurationNotFoundError,
            "Object Lock configuration does not exist for this bucket",
        ),
        Op::PutObjectLockConfiguration => S3Error::new(
            S3ErrorCode::InvalidBucketState,
            "Object Lock configuration cannot be enabled on existing buckets",
        ),
        _ => S3Error::new(
            S3ErrorCode::InvalidRequest,
            "Bucket is missing Object Lock Configuration",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lock_operation_gets_s3s_answer_for_a_bucket_without_lock() {
        use S3Operation as Op;
        let cases = [
            (
                Op::GetObjectLockConfiguration,
                S3ErrorCode::ObjectLockConfigurationNotFoundError,
            ),
            (
                Op::PutObjectLockConfiguration,
                S3ErrorCode::InvalidBucketState,
            ),
            (Op::GetObjectRetention, S3ErrorCode::InvalidRequest),
            (Op::PutObjectRetention, S3ErrorCode::InvalidRequest),
            (Op::GetObjectLegalHold, S3ErrorCode::InvalidRequest),
            (Op::PutObjectLegalHold, S3ErrorCode::InvalidRequest),
        ];
        for (operation, code) in cases {
            assert_eq!(without_lock(operation).code(), code, "{operation:?}");
        }
    }
}
