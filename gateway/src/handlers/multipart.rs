//! Multipart upload handlers: CreateMultipartUpload, UploadPart,
//! UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts
//! and ListMultipartUploads.

use cedargate_backends::{
    BodySource, ByteRange, ChecksumType, CompleteOptions, CompletedPart, ListPartsOptions,
    ListUploadsOptions, ObjectChecksum, ObjectRef, PartCopyOptions, PartOptions, UploadRef,
};
use cedargate_s3::body::multipart_checksum::multipart_settings;

use std::borrow::Cow;

use super::object::{copy_error, copy_source_target, put_options, read_capped};
use super::{HandlerEnv, target_error};
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use crate::request::copy_source;
use crate::response::{S3Response, quoted_etag};
use crate::xml;
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// The upload a request names: its client key, and its backend key.
#[derive(Debug)]
struct Upload<'a> {
    bucket: &'a str,
    key: &'a str,
    backend_key: Cow<'a, str>,
    upload_id: &'a str,
}

impl Upload<'_> {
    /// The upload as the backend addresses it.
    fn backend(&self) -> UploadRef<'_> {
        UploadRef {
            bucket: self.bucket,
            key: &self.backend_key,
            upload_id: self.upload_id,
        }
    }
}

fn upload<'a>(request: &'a S3Request, target: &'a BucketTarget) -> Result<Upload<'a>, S3Error> {
    let upload_id = request
        .query
        .get("uploadId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidArgument, "`uploadId` is missing"))?;
    let key = request.key()?;
    Ok(Upload {
        bucket: &target.backend_bucket,
        key,
        backend_key: target.backend_key(key),
        upload_id,
    })
}

fn part_number(request: &S3Request) -> Result<u32, S3Error> {
    let number = request
        .query_number("partNumber", 1..=10_000)?
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidArgument, "`partNumber` is missing"))?;
    u32::try_from(number)
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidArgument, "`partNumber` is out of range"))
}

pub(super) async fn create(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let key = request.key()?;
    let mut options = put_options(request)?;
    options.content_length = None;
    options.content_md5 = None;
    options.checksum = None;
    options.multipart_checksum = multipart_settings(
        request.header("x-amz-checksum-algorithm"),
        request.header("x-amz-checksum-type"),
    )?;
    let settings = options.multipart_checksum;
    let upload_id = target
        .backend
        .create_multipart_upload(&target.backend_bucket, &target.backend_key(key), options)
        .await
        .map_err(target_error(target))?;
    let mut response = S3Response::xml(cedargate_s3::xml::initiate_multipart_upload_result(
        &target.name,
        key,
        &upload_id,
    ));
    if let Some((algorithm, kind)) = settings {
        response = response
            .header("x-amz-checksum-algorithm", algorithm.as_str())
            .header("x-amz-checksum-type", kind.as_str());
    }
    Ok(response)
}

pub(super) async fn upload_part(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
) -> Result<S3Response, S3Error> {
    let upload = upload(request, target)?;
    let number = part_number(request)?;
    let options = PartOptions {
        content_length: request.content_length()?,
        content_md5: request.content_md5()?,
        checksum: request.checksum(),
    };
    crate::body::check_declared_length(
        &request.headers,
        options.content_length,
        target.backend.kind(),
    )?;
    let output = target
        .backend
        .upload_part(upload.backend(), number, &mut *body, options)
        .await
        .map_err(target_error(target))?;
    let mut response = S3Response::empty(200).header("etag", quoted_etag(&output.etag));
    let checksum = output.checksum.or_else(|| body.verified_checksum());
    if let Some(checksum) = checksum {
        // A part's checksum is shown without a type.
        response = response.header(checksum.header_name(), checksum.value);
    }
    Ok(response)
}

pub(super) async fn upload_part_copy(
    request: &S3Request,
    target: &BucketTarget,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let upload = upload(request, target)?;
    let number = part_number(request)?;
    let source = copy_source(request)?;
    let source_target = copy_source_target(&source, target, env)?;
    let range = match request.header("x-amz-copy-source-range") {
        None => None,
        Some(value) => match ByteRange::parse(value) {
            Some(range @ ByteRange::FromTo { last: Some(_), .. }) => Some(range),
            _ => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "the x-amz-copy-source-range value must be of the form bytes=first-last",
                ));
            }
        },
    };
    let options = PartCopyOptions {
        range,
        source_conditions: request.conditions("x-amz-copy-source-"),
        source_version_id: source.version_id.clone(),
    };
    let source_key = source_target.backend_key(&source.key);
    let output = target
        .backend
        .upload_part_copy(
            upload.backend(),
            number,
            ObjectRef {
                bucket: &source_target.backend_bucket,
                key: &source_key,
            },
            options,
        )
        .await
        .map_err(copy_error(&source_target, target))?;
    let response = S3Response::xml(xml::copy_part_result(&output));
    Ok(match &source.version_id {
        Some(version_id) => response.header("x-amz-copy-source-version-id", version_id.as_str()),
        None => response,
    })
}

pub(super) async fn complete(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let upload = upload(request, target)?;
    let document = read_capped(body, env.max_xml_body_bytes).await?;
    let parsed =
        cedargate_s3::xml::parse_complete_multipart_upload(&document).map_err(super::xml_error)?;
    let parts: Vec<CompletedPart> = parsed
        .parts
        .into_iter()
        .map(|part| CompletedPart {
            part_number: part.part_number,
            etag: part.etag.trim_matches('"').to_owned(),
            checksum: part.checksum.and_then(|(algorithm, value)| {
                let algorithm = cedargate_backends::ChecksumAlgorithm::from_name(&algorithm)?;
                Some(ObjectChecksum::full_object(algorithm, value))
            }),
        })
        .collect();
    let options = CompleteOptions {
        conditions: request.conditions(""),
        checksum: complete_checksum(request)?,
    };
    let output = target
        .backend
        .complete_multipart_upload(upload.backend(), &parts, options)
        .await
        .map_err(target_error(target))?;
    let location = format!("/{}/{}", target.name, upload.key);
    let checksum = output.checksum.as_ref().and_then(|checksum| {
        Some((
            checksum.algorithm()?.as_str(),
            checksum.value.as_str(),
            checksum.checksum_type.as_str(),
        ))
    });
    let response = S3Response::xml(cedargate_s3::xml::complete_multipart_upload_result(
        &location,
        &target.name,
        upload.key,
        &output.etag,
        checksum,
    ));
    Ok(super::object::version_header(
        response,
        output.version_id.as_deref(),
    ))
}

/// The object checksum a CompleteMultipartUpload expects
/// (`x-amz-checksum-<algorithm>`, typed by `x-amz-checksum-type`).
fn complete_checksum(request: &S3Request) -> Result<Option<ObjectChecksum>, S3Error> {
    let Some(mut checksum) = request.checksum() else {
        return Ok(None);
    };
    if let Some(kind) = request.header("x-amz-checksum-type") {
        checksum.checksum_type = ChecksumType::parse(kind).ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidRequest,
                format!("checksum type `{kind}` is not supported"),
            )
        })?;
    }
    Ok(Some(checksum))
}

pub(super) async fn abort(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let upload = upload(request, target)?;
    target
        .backend
        .abort_multipart_upload(upload.backend())
        .await
        .map_err(target_error(target))?;
    Ok(S3Response::empty(204))
}

pub(super) async fn list_parts(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let upload = upload(request, target)?;
    let marker = request.query_number("part-number-marker", 0..=10_000)?;
    let max_parts = request.query_number("max-parts", 0..=i32::MAX as u64)?;
    let options = ListPartsOptions {
        part_number_marker: marker.and_then(|m| u32::try_from(m).ok()).unwrap_or(0),
        max_parts: max_parts.map_or(1000, |m| m.min(1000) as usize),
    };
    let page = target
        .backend
        .list_parts(upload.backend(), options.clone())
        .await
        .map_err(target_error(target))?;
    let params = xml::ListPartsParams {
        bucket: &target.name,
        key: upload.key,
        upload_id: upload.upload_id,
        part_number_marker: options.part_number_marker,
        max_parts: options.max_parts,
        owner: Some(&super::owner()),
    };
    Ok(S3Response::xml(xml::list_parts_result(&params, &page)))
}

pub(super) async fn list_uploads(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let (prefix, delimiter, encoding_type_url) = request.listing_params()?;
    let max_uploads = request.query_number("max-uploads", 0..=i32::MAX as u64)?;
    let key_marker = request.query.get("key-marker");
    // Without a key marker S3 ignores the upload id marker.
    let upload_id_marker = request
        .query
        .get("upload-id-marker")
        .filter(|_| key_marker.is_some());
    let options = ListUploadsOptions {
        prefix: target.backend_key(&prefix).into_owned(),
        delimiter,
        key_marker: target.backend_marker(key_marker),
        upload_id_marker: upload_id_marker.map(str::to_owned),
        max_uploads: max_uploads.map_or(1000, |m| m.min(1000) as usize),
    };
    let page = target
        .backend
        .list_multipart_uploads(&target.backend_bucket, options.clone())
        .await
        .map_err(target_error(target))?;
    let page = target.client_uploads(page);
    let params = xml::ListUploadsParams {
        bucket: &target.name,
        prefix: &prefix,
        delimiter: options.delimiter.as_deref(),
        key_marker: key_marker.unwrap_or_default(),
        upload_id_marker: request.query.get("upload-id-marker").unwrap_or_default(),
        max_uploads: options.max_uploads,
        encoding_type_url,
        owner: Some(&super::owner()),
    };
    Ok(S3Response::xml(xml::list_multipart_uploads_result(
        &params, &page,
    )))
}
