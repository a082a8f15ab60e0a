//! Multipart uploads on the upstream: create, upload (and copy) parts,
//! complete, abort, and list parts and uploads.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use super::client::Client;
use super::error::{Failure, Op, Target};
use super::headers::{self, range_value};
use super::not_s3::not_s3;
use super::objects::{check_source, document, send_delete, write_key};
use super::request::{Payload, Request};
use super::response::MAX_DOCUMENT;
use super::xml::{
    self, InitiateResult, ListPartsResult, ListUploadsResult, parse_timestamp, unquote_etag,
};
use crate::{
    BackendError, BackendResult, BodySource, ByteRange, CompleteOptions, CompletedPart, CopyOutput,
    ListPartsOptions, ListPartsPage, ListUploadsOptions, ListUploadsPage, ObjectRef,
    PartCopyOptions, PartOptions, PartOutput, PartSummary, PutOptions, PutOutput, UploadRef,
    UploadSummary,
};

const CREATE: Op = Op::new("CreateMultipartUpload", Target::Object);
const UPLOAD_PART: Op = Op::new("UploadPart", Target::Upload);
const UPLOAD_PART_COPY: Op = Op::new("UploadPartCopy", Target::Upload);
const COMPLETE: Op = Op::new("CompleteMultipartUpload", Target::Upload);
const ABORT: Op = Op::new("AbortMultipartUpload", Target::Upload);
const LIST_PARTS: Op = Op::new("ListParts", Target::Upload);
const LIST_UPLOADS: Op = Op::new("ListMultipartUploads", Target::Bucket);

/// S3's limit on parts (and so on ListParts pages of 1000).
const MAX_PARTS: u32 = 10_000;

fn check_part_number(part_number: u32) -> BackendResult<()> {
    if (1..=MAX_PARTS).contains(&part_number) {
        Ok(())
    } else {
        Err(BackendError::invalid_argument(
            "part number must be an integer between 1 and 10000, inclusive",
        ))
    }
}

/// A request on an upload (`?uploadId=`).
fn on_upload<'a>(method: Method, op: Op, upload: &UploadRef<'a>) -> Request<'a> {
    Request::new(method, op, upload.bucket, Some(upload.key)).param("uploadId", upload.upload_id)
}

pub(super) async fn create(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    options: PutOptions,
) -> BackendResult<String> {
    let key = write_key(key)?;
    if !options.conditions.is_empty() {
        return Err(BackendError::NotImplemented {
            operation: "CreateMultipartUpload with preconditions",
            backend: "s3",
        });
    }
    let mut request = Request::new(Method::POST, CREATE, bucket, Some(key)).param("uploads", "");
    request
        .headers
        .object(&options.headers, &options.user_metadata)?;
    if !options.headers.storage.contains_key("x-amz-acl") {
        // The ACL an upload gets when it names none, said out loud: some
        // servers (moto) keep no ACL at all for a completed upload without
        // one, and then fail GetObjectAcl on it. Buckets with ACLs
        // disabled accept this one ACL.
        request
            .headers
            .add("x-amz-acl", "bucket-owner-full-control")?;
    }
    if let Some((algorithm, kind)) = options.multipart_checksum.filter(|_| client.checksums) {
        request
            .headers
            .add("x-amz-checksum-algorithm", algorithm.as_str())?;
        request.headers.add("x-amz-checksum-type", kind.as_str())?;
    }
    let response = client
        .send(request, Payload::Empty)
        .await?
        .check(&[200])
        .await?;
    let body = document(response, CREATE).await?;
    let result: InitiateResult = xml::parse(&body)?;
    if result.upload_id.is_empty() {
        return Err(not_s3("an upload id is empty"));
    }
    Ok(result.upload_id)
}

pub(super) async fn upload_part(
    client: &Arc<Client>,
    upload: UploadRef<'_>,
    part_number: u32,
    body: &mut dyn BodySource,
    options: PartOptions,
) -> BackendResult<PartOutput> {
    check_part_number(part_number)?;
    let length = options.content_length.ok_or_else(|| {
        BackendError::invalid_argument("the s3 backend needs the part's length (Content-Length)")
    })?;
    let mut request =
        on_upload(Method::PUT, UPLOAD_PART, &upload).param("partNumber", part_number.to_string());
    request.headers.content_md5(options.content_md5.as_ref())?;
    if let Some(checksum) = options.checksum.as_ref().filter(|_| client.checksums) {
        request.headers.checksum(checksum)?;
    }
    let payload = Payload::Stream {
        body: &mut *body,
        length,
        md5: options.content_md5,
    };
    let response = client.send(request, payload).await?.check(&[200]).await?;
    let etag = headers::etag_header(&response.headers)
        .ok_or_else(|| not_s3("an UploadPart answer has no ETag"))?;
    let checksum = headers::checksum_headers(&response.headers)
        .or(options.checksum)
        .or_else(|| body.verified_checksum());
    response.body(MAX_DOCUMENT).await?;
    Ok(PartOutput { etag, checksum })
}

pub(super) async fn upload_part_copy(
    client: &Arc<Client>,
    upload: UploadRef<'_>,
    part_number: u32,
    source: ObjectRef<'_>,
    options: PartCopyOptions,
) -> BackendResult<CopyOutput> {
    check_part_number(part_number)?;
    // The source's size resolves open ranges (S3 wants `bytes=first-last`)
    // and refuses ranges past its end; its conditions are checked here and
    // again by the upstream.
    let source_version = options.source_version_id.as_deref();
    let meta = check_source(client, source, source_version, &options.source_conditions).await?;
    let range = match options.range {
        Some(range) => {
            let (first, last) = range.resolve(meta.size)?;
            if let ByteRange::FromTo {
                last: Some(wanted), ..
            } = range
                && wanted >= meta.size
            {
                return Err(BackendError::InvalidRange { size: meta.size });
            }
            Some((first, last))
        }
        None => None,
    };
    let mut request = on_upload(Method::PUT, UPLOAD_PART_COPY, &upload)
        .param("partNumber", part_number.to_string());
    request.headers.add(
        "x-amz-copy-source",
        &super::url::copy_source(source.bucket, source.key, source_version)?,
    )?;
    if let Some((first, last)) = range {
        let value = range_value(&ByteRange::FromTo {
            first,
            last: Some(last),
        });
        request.headers.add("x-amz-copy-source-range", &value)?;
    }
    request
        .headers
        .conditions(&options.source_conditions, "x-amz-copy-source-")?;
    super::objects::send_copy(client, request, UPLOAD_PART_COPY).await
}

pub(super) async fn complete(
    client: &Arc<Client>,
    upload: UploadRef<'_>,
    parts: &[CompletedPart],
    options: CompleteOptions,
) -> BackendResult<PutOutput> {
    if parts.is_empty() {
        return Err(BackendError::invalid_argument(
            "you must specify at least one part",
        ));
    }
    for part in parts {
        check_part_number(part.part_number)?;
    }
    if parts
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(BackendError::InvalidPartOrder);
    }
    // The stored parts give the object's size (the answer does not) and
    // name the offending part when the upstream's error does not.
    let stored = all_parts(client, upload).await?;
    let size = parts
        .iter()
        .filter_map(|p| stored.get(&p.part_number).map(|s| s.size))
        .sum();
    let listed: Vec<CompletedPart>;
    let parts = if client.checksums {
        parts
    } else {
        listed = parts
            .iter()
            .map(|part| CompletedPart {
                checksum: None,
                ..part.clone()
            })
            .collect();
        &listed
    };
    let doc = xml::complete_request(parts)
        .ok_or_else(|| BackendError::invalid_argument("a part ETag cannot be sent"))?;
    let mut request = on_upload(Method::POST, COMPLETE, &upload);
    request.headers.conditions(&options.conditions, "")?;
    if let Some(checksum) = options.checksum.as_ref().filter(|_| client.checksums) {
        request
            .headers
            .add(&checksum.header_name(), checksum.digest())?;
        request
            .headers
            .add("x-amz-checksum-type", checksum.checksum_type.as_str())?;
    }
    let response = client
        .send(request, Payload::Document(Bytes::from(doc)))
        .await?;
    let (status, response_headers) = (response.status, response.headers.clone());
    let version_id = headers::written_version_id(&response_headers);
    let body = if status == 200 {
        response.body(MAX_DOCUMENT).await?
    } else {
        let mut failure = response.failure().await?.failure;
        name_part(&mut failure, parts, &stored);
        return Err(failure.into_error(COMPLETE));
    };
    if xml::root_name(&body).as_deref() == Some("Error") {
        let mut failure = Failure::parse(COMPLETE, status, &response_headers, &body);
        name_part(&mut failure, parts, &stored);
        return Err(failure.into_error(COMPLETE));
    }
    let result: xml::CompleteResult = xml::parse(&body)?;
    Ok(PutOutput {
        etag: unquote_etag(&result.etag),
        size,
        version_id,
        checksum: result.checksum(),
    })
}

/// Names the offending part of InvalidPart / EntityTooSmall when the
/// upstream did not: the first named part missing or with another ETag;
/// the smallest part but the last.
fn name_part(failure: &mut Failure, parts: &[CompletedPart], stored: &BTreeMap<u32, PartSummary>) {
    if failure.part_number.is_some() {
        return;
    }
    failure.part_number = match failure.code() {
        Some("InvalidPart") => parts
            .iter()
            .find(|p| {
                stored
                    .get(&p.part_number)
                    .is_none_or(|s| s.etag != unquote_etag(&p.etag))
            })
            .map(|p| p.part_number),
        Some("EntityTooSmall") => parts
            .split_last()
            .and_then(|(_, rest)| {
                rest.iter()
                    .filter_map(|p| stored.get(&p.part_number))
                    .min_by_key(|s| s.size)
            })
            .map(|s| s.part_number),
        _ => None,
    };
}

/// Every stored part of an upload, by number.
async fn all_parts(
    client: &Arc<Client>,
    upload: UploadRef<'_>,
) -> BackendResult<BTreeMap<u32, PartSummary>> {
    let mut parts = BTreeMap::new();
    let mut marker = 0;
    for _ in 0..=MAX_PARTS / 1000 {
        let options = ListPartsOptions {
            part_number_marker: marker,
            max_parts: 1000,
        };
        let page = list_parts(client, upload, options).await?;
        for part in page.parts {
            parts.insert(part.part_number, part);
        }
        match page.next_part_number_marker {
            Some(next) if page.is_truncated && next > marker => marker = next,
            _ => return Ok(parts),
        }
    }
    Ok(parts)
}

pub(super) async fn abort(client: &Arc<Client>, upload: UploadRef<'_>) -> BackendResult<()> {
    let request = on_upload(Method::DELETE, ABORT, &upload);
    send_delete(client, request).await
}

pub(super) async fn list_parts(
    client: &Arc<Client>,
    upload: UploadRef<'_>,
    options: ListPartsOptions,
) -> BackendResult<ListPartsPage> {
    let max = options.max_parts.clamp(1, 1000);
    let mut request =
        on_upload(Method::GET, LIST_PARTS, &upload).param("max-parts", max.to_string());
    if options.part_number_marker > 0 {
        request = request.param("part-number-marker", options.part_number_marker.to_string());
    }
    let response = client
        .send(request, Payload::Empty)
        .await?
        .check(&[200])
        .await?;
    let body = document(response, LIST_PARTS).await?;
    let result: ListPartsResult = xml::parse(&body)?;
    if result.key.as_deref().is_some_and(|key| key != upload.key) {
        return Err(BackendError::NoSuchUpload);
    }
    if options.max_parts == 0 {
        return Ok(ListPartsPage::default());
    }
    let parts = result
        .parts
        .into_iter()
        .map(|part| {
            Ok(PartSummary {
                checksum: part.checksum(),
                part_number: part.part_number,
                etag: unquote_etag(&part.etag),
                size: part.size,
                last_modified: parse_timestamp(&part.last_modified)?,
            })
        })
        .collect::<BackendResult<Vec<_>>>()?;
    let mut parts = parts;
    parts.sort_by_key(|p| p.part_number);
    let next = if result.is_truncated {
        result
            .next_part_number_marker
            .or_else(|| parts.last().map(|p| p.part_number))
    } else {
        None
    };
    Ok(ListPartsPage {
        parts,
        is_truncated: result.is_truncated,
        next_part_number_marker: next,
    })
}

pub(super) async fn list_uploads(
    client: &Arc<Client>,
    bucket: &str,
    options: ListUploadsOptions,
) -> BackendResult<ListUploadsPage> {
    let max = options.max_uploads.clamp(1, 1000);
    let mut request = Request::new(Method::GET, LIST_UPLOADS, bucket, None)
        .param("uploads", "")
        .param("max-uploads", max.to_string());
    if !options.prefix.is_empty() {
        request = request.param("prefix", options.prefix.clone());
    }
    if let Some(delimiter) = &options.delimiter {
        request = request.param("delimiter", delimiter.clone());
    }
    if let Some(marker) = &options.key_marker {
        request = request.param("key-marker", marker.clone());
        if let Some(id) = &options.upload_id_marker {
            request = request.param("upload-id-marker", id.clone());
        }
    }
    let response = client
        .send(request, Payload::Empty)
        .await?
        .check(&[200])
        .await?;
    let body = document(response, LIST_UPLOADS).await?;
    let result: ListUploadsResult = xml::parse(&body)?;
    if options.max_uploads == 0 {
        return Ok(ListUploadsPage::default());
    }
    let uploads = result
        .uploads
        .into_iter()
        .map(|upload| {
            Ok(UploadSummary {
                initiated: parse_timestamp(&upload.initiated)?,
                key: upload.key,
                upload_id: upload.upload_id,
            })
        })
        .collect::<BackendResult<Vec<_>>>()?;
    let (next_key_marker, next_upload_id_marker) = if result.is_truncated {
        (
            result.next_key_marker.filter(|m| !m.is_empty()),
            result.next_upload_id_marker.filter(|m| !m.is_empty()),
        )
    } else {
        (None, None)
    };
    Ok(ListUploadsPage {
        uploads,
        common_prefixes: result
            .common_prefixes
            .into_iter()
            .map(|p| p.prefix)
            .collect(),
        is_truncated: result.is_truncated,
        next_key_marker,
        next_upload_id_marker,
    })
}
