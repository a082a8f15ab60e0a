//! Versioning handlers: Get/PutBucketVersioning and ListObjectVersions
//! (an unversioned bucket lists each object as its one `null` version).

use cedargate_backends::{BodySource, ListVersionsOptions, VersioningStatus};

use super::object::read_capped;
use super::{HandlerEnv, target_error, xml_error};
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use crate::response::S3Response;
use crate::xml;
use cedargate_s3::error::{S3Error, S3ErrorCode};

pub(super) async fn get_bucket_versioning(target: &BucketTarget) -> Result<S3Response, S3Error> {
    let status = target
        .backend
        .get_bucket_versioning(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::xml(xml::versioning_configuration(status)))
}

/// PutBucketVersioning: `Enabled` or `Suspended`; MFA delete cannot be
/// enabled (no MFA device can be checked here).
pub(super) async fn put_bucket_versioning(
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    if !target.prefix.is_empty() {
        // Versioning is a property of the whole storage bucket, which
        // other buckets under other prefixes share.
        return Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            "versioning cannot be changed on a bucket that shares its storage under a prefix",
        ));
    }
    let max = env
        .max_xml_body_bytes
        .min(cedargate_s3::xml::MAX_VERSIONING_BODY_BYTES);
    let document = read_capped(body, max).await?;
    let config = cedargate_s3::xml::parse_versioning(&document).map_err(xml_error)?;
    let malformed = |what: &str| {
        S3Error::new(
            S3ErrorCode::MalformedXML,
            format!("the versioning configuration's {what}"),
        )
    };
    match config.mfa_delete.as_deref() {
        None | Some("Disabled") => {}
        Some("Enabled") => {
            return Err(S3Error::new(
                S3ErrorCode::NotImplemented,
                "MFA delete cannot be enabled: this gateway cannot check an MFA device",
            ));
        }
        Some(_) => return Err(malformed("MfaDelete must be Enabled or Disabled")),
    }
    let status = match config.status.as_deref() {
        Some("Enabled") => VersioningStatus::Enabled,
        Some("Suspended") => VersioningStatus::Suspended,
        None => return Ok(S3Response::empty(200)),
        Some(_) => return Err(malformed("Status must be Enabled or Suspended")),
    };
    target
        .backend
        .put_bucket_versioning(&target.backend_bucket, status)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(200))
}

pub(super) async fn list_object_versions(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let (prefix, delimiter, encoding_type_url) = request.listing_params()?;
    let max_keys = request.query_number("max-keys", 0..=i32::MAX as u64)?;
    let key_marker = request.query.get("key-marker").filter(|m| !m.is_empty());
    // Without a key marker S3 ignores the version id marker.
    let version_id_marker = request
        .query
        .get("version-id-marker")
        .filter(|_| key_marker.is_some());
    let options = ListVersionsOptions {
        prefix: target.backend_key(&prefix).into_owned(),
        delimiter,
        // Without a client marker none is sent (not the bucket's prefix, as
        // object listings do): an object named exactly the prefix is
        // dropped from the page instead, which keeps the marker S3's own.
        key_marker: key_marker.map(|marker| target.backend_key(marker).into_owned()),
        version_id_marker: version_id_marker.map(str::to_owned),
        max_keys: max_keys.map_or(1000, |m| m.min(1000) as usize),
    };
    let page = target
        .backend
        .list_object_versions(&target.backend_bucket, options.clone())
        .await
        .map_err(target_error(target))?;
    let page = target.client_versions(page);
    let owner = super::owner();
    let params = xml::ListVersionsParams {
        bucket: &target.name,
        prefix: &prefix,
        delimiter: options.delimiter.as_deref(),
        key_marker: key_marker.unwrap_or_default(),
        version_id_marker: request.query.get("version-id-marker").unwrap_or_default(),
        max_keys: options.max_keys,
        encoding_type_url,
        owner: &owner,
    };
    Ok(S3Response::xml(xml::list_versions_result(&params, &page)))
}
