//! Canned ACLs, kept as data: GetBucketAcl / GetObjectAcl answer the
//! AccessControlPolicy S3 answers for the subject's stored canned ACL,
//! PutBucketAcl / PutObjectAcl store one (`x-amz-acl`, or an
//! `<AccessControlPolicy>` body exactly equivalent to one), and writes that
//! create an object or bucket take one in `x-amz-acl`. An ACL grants
//! nothing by itself: policies read it as `resource.acl`. Grants to named
//! grantees (`x-amz-grant-*` headers, other bodies) are refused
//! (NotImplemented).

use cedargate_backends::{BackendError, BodySource, CannedAcl, ObjectRef};

use super::object::read_capped;
use super::{HandlerEnv, S3Response, owner, refuse_version, target_error, xml_error};
use crate::buckets::BucketTarget;
use crate::request::{S3Request, acl_header};
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::xml::AclSubject;

/// The subject an ACL request is about: the object when it names a key.
fn subject(request: &S3Request) -> AclSubject {
    if request.route.key.is_some() {
        AclSubject::Object
    } else {
        AclSubject::Bucket
    }
}

/// GetBucketAcl / GetObjectAcl: the stored canned ACL as S3 writes it; a
/// backend that keeps no ACLs answers `private` for a subject that exists.
pub(super) async fn get_acl(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let stored = match request.route.key.as_deref() {
        Some(key) => {
            refuse_version(request)?;
            let key = target.backend_key(key);
            let object = ObjectRef {
                bucket: &target.backend_bucket,
                key: &key,
            };
            target.backend.get_object_acl(object).await
        }
        None if !target.prefix.is_empty() => Err(BackendError::NotImplemented {
            operation: "GetBucketAcl",
            backend: "",
        }),
        None => target.backend.get_bucket_acl(&target.backend_bucket).await,
    };
    let acl = match stored {
        Err(BackendError::NotImplemented { .. }) => {
            require_subject(request, target).await?;
            CannedAcl::Private
        }
        other => other.map_err(target_error(target))?,
    };
    Ok(S3Response::xml(acl.to_policy_xml(&owner())))
}

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

/// PutBucketAcl / PutObjectAcl: the canned ACL of `x-amz-acl`, or of an
/// `<AccessControlPolicy>` body exactly equivalent to one (owner
/// FULL_CONTROL plus the canned ACL's group grants, as GetObjectAcl
/// answers it and tools such as s3cmd send back), replaces the stored one.
/// Both at once are refused, as S3 does; so is a grant header.
pub(super) async fn put_acl(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let subject = subject(request);
    let canned = acl_header(request, subject)?;
    refuse_grant_headers(request)?;
    let limit = env
        .max_xml_body_bytes
        .min(cedargate_s3::xml::MAX_ACL_BODY_BYTES);
    let document = read_capped(body, limit).await?;
    let acl = match (canned, document.is_empty()) {
        (Some(_), false) => {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "specify an ACL either with the x-amz-acl header or in the request body, not both",
            ));
        }
        (Some(acl), true) => acl,
        (None, true) => {
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "specify an ACL with the x-amz-acl header or an AccessControlPolicy body",
            ));
        }
        (None, false) => {
            let grants =
                cedargate_s3::xml::parse_access_control_policy(&document).map_err(xml_error)?;
            let owner = owner();
            let acl =
                CannedAcl::from_grants(&grants, Some(&owner.id)).ok_or_else(grants_refused)?;
            CannedAcl::for_subject(acl.as_str(), subject).map_err(|_| grants_refused())?
        }
    };
    match request.route.key.as_deref() {
        Some(key) => {
            refuse_version(request)?;
            let key = target.backend_key(key);
            let object = ObjectRef {
                bucket: &target.backend_bucket,
                key: &key,
            };
            target.backend.put_object_acl(object, acl).await
        }
        None => {
            refuse_prefixed(target, "an ACL")?;
            target
                .backend
                .put_bucket_acl(&target.backend_bucket, acl)
                .await
        }
    }
    .map_err(target_error(target))?;
    Ok(S3Response::empty(200))
}

/// Refuses to set `what` on a bucket that is a prefix of a storage bucket:
/// the storage bucket's ACL and tags are shared by every bucket mapped
/// into it.
pub(super) fn refuse_prefixed(target: &BucketTarget, what: &str) -> Result<(), S3Error> {
    if target.prefix.is_empty() {
        return Ok(());
    }
    Err(S3Error::new(
        S3ErrorCode::NotImplemented,
        format!(
            "this bucket is a folder of a storage bucket shared with others: {what} cannot be set on it"
        ),
    ))
}

/// The canned ACL a write that creates its object or bucket sets
/// (PutObject, CopyObject, CreateMultipartUpload, CreateBucket):
/// `x-amz-acl`, the very value policies decided on; any `x-amz-grant-*`
/// header is refused.
pub(super) fn write_acl(
    request: &S3Request,
    subject: AclSubject,
) -> Result<Option<CannedAcl>, S3Error> {
    refuse_grant_headers(request)?;
    acl_header(request, subject)
}

fn refuse_grant_headers(request: &S3Request) -> Result<(), S3Error> {
    let grants = request
        .headers
        .keys()
        .any(|name| name.as_str().starts_with("x-amz-grant-"));
    if grants {
        return Err(grants_refused());
    }
    Ok(())
}

fn grants_refused() -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        "only canned ACLs are supported (x-amz-acl: private, public-read, public-read-write, \
         authenticated-read, aws-exec-read, bucket-owner-read, bucket-owner-full-control, \
         log-delivery-write, or the AccessControlPolicy GetObjectAcl answers for one): grants \
         to named accounts (x-amz-grant-* headers, other grantees) are not",
    )
}
