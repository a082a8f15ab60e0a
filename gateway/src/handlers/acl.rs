//! ACLs, for the tools that read or set them: every bucket and object
//! answers an owner-FULL_CONTROL policy (GetBucketAcl, GetObjectAcl), and
//! setting one (PutBucketAcl, PutObjectAcl) accepts only `private`, the
//! ACL that policy already is, as a canned ACL or as that document. Access
//! itself is decided by Cedar policies, which is what any other grant is
//! refused with (NotImplemented).

use cedargate_backends::BodySource;

use super::object::read_capped;
use super::{HandlerEnv, S3Response, owner, target_error, xml_error};
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::xml::AclGrant;

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
    Ok(S3Response::xml(cedargate_s3::xml::owner_only_acl(&owner())))
}

/// PutBucketAcl / PutObjectAcl: `x-amz-acl: private`, no canned ACL and
/// no grant headers, or an `<AccessControlPolicy>` body granting only
/// FULL_CONTROL to the owner (what tools such as s3cmd send back after a
/// copy, having read it with GetObjectAcl) is accepted as what already
/// holds; the subject must exist.
pub(super) async fn put_acl(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let canned = request.header("x-amz-acl");
    let grants = has_grant_headers(request);
    let limit = env
        .max_xml_body_bytes
        .min(cedargate_s3::xml::MAX_ACL_BODY_BYTES);
    let document = read_capped(body, limit).await?;
    let private = if document.is_empty() {
        canned.unwrap_or("private") == "private" && !grants
    } else {
        let policy =
            cedargate_s3::xml::parse_access_control_policy(&document).map_err(xml_error)?;
        canned.is_none() && !grants && grants_only_the_owner(&policy)
    };
    if !private {
        return Err(grant_refused());
    }
    require_subject(request, target).await?;
    Ok(S3Response::empty(200))
}

/// Refuses a canned ACL other than `private` and any `x-amz-grant-*`
/// header on a write (PutObject, CopyObject, CreateMultipartUpload,
/// CreateBucket), as PutObjectAcl does.
pub(super) fn refuse_grants(request: &S3Request) -> Result<(), S3Error> {
    let canned = request.header("x-amz-acl").unwrap_or("private");
    if canned != "private" || has_grant_headers(request) {
        return Err(grant_refused());
    }
    Ok(())
}

fn has_grant_headers(request: &S3Request) -> bool {
    request
        .headers
        .keys()
        .any(|name| name.as_str().starts_with("x-amz-grant-"))
}

fn grant_refused() -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        "only the `private` ACL is supported: access is authorized by the gateway's policies, not by ACLs",
    )
}

/// Whether `policy` is the private ACL: FULL_CONTROL for the owner, only.
fn grants_only_the_owner(policy: &[AclGrant]) -> bool {
    let owner = owner();
    !policy.is_empty()
        && policy.iter().all(|grant| {
            grant.canonical_id.as_deref() == Some(owner.id.as_str())
                && grant.permission == "FULL_CONTROL"
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(id: Option<&str>, permission: &str) -> AclGrant {
        AclGrant {
            canonical_id: id.map(str::to_owned),
            permission: permission.to_owned(),
        }
    }

    #[test]
    fn only_the_owners_full_control_is_private() {
        let id = owner().id;
        let full = grant(Some(&id), "FULL_CONTROL");
        assert!(grants_only_the_owner(std::slice::from_ref(&full)));
        assert!(grants_only_the_owner(&[full.clone(), full.clone()]));
        for other in [
            grant(Some("someone-else"), "FULL_CONTROL"),
            grant(Some(&id), "READ"),
            grant(None, "FULL_CONTROL"),
        ] {
            assert!(
                !grants_only_the_owner(&[full.clone(), other.clone()]),
                "{other:?}"
            );
        }
        assert!(
            !grants_only_the_owner(&[]),
            "no grant at all is not private"
        );
    }
}
