//! GetObjectAttributes: the attributes `x-amz-object-attributes` names
//! (ETag, Checksum, ObjectParts with `max-parts` / `part-number-marker`
//! paging, StorageClass, ObjectSize), in one XML document.

use cedargate_backends::{AttributesOptions, GetOptions};

use super::target_error;
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use crate::response::S3Response;
use crate::xml::{self, AttributeSelection};
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// The attributes named by `x-amz-object-attributes` (comma-separated,
/// the header possibly repeated): at least one, each one S3 defines.
fn selection(request: &S3Request) -> Result<AttributeSelection, S3Error> {
    let mut selection = AttributeSelection::default();
    let mut any = false;
    let values = request
        .headers
        .get_all("x-amz-object-attributes")
        .iter()
        .filter_map(|value| value.to_str().ok());
    for name in values.flat_map(|value| value.split(',')).map(str::trim) {
        let flag = match name {
            "" => continue,
            "ETag" => &mut selection.etag,
            "Checksum" => &mut selection.checksum,
            "ObjectParts" => &mut selection.object_parts,
            "StorageClass" => &mut selection.storage_class,
            "ObjectSize" => &mut selection.object_size,
            other => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    format!("invalid attribute name specified: `{other}`"),
                ));
            }
        };
        *flag = true;
        any = true;
    }
    if any {
        Ok(selection)
    } else {
        Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "x-amz-object-attributes must name at least one attribute",
        ))
    }
}

pub(super) async fn get_object_attributes(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let key = target.backend_key(request.key()?);
    let selection = selection(request)?;
    let max_parts = request
        .header("x-amz-max-parts")
        .map(|value| {
            value.trim().parse::<usize>().map_err(|_| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "x-amz-max-parts must be a number",
                )
            })
        })
        .transpose()?
        .map_or(1000, |max| max.min(1000));
    let marker = request
        .header("x-amz-part-number-marker")
        .map(|value| {
            value.trim().parse::<u32>().map_err(|_| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "x-amz-part-number-marker must be a number",
                )
            })
        })
        .transpose()?
        .unwrap_or(0);
    let version_id = request.query.get("versionId").map(str::to_owned);
    let options = AttributesOptions {
        get: GetOptions {
            version_id: version_id.clone(),
            ..GetOptions::default()
        },
        part_number_marker: marker,
        max_parts,
    };
    let attributes = target
        .backend
        .get_object_attributes(&target.backend_bucket, &key, options)
        .await
        .map_err(target_error(target))?;
    let mut response = S3Response::xml(xml::object_attributes(
        &attributes,
        selection,
        max_parts,
        marker,
    ))
    .header(
        "last-modified",
        crate::response::http_date(attributes.meta.last_modified),
    );
    if let Some(version_id) = version_id.or(attributes.meta.version_id) {
        response = response.header("x-amz-version-id", version_id);
    }
    Ok(response)
}
