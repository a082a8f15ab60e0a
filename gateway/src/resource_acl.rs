//! Part of the *authorize* stage: the canned ACL of the bucket or object a
//! request is about, which Cedar policies read as `resource.acl`.
//!
//! Looked up only when a policy of the live set reads `acl`, so the common
//! case costs nothing. Requests that create their resource with an ACL
//! (PutObject, CopyObject and CreateMultipartUpload on objects,
//! CreateBucket on buckets) are decided on the ACL they set, from the very
//! `x-amz-acl` value the handler stores (one header, exactly a canned ACL's
//! name, else refused here already), `private` when they set none: a copy
//! never takes its source's ACL. Every other request is decided on the
//! stored ACL of its object (the key it names) or bucket, PutObjectAcl and
//! PutBucketAcl included; a copy's source read on the source's. A key that
//! does not exist, or a backend that keeps no ACLs, is `private`. When the
//! ACL cannot be read (the backend is down) the request is refused: a
//! policy that forbids by ACL must never be skipped. As for tags, a named
//! version (`versionId`) in a bucket that is or was versioned is refused,
//! since the ACL read is the current version's. DeleteObjects looks up
//! each key's ACL in its handler, ListBuckets each bucket's.

use cedargate_backends::{BackendError, CannedAcl, ObjectRef, VersioningStatus};

use crate::authorize::Authorizer;
use crate::buckets::{BucketMap, BucketTarget};
use crate::request::S3Request;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::xml::AclSubject;

/// Records the canned ACL of the request's bucket or object (and a copy's
/// source) on `authz`, when its policies read ACLs.
pub async fn load(
    request: &S3Request,
    buckets: &BucketMap,
    authz: &mut Authorizer<'_>,
) -> Result<(), S3Error> {
    use S3Operation as Op;
    if !authz.reads_acl() || matches!(request.operation, Op::DeleteObjects | Op::ListBuckets) {
        return Ok(());
    }
    let Some(bucket) = request.route.bucket.as_deref() else {
        return Ok(());
    };
    let target = buckets.resolve(bucket);
    let Some(key) = request.route.key.as_deref() else {
        let acl = match (request.operation, &target) {
            (Op::CreateBucket, _) => requested(request, AclSubject::Bucket)?,
            (_, Some(target)) => stored_bucket_acl(target).await?,
            (_, None) => CannedAcl::Private,
        };
        authz.set_resource_acl(bucket, None, acl);
        return Ok(());
    };
    if request.query.has("versionId") {
        let never_versioned = match &target {
            Some(target) => never_versioned(target).await,
            None => true,
        };
        if !never_versioned {
            return Err(named_version_refused());
        }
    }
    let acl = match request.operation {
        Op::PutObject | Op::CreateMultipartUpload | Op::CopyObject => {
            requested(request, AclSubject::Object)?
        }
        _ => match &target {
            Some(target) => stored_object_acl(target, key).await?,
            None => CannedAcl::Private,
        },
    };
    authz.set_resource_acl(bucket, Some(key), acl);
    if matches!(request.operation, Op::CopyObject | Op::UploadPartCopy) {
        let source = crate::request::copy_source(request)?;
        let acl = match buckets.resolve(&source.bucket) {
            // The ACL read is the current version's: a named source version
            // is decided on it only where it is that version.
            Some(target) if source.version_id.is_some() && !never_versioned(&target).await => {
                return Err(named_version_refused());
            }
            Some(target) => stored_object_acl(&target, &source.key).await?,
            None => CannedAcl::Private,
        };
        authz.set_copy_source_acl(acl);
    }
    Ok(())
}

/// The ACL the request sets with `x-amz-acl`, `private` when none.
fn requested(request: &S3Request, subject: AclSubject) -> Result<CannedAcl, S3Error> {
    Ok(crate::request::acl_header(request, subject)?.unwrap_or_default())
}

/// Whether `target`'s storage was never versioned, so that its one version
/// (`null`) is the current one and the ACL read is the named version's.
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

/// The refusal of a request for a named version while policies read ACLs,
/// in a bucket that is or was versioned.
pub fn named_version_refused() -> S3Error {
    S3Error::new(
        S3ErrorCode::AccessDenied,
        "the policies decide on ACLs, which cannot be read for a named version: \
         only the current version (no `versionId`) can be requested",
    )
}

/// The stored canned ACL of `key` in `target`: `private` when there is no
/// such object (or bucket, or the backend keeps no ACLs);
/// ServiceUnavailable when it cannot be read.
pub async fn stored_object_acl(target: &BucketTarget, key: &str) -> Result<CannedAcl, S3Error> {
    let backend_key = target.backend_key(key);
    let object = ObjectRef {
        bucket: &target.backend_bucket,
        key: &backend_key,
    };
    settle(target.backend.get_object_acl(object).await)
}

/// The stored canned ACL of `target`'s bucket: `private` when it does not
/// exist, keeps no ACL of its own (a bucket that is a prefix of a storage
/// bucket) or the backend keeps no ACLs; ServiceUnavailable when it cannot
/// be read.
pub async fn stored_bucket_acl(target: &BucketTarget) -> Result<CannedAcl, S3Error> {
    if !target.prefix.is_empty() {
        return Ok(CannedAcl::Private);
    }
    settle(target.backend.get_bucket_acl(&target.backend_bucket).await)
}

fn settle(result: Result<CannedAcl, BackendError>) -> Result<CannedAcl, S3Error> {
    match result {
        Ok(acl) => Ok(acl),
        Err(
            BackendError::NoSuchKey
            | BackendError::NoSuchBucket
            | BackendError::NotImplemented { .. }
            | BackendError::InvalidArgument { .. },
        ) => Ok(CannedAcl::Private),
        Err(error) => Err(S3Error::new(S3ErrorCode::ServiceUnavailable, "").with_detail(&error)),
    }
}
