//! Versioning handlers: GetBucketVersioning and ListObjectVersions, so that
//! tools which look for versions work on every bucket (an unversioned
//! bucket lists each object as its one `null` version).

use cedargate_backends::ListVersionsOptions;

use super::target_error;
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use crate::response::S3Response;
use crate::xml;
use cedargate_s3::error::S3Error;

pub(super) async fn get_bucket_versioning(target: &BucketTarget) -> Result<S3Response, S3Error> {
    let status = target
        .backend
        .get_bucket_versioning(&target.backend_bucket)
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::xml(xml::versioning_configuration(status)))
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
