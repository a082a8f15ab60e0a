//! Bucket lifecycle handlers: CreateBucket and DeleteBucket.
//!
//! Buckets listed in config always exist and can never be deleted through
//! the API. Any other name is routed by the gateway's default route (see
//! [`crate::config::DefaultRouteConfig`]): CreateBucket makes the bucket
//! there, so it stays routable after a restart, and DeleteBucket removes
//! it once empty.

use cedargate_backends::{BackendError, BodySource};

use super::object::read_capped;
use super::{HandlerEnv, acl, backend_error, target_error};
use crate::buckets::{BucketTarget, Unroutable};
use crate::request::S3Request;
use crate::response::S3Response;
use cedargate_s3::error::{S3Error, S3ErrorCode};

pub(super) async fn create_bucket(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let acl = acl::write_acl(request, cedargate_s3::xml::AclSubject::Bucket)?;
    if request
        .header("x-amz-bucket-object-lock-enabled")
        .is_some_and(|enabled| enabled.eq_ignore_ascii_case("true"))
    {
        return Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            "object lock is not supported by this gateway",
        ));
    }
    // The CreateBucketConfiguration (a LocationConstraint) is read, within
    // the XML cap, and not used: the bucket lives where the route says.
    read_capped(body, env.max_xml_body_bytes).await?;
    if target.configured {
        return Err(backend_error(BackendError::BucketAlreadyOwnedByYou));
    }
    target
        .backend
        .create_bucket(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    if let Some(acl) = acl.filter(|acl| *acl != cedargate_backends::CannedAcl::Private) {
        acl::refuse_prefixed(target, "an ACL")?;
        target
            .backend
            .put_bucket_acl(&target.backend_bucket, acl)
            .await
            .map_err(target_error(target))?;
    }
    Ok(S3Response::empty(200).header("location", format!("/{}", target.name)))
}

/// CreateBucket of a name the default route gives no bucket.
pub(super) fn unroutable(request: &S3Request, env: HandlerEnv<'_>) -> S3Error {
    let name = request.route.bucket.as_deref().unwrap_or_default();
    match env.buckets.route_unlisted(name) {
        Err(Unroutable::Reserved) => backend_error(BackendError::BucketAlreadyExists),
        Err(Unroutable::InvalidName) => S3Error::new(
            S3ErrorCode::InvalidBucketName,
            format!("the specified bucket name `{name}` is too long for this gateway"),
        ),
        Err(Unroutable::NoDefaultRoute) | Ok(_) => S3Error::new(
            S3ErrorCode::NotImplemented,
            "buckets cannot be created through this gateway: it serves the buckets of its configuration",
        ),
    }
}

pub(super) async fn delete_bucket(target: &BucketTarget) -> Result<S3Response, S3Error> {
    if target.configured {
        return Err(S3Error::new(
            S3ErrorCode::AccessDenied,
            "this bucket is defined in the gateway's configuration and cannot be deleted through the API",
        ));
    }
    target
        .backend
        .delete_bucket(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(204))
}
