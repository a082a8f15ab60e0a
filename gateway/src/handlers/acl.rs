//! ACLs, for the tools that read or set them: every bucket and object
//! answers an owner-FULL_CONTROL policy (GetBucketAcl, GetObjectAcl), and
//! setting one (PutBucketAcl, PutObjectAcl) accepts only `private`, the
//! ACL that policy already is. Access itself is decided by Cedar policies,
//! which is what any other grant is refused with (NotImplemented).

use super::{S3Response, owner, target_error};
use crate::buckets::BucketTarget;
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;

/// Checks that the ACL's subject exists: the object when the request names
/// a key, else the bucket.
async fn require_subject(request: &S3Request, target: &BucketTarget) -> Result<(), S3Error> {
    let found = match request.route.key.as_deref() {
        Some(key) => target
            .backend
            .head_object(
                &target.backend_bucket,
                &target.backend_key(key),
                Default::default(),
            )
            .await
            .map(drop),
        None => target
            .backend
            .head_bucket(&target.backend_bucket)
            .await
            .map(drop),
    };
    found.map_err(target_error(target))
}

/// GetBucketAcl / GetObjectAcl: the subject exists, so its ACL is the owner's.
pub(super) async fn get_acl(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    require_subject(request, target).await?;
    Ok(S3Response::xml(crate::xml::owner_only_acl(&owner())))
}

/// PutBucketAcl / PutObjectAcl: `x-amz-acl: private` (or no canned ACL
/// and no grant headers) is accepted as what already holds; the object
/// must exist. An ACL document body is not read: a request that sends one
/// is refused like any other grant.
pub(super) async fn put_acl(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let has_body = request
        .header("content-length")
        .is_some_and(|length| length != "0");
    refuse_grants(request)?;
    if has_body {
        return Err(grant_refused());
    }
    require_subject(request, target).await?;
    Ok(S3Response::empty(200))
}

/// Refuses a canned ACL other than `private` and any `x-amz-grant-*`
/// header, on ACL requests and on writes alike.
pub(super) fn refuse_grants(request: &S3Request) -> Result<(), S3Error> {
    let canned = request.header("x-amz-acl").unwrap_or("private");
    let grants = request
        .headers
        .keys()
        .any(|name| name.as_str().starts_with("x-amz-grant-"));
    if canned != "private" || grants {
        return Err(grant_refused());
    }
    Ok(())
}

fn grant_refused() -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        "only the `private` ACL is supported: access is authorized by the gateway's policies, not by ACLs",
    )
}
