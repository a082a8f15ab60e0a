//! Bucket and object operations of the s3 backend: HeadBucket, GetObject,
//! HeadObject, PutObject, CopyObject, DeleteObject and DeleteObjects.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use super::client::Client;
use super::error::{Failure, Op, Target};
use super::headers::{self, content_length, content_range, range_value};
use super::not_s3::not_s3;
use super::request::{Payload, Request};
use super::response::{MAX_DOCUMENT, Response};
use super::xml::{self, CopyResult, DeleteResult, unquote_etag};
use crate::{
    BackendError, BackendResult, BodySource, BucketInfo, CopyOptions, CopyOutput, DeleteOutput,
    GetObjectOutput, GetOptions, MetadataDirective, ObjectIdentifier, ObjectMeta, ObjectRef,
    PutOptions, PutOutput,
};

const HEAD_BUCKET: Op = Op::new("HeadBucket", Target::Bucket);
const GET_OBJECT: Op = Op::new("GetObject", Target::Object);
const HEAD_OBJECT: Op = Op::new("HeadObject", Target::Object);
const PUT_OBJECT: Op = Op::new("PutObject", Target::Object);
const COPY_OBJECT: Op = Op::new("CopyObject", Target::Object);
const DELETE_OBJECT: Op = Op::new("DeleteObject", Target::Object);
const DELETE_OBJECTS: Op = Op::new("DeleteObjects", Target::Bucket);

/// The largest batch of one DeleteObjects request.
const DELETE_BATCH: usize = 1000;

/// The key of a write, refusing the empty key (it would address the bucket).
pub(super) fn write_key(key: &str) -> BackendResult<&str> {
    if key.is_empty() {
        Err(BackendError::invalid_argument("the key must not be empty"))
    } else {
        Ok(key)
    }
}

/// Reads a body that must be a document, answering an `<Error>` document
/// (which S3 may send with status 200) as the error it names.
pub(super) async fn document(response: Response, op: Op) -> BackendResult<Bytes> {
    let (status, response_headers) = (response.status, response.headers.clone());
    let body = response.body(MAX_DOCUMENT).await?;
    if xml::root_name(&body).as_deref() == Some("Error") {
        return Err(Failure::parse(op, status, &response_headers, &body).into_error(op));
    }
    Ok(body)
}

/// Sends a DELETE and reads its answer, 200 or 204 with any body.
pub(super) async fn send_delete(client: &Arc<Client>, request: Request<'_>) -> BackendResult<()> {
    send_delete_reporting(client, request).await.map(|_| ())
}

/// As [`send_delete`], answering what the upstream says it deleted.
async fn send_delete_reporting(
    client: &Arc<Client>,
    request: Request<'_>,
) -> BackendResult<DeleteOutput> {
    let response = client
        .send(request, Payload::Empty)
        .await?
        .check(&[200, 204])
        .await?;
    let output = headers::delete_output(&response.headers);
    response.body(MAX_DOCUMENT).await?;
    Ok(output)
}

pub(super) async fn head_bucket(client: &Arc<Client>, bucket: &str) -> BackendResult<BucketInfo> {
    let request = Request::new(Method::HEAD, HEAD_BUCKET, bucket, None);
    let response = client.send(request, Payload::Empty).await?;
    response.check(&[200]).await?.body(0).await?;
    Ok(BucketInfo { created: None })
}

/// Asks for the stored checksum on reads: it is returned to clients only
/// when they ask the same.
const CHECKSUM_MODE: &str = "x-amz-checksum-mode";

pub(super) async fn get(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    options: GetOptions,
) -> BackendResult<GetObjectOutput> {
    if key.is_empty() {
        return Err(BackendError::NoSuchKey);
    }
    let mut request = Request::new(Method::GET, GET_OBJECT, bucket, Some(key));
    if let Some(version_id) = &options.version_id {
        request = request.param("versionId", version_id.clone());
    }
    if let Some(part_number) = options.part_number {
        request = request.param("partNumber", part_number.to_string());
    }
    request.headers.conditions(&options.conditions, "")?;
    request.headers.sse_customer(&options.sse_customer)?;
    if client.checksums {
        request.headers.add(CHECKSUM_MODE, "ENABLED")?;
    }
    if let Some(range) = &options.range {
        request.headers.add("range", &range_value(range))?;
    }
    let response = client.send(request, Payload::Empty).await?;
    if response.status == 416 {
        let failure = response.failure().await?.failure;
        return Err(invalid_range(client, bucket, key, failure).await);
    }
    let response = match response.check(&[200, 206]).await {
        Ok(response) => response,
        Err(error @ (BackendError::NoSuchKey | BackendError::NoSuchVersion)) => {
            return Err(delete_marker_or(client, bucket, key, &options, error).await);
        }
        Err(error) => return Err(error),
    };
    let mut meta = headers::object_meta(key, response.status, &response.headers)?;
    // The version served is the one named, when the upstream does not say.
    meta.version_id = meta.version_id.or(options.version_id.clone());
    // The upstream evaluated the conditions it was told; this also covers
    // ETag lists it was not told, on the very metadata being served.
    options.conditions.evaluate(&meta, true)?;
    let sent = content_length(&response.headers)
        .ok_or_else(|| not_s3("an object answer has no Content-Length"))?;
    let range = if response.status == 206 {
        let (first, last, _) =
            content_range(&response.headers).ok_or_else(|| not_s3("a 206 has no Content-Range"))?;
        if last < first || last - first + 1 != sent {
            return Err(not_s3("Content-Range and Content-Length disagree"));
        }
        Some((first, last))
    } else if let Some(range) = &options.range {
        match range.resolve(meta.size)? {
            (0, last) if last + 1 == meta.size && sent == meta.size => Some((0, last)),
            _ => return Err(not_s3("the upstream ignored a range")),
        }
    } else {
        None
    };
    Ok(GetObjectOutput {
        meta,
        range,
        body: response.into_stream(sent),
    })
}

/// A GET's NoSuchKey or NoSuchVersion, or the delete marker a HEAD of the
/// same version finds there: some upstreams mark delete markers on HEAD
/// answers only.
async fn delete_marker_or(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    options: &GetOptions,
    error: BackendError,
) -> BackendError {
    let probe = GetOptions {
        version_id: options.version_id.clone(),
        sse_customer: options.sse_customer.clone(),
        ..GetOptions::default()
    };
    match head(client, bucket, key, probe).await {
        Err(marker @ BackendError::DeleteMarker { .. }) => marker,
        _ => error,
    }
}

/// InvalidRange with the object's size: from the answer when it says,
/// else from a HEAD of the object.
async fn invalid_range(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    failure: Failure,
) -> BackendError {
    let size = match failure.size {
        Some(size) => Some(size),
        None => head(client, bucket, key, GetOptions::default())
            .await
            .ok()
            .map(|meta| meta.size),
    };
    match size {
        Some(size) => BackendError::InvalidRange { size },
        None => failure.into_error(GET_OBJECT),
    }
}

pub(super) async fn head(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    options: GetOptions,
) -> BackendResult<ObjectMeta> {
    if key.is_empty() {
        return Err(BackendError::NoSuchKey);
    }
    let mut request = Request::new(Method::HEAD, HEAD_OBJECT, bucket, Some(key));
    if let Some(version_id) = &options.version_id {
        request = request.param("versionId", version_id.clone());
    }
    if let Some(part_number) = options.part_number {
        request = request.param("partNumber", part_number.to_string());
    }
    request.headers.conditions(&options.conditions, "")?;
    request.headers.sse_customer(&options.sse_customer)?;
    if client.checksums {
        request.headers.add(CHECKSUM_MODE, "ENABLED")?;
    }
    let response = client.send(request, Payload::Empty).await?;
    if response.status == 404 {
        // A HEAD answer has no error document: tell a delete marker and
        // a missing bucket from a missing key.
        if headers::delete_marker(&response.headers) {
            let version_id = headers::version_id(&response.headers);
            response.body(0).await?;
            return Err(BackendError::DeleteMarker {
                version_id,
                named: false,
            });
        }
        response.body(0).await?;
        head_bucket(client, bucket).await?;
        return Err(BackendError::NoSuchKey);
    }
    let response = response.check(&[200, 206]).await?;
    let mut meta = headers::object_meta(key, response.status, &response.headers)?;
    meta.version_id = meta.version_id.or(options.version_id.clone());
    response.body(0).await?;
    options.conditions.evaluate(&meta, true)?;
    if let Some(range) = &options.range {
        range.resolve(meta.size)?;
    }
    Ok(meta)
}

pub(super) async fn put(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    body: &mut dyn BodySource,
    options: PutOptions,
) -> BackendResult<PutOutput> {
    let key = write_key(key)?;
    let length = options.content_length.ok_or_else(|| {
        BackendError::invalid_argument("the s3 backend needs the body's length (Content-Length)")
    })?;
    let mut request = Request::new(Method::PUT, PUT_OBJECT, bucket, Some(key));
    request
        .headers
        .object(&options.headers, &options.user_metadata)?;
    request.headers.content_md5(options.content_md5.as_ref())?;
    request.headers.conditions(&options.conditions, "")?;
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
        .ok_or_else(|| not_s3("a PutObject answer has no ETag"))?;
    let version_id = headers::written_version_id(&response.headers);
    // The upstream's stored checksum; else the one the gateway verified.
    let checksum = headers::checksum_headers(&response.headers)
        .or(options.checksum)
        .or_else(|| body.verified_checksum());
    response.body(MAX_DOCUMENT).await?;
    Ok(PutOutput {
        etag,
        size: length,
        version_id,
        checksum,
    })
}

/// Evaluates copy-source conditions on a HEAD of the source, before the
/// upstream (which is told them too) evaluates them again, atomically:
/// this also covers ETag lists and upstreams that ignore some of them.
pub(super) async fn check_source(
    client: &Arc<Client>,
    source: ObjectRef<'_>,
    version_id: Option<&str>,
    conditions: &crate::Conditions,
) -> BackendResult<ObjectMeta> {
    let options = GetOptions {
        version_id: version_id.map(str::to_owned),
        ..GetOptions::default()
    };
    let meta = head(client, source.bucket, source.key, options).await?;
    conditions.evaluate(&meta, false)?;
    Ok(meta)
}

pub(super) async fn copy(
    client: &Arc<Client>,
    source: ObjectRef<'_>,
    destination: ObjectRef<'_>,
    options: CopyOptions,
) -> BackendResult<CopyOutput> {
    let key = write_key(destination.key)?;
    let source_version = options.source_version_id.as_deref();
    if source == destination
        && source_version.is_none()
        && options.metadata_directive == MetadataDirective::Copy
        && !changes_more_than_metadata(&options.headers)
    {
        return Err(BackendError::CopyOntoItself);
    }
    if !options.source_conditions.is_empty() {
        check_source(client, source, source_version, &options.source_conditions).await?;
    }
    let mut request = Request::new(Method::PUT, COPY_OBJECT, destination.bucket, Some(key));
    request.headers.add(
        "x-amz-copy-source",
        &super::url::copy_source(source.bucket, source.key, source_version)?,
    )?;
    match options.metadata_directive {
        MetadataDirective::Copy => {
            request.headers.add("x-amz-metadata-directive", "COPY")?;
            request.headers.copy_storage(&options.headers)?;
        }
        MetadataDirective::Replace => {
            request.headers.add("x-amz-metadata-directive", "REPLACE")?;
            request
                .headers
                .object(&options.headers, &options.user_metadata)?;
            if options.tagging_directive != MetadataDirective::Replace {
                // Tags follow `x-amz-tagging-directive` alone: with COPY the
                // copy keeps the source's tags, which policies decided on,
                // whatever `x-amz-tagging` says.
                request.headers.remove("x-amz-tagging");
            }
        }
    }
    if options.tagging_directive == MetadataDirective::Replace {
        request.headers.add("x-amz-tagging-directive", "REPLACE")?;
        if options.metadata_directive == MetadataDirective::Copy {
            let tagging = options.headers.storage.get("x-amz-tagging");
            request
                .headers
                .add_opt("x-amz-tagging", tagging.map(String::as_str))?;
        }
    }
    request
        .headers
        .conditions(&options.source_conditions, "x-amz-copy-source-")?;
    send_copy(client, request, COPY_OBJECT).await
}

/// Whether a copy sets what S3 lets a copy onto itself change besides its
/// metadata: the storage class, the website redirect or the encryption.
fn changes_more_than_metadata(headers: &crate::ObjectHeaders) -> bool {
    headers.storage.keys().any(|name| {
        name == "x-amz-storage-class"
            || name == "x-amz-website-redirect-location"
            || name.starts_with("x-amz-server-side-encryption")
    })
}

/// Sends a CopyObject or UploadPartCopy and reads its result document.
pub(super) async fn send_copy(
    client: &Arc<Client>,
    request: Request<'_>,
    operation: Op,
) -> BackendResult<CopyOutput> {
    let response = client
        .send(request, Payload::Empty)
        .await?
        .check(&[200])
        .await?;
    let version_id = headers::written_version_id(&response.headers);
    let body = document(response, operation).await?;
    let result: CopyResult = xml::parse(&body)?;
    Ok(CopyOutput {
        etag: unquote_etag(&result.etag),
        last_modified: result.modified()?,
        version_id,
        checksum: None,
    })
}

pub(super) async fn delete(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> BackendResult<DeleteOutput> {
    if key.is_empty() {
        return Ok(DeleteOutput::default());
    }
    let mut request = Request::new(Method::DELETE, DELETE_OBJECT, bucket, Some(key));
    if let Some(version_id) = version_id {
        request = request.param("versionId", version_id);
    }
    send_delete_reporting(client, request).await
}

pub(super) async fn delete_many(
    client: &Arc<Client>,
    bucket: &str,
    objects: &[ObjectIdentifier],
) -> BackendResult<Vec<BackendResult<DeleteOutput>>> {
    let mut results: Vec<Option<BackendResult<DeleteOutput>>> =
        objects.iter().map(|_| None).collect();
    // Keys XML 1.0 cannot carry go one by one, keys an upstream could read
    // as others are refused; the empty key is never an object.
    let mut batched = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let version_id = object.version_id.as_deref();
        if object.key.is_empty() {
            results[index] = Some(Ok(DeleteOutput::default()));
        } else if let Err(error) = super::url::check_key(&object.key) {
            results[index] = Some(Err(error));
        } else if xml::text(&object.key).is_none()
            || version_id.is_some_and(|v| xml::text(v).is_none())
        {
            results[index] = Some(delete(client, bucket, &object.key, version_id).await);
        } else {
            batched.push(index);
        }
    }
    for batch in batched.chunks(DELETE_BATCH) {
        let doc = xml::delete_request(batch.iter().map(|&i| &objects[i]))
            .ok_or_else(|| BackendError::other("a key cannot be written as XML"))?;
        let request = Request::new(Method::POST, DELETE_OBJECTS, bucket, None).param("delete", "");
        let response = client
            .send(request, Payload::Document(Bytes::from(doc)))
            .await?
            .check(&[200])
            .await?;
        let body = document(response, DELETE_OBJECTS).await?;
        let answer: DeleteResult = xml::parse(&body)?;
        // By key and version: one request may name several versions of a key.
        let mut outcome: HashMap<(String, Option<String>), Result<DeleteOutput, Failure>> =
            HashMap::new();
        for deleted in answer.deleted {
            let output = DeleteOutput {
                delete_marker: deleted.delete_marker.unwrap_or(false),
                version_id: deleted
                    .delete_marker_version_id
                    .clone()
                    .or_else(|| deleted.version_id.clone()),
            };
            outcome.insert((deleted.key, deleted.version_id), Ok(output));
        }
        for error in answer.errors {
            let failure = Failure {
                operation: DELETE_OBJECT.name,
                status: 200,
                code: error.code,
                ..Failure::default()
            };
            outcome.insert((error.key, error.version_id), Err(failure));
        }
        for &index in batch {
            let object = &objects[index];
            // Exactly, else by key alone (an upstream that leaves the
            // version out of its answer).
            let found = outcome
                .get(&(object.key.clone(), object.version_id.clone()))
                .or_else(|| {
                    outcome
                        .iter()
                        .find(|((key, _), _)| *key == object.key)
                        .map(|(_, found)| found)
                });
            let result = match found {
                Some(Ok(output)) => Ok(output.clone()),
                Some(Err(failure)) => Err(failure.clone().into_error(DELETE_OBJECT)),
                None => Err(BackendError::other(
                    "the upstream did not report on a key of DeleteObjects",
                )),
            };
            results[index] = Some(result);
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(BackendError::other("a key was not deleted"))))
        .collect())
}
