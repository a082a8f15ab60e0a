//! Object handlers: GetObject, HeadObject, PutObject, CopyObject,
//! DeleteObject and DeleteObjects.

use cedargate_backends::{
    BodySource, CopyOptions, DeleteOutput, GetOptions, MetadataDirective, ObjectIdentifier,
    ObjectRef, PutOptions,
};

use std::borrow::Cow;

use md5::Digest as _;

use super::{HandlerEnv, backend_error, target_error};
use crate::buckets::BucketTarget;
use crate::request::{CopySource, S3Request, copy_source, version_id};
use crate::response::{ResponseBody, S3Response, checksum_headers, object_headers, quoted_etag};
use crate::xml;
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// `response-*` query parameters and the header each overrides.
const RESPONSE_OVERRIDES: &[(&str, &str)] = &[
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Whether a read asks for the stored checksum (`x-amz-checksum-mode:
/// ENABLED`).
fn checksum_mode(request: &S3Request) -> bool {
    request
        .header("x-amz-checksum-mode")
        .is_some_and(|mode| mode.eq_ignore_ascii_case("ENABLED"))
}

/// The `partNumber` of a read: 1..=10000, and never with a `Range`.
fn read_part_number(request: &S3Request) -> Result<Option<u32>, S3Error> {
    let Some(number) = request.query_number("partNumber", 1..=10_000)? else {
        return Ok(None);
    };
    if request.header("range").is_some() {
        return Err(S3Error::new(
            S3ErrorCode::InvalidRequest,
            "cannot specify both Range header and partNumber query parameter",
        ));
    }
    Ok(u32::try_from(number).ok())
}

fn get_options(request: &S3Request) -> Result<GetOptions, S3Error> {
    let sse_customer = request
        .headers
        .iter()
        .filter(|(name, _)| {
            name.as_str()
                .starts_with("x-amz-server-side-encryption-customer-")
        })
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    Ok(GetOptions {
        sse_customer,
        range: request.range(),
        conditions: request.conditions(""),
        version_id: version_id(request)?.map(str::to_owned),
        part_number: None,
    })
}

/// `x-amz-version-id` on answers about a version: the one the backend
/// reports, else the one the request named.
fn with_version(
    request: &S3Request,
    reported: Option<&str>,
    mut response: S3Response,
) -> S3Response {
    if let Some(version_id) = reported.or_else(|| request.query.get("versionId")) {
        response
            .headers
            .push(("x-amz-version-id".into(), version_id.to_owned()));
    }
    response
}

fn apply_overrides(request: &S3Request, mut response: S3Response) -> S3Response {
    for (param, header) in RESPONSE_OVERRIDES {
        if let Some(value) = request.query.get(param) {
            response.headers.retain(|(name, _)| name != header);
            response.headers.push(((*header).into(), value.to_owned()));
        }
    }
    response
}

pub(super) async fn get_object(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let key = target.backend_key(request.key()?);
    let part_number = read_part_number(request)?;
    let options = GetOptions {
        part_number,
        ..get_options(request)?
    };
    let output = target
        .backend
        .get_object(&target.backend_bucket, &key, options)
        .await
        .map_err(target_error(target))?;
    let mut response = S3Response {
        status: 200,
        headers: object_headers(&output.meta),
        body: ResponseBody::Empty,
    };
    if checksum_mode(request) && output.range.is_none() && part_number.is_none() {
        response
            .headers
            .extend(checksum_headers(output.meta.checksum.as_ref()));
    }
    let length = match output.range {
        Some((first, last)) => {
            response.status = 206;
            response.headers.push((
                "content-range".into(),
                format!("bytes {first}-{last}/{}", output.meta.size),
            ));
            last - first + 1
        }
        None => output.meta.size,
    };
    response.body = ResponseBody::Stream {
        stream: output.body,
        length,
    };
    let reported = output.meta.version_id.as_deref();
    Ok(with_version(
        request,
        reported,
        apply_overrides(request, response),
    ))
}

pub(super) async fn head_object(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    if read_part_number(request)?.is_some() {
        // The part's range comes with the read; its body is never sent.
        let mut response = get_object(request, target).await?;
        let length = response.content_length();
        response.body = ResponseBody::Empty;
        response
            .headers
            .push(("content-length".into(), length.to_string()));
        return Ok(response);
    }
    let key = target.backend_key(request.key()?);
    let options = get_options(request)?;
    let meta = target
        .backend
        .head_object(&target.backend_bucket, &key, options.clone())
        .await
        .map_err(target_error(target))?;
    let mut response = S3Response {
        status: 200,
        headers: object_headers(&meta),
        body: ResponseBody::Empty,
    };
    if checksum_mode(request) && options.range.is_none() {
        response
            .headers
            .extend(checksum_headers(meta.checksum.as_ref()));
    }
    let mut length = meta.size;
    if let Some(range) = options.range {
        let (first, last) = range.resolve(meta.size).map_err(backend_error)?;
        response.status = 206;
        response.headers.push((
            "content-range".into(),
            format!("bytes {first}-{last}/{}", meta.size),
        ));
        length = last - first + 1;
    }
    // HEAD answers carry the object's length without a body.
    response
        .headers
        .push(("content-length".into(), length.to_string()));
    Ok(with_version(
        request,
        meta.version_id.as_deref(),
        apply_overrides(request, response),
    ))
}

/// The options of a write (PutObject, CreateMultipartUpload) from its headers.
pub(super) fn put_options(request: &S3Request) -> Result<PutOptions, S3Error> {
    Ok(PutOptions {
        headers: super::write_headers(request)?,
        user_metadata: request.user_metadata()?,
        content_length: request.content_length()?,
        content_md5: request.content_md5()?,
        conditions: request.conditions(""),
        checksum: request.checksum(),
        multipart_checksum: None,
    })
}

pub(super) async fn put_object(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
) -> Result<S3Response, S3Error> {
    let key = target.backend_key(request.key()?);
    let options = put_options(request)?;
    crate::body::check_declared_length(
        &request.headers,
        options.content_length,
        target.backend.kind(),
    )?;
    let output = target
        .backend
        .put_object(&target.backend_bucket, &key, &mut *body, options)
        .await
        .map_err(target_error(target))?;
    let mut response = S3Response::empty(200).header("etag", quoted_etag(&output.etag));
    let checksum = output.checksum.or_else(|| body.verified_checksum());
    response.headers.extend(checksum_headers(checksum.as_ref()));
    Ok(version_header(response, output.version_id.as_deref()))
}

/// `x-amz-version-id` on a write's answer, when the write made a version.
pub(super) fn version_header(response: S3Response, version_id: Option<&str>) -> S3Response {
    match version_id {
        Some(version_id) => response.header("x-amz-version-id", version_id),
        None => response,
    }
}

/// The copy source's bucket target, which must be on the same backend.
pub(super) fn copy_source_target<'a>(
    source: &CopySource,
    target: &BucketTarget,
    env: HandlerEnv<'a>,
) -> Result<Cow<'a, BucketTarget>, S3Error> {
    let source_target = env.buckets.resolve(&source.bucket).ok_or_else(|| {
        S3Error::new(
            S3ErrorCode::NoSuchBucket,
            "the copy source bucket does not exist",
        )
    })?;
    if source_target.backend_name != target.backend_name {
        return Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            "copying between buckets on different storage backends is not supported",
        ));
    }
    Ok(source_target)
}

/// Maps a backend error of a copy from `source` to `target`, without
/// either bucket's prefix (the longer one is taken out first, so a prefix
/// under the other is never shown in part).
pub(super) fn copy_error<'a>(
    source: &'a BucketTarget,
    target: &'a BucketTarget,
) -> impl Fn(cedargate_backends::BackendError) -> S3Error + 'a {
    let (first, second) = if source.prefix.len() > target.prefix.len() {
        (source, target)
    } else {
        (target, source)
    };
    move |error| backend_error(second.client_error(first.client_error(error)))
}

/// A copy's `x-amz-metadata-directive` or `x-amz-tagging-directive`
/// (COPY when absent).
fn directive(request: &S3Request, header: &str) -> Result<MetadataDirective, S3Error> {
    match request.header(header) {
        None => Ok(MetadataDirective::Copy),
        Some(v) if v.eq_ignore_ascii_case("COPY") => Ok(MetadataDirective::Copy),
        Some(v) if v.eq_ignore_ascii_case("REPLACE") => Ok(MetadataDirective::Replace),
        Some(_) => Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            format!("{header} must be COPY or REPLACE"),
        )),
    }
}

pub(super) async fn copy_object(
    request: &S3Request,
    target: &BucketTarget,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let key = target.backend_key(request.key()?);
    let source = copy_source(request)?;
    let source_target = copy_source_target(&source, target, env)?;
    let source_key = source_target.backend_key(&source.key);
    let metadata_directive = directive(request, "x-amz-metadata-directive")?;
    let tagging_directive = directive(request, "x-amz-tagging-directive")?;
    let options = CopyOptions {
        metadata_directive,
        headers: super::write_headers(request)?,
        user_metadata: request.user_metadata()?,
        source_conditions: request.conditions("x-amz-copy-source-"),
        source_version_id: source.version_id.clone(),
        tagging_directive,
    };
    let output = target
        .backend
        .copy_object(
            ObjectRef {
                bucket: &source_target.backend_bucket,
                key: &source_key,
            },
            ObjectRef {
                bucket: &target.backend_bucket,
                key: &key,
            },
            options,
        )
        .await
        .map_err(copy_error(&source_target, target))?;
    let mut response = S3Response::xml(xml::copy_object_result(&output));
    if let Some(source_version) = &source.version_id {
        response = response.header("x-amz-copy-source-version-id", source_version.as_str());
    }
    Ok(version_header(response, output.version_id.as_deref()))
}

pub(super) async fn delete_object(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let key = target.backend_key(request.key()?);
    let deleted = match version_id(request)? {
        Some(version_id) => {
            target
                .backend
                .delete_object_version(&target.backend_bucket, &key, version_id)
                .await
        }
        None => {
            target
                .backend
                .delete_object(&target.backend_bucket, &key)
                .await
        }
    };
    let output = deleted.map_err(target_error(target))?;
    Ok(delete_answer(request, &output))
}

/// DeleteObject's answer: `x-amz-version-id` (the version removed or the
/// delete marker created) and `x-amz-delete-marker: true` when a marker
/// was created or removed.
fn delete_answer(request: &S3Request, output: &DeleteOutput) -> S3Response {
    let mut response = with_version(
        request,
        output.version_id.as_deref(),
        S3Response::empty(204),
    );
    if output.delete_marker {
        response = response.header("x-amz-delete-marker", "true");
    }
    response
}

/// Reads a small request body (an XML document) into memory, refusing more
/// than `max` bytes.
pub(super) async fn read_capped(body: &mut dyn BodySource, max: usize) -> Result<Vec<u8>, S3Error> {
    let mut out = Vec::new();
    loop {
        match body.next_chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > max {
                    return Err(S3Error::new(
                        S3ErrorCode::MalformedXML,
                        format!("the XML body exceeds the maximum of {max} bytes"),
                    ));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(error) => return Err(backend_error(cedargate_backends::BackendError::Body(error))),
        }
    }
}

/// The actions a key of DeleteObjects is decided as, each of which must
/// allow it: the operation itself, `s3:DeleteObject` as AWS decides each
/// key, and `s3:DeleteObjectVersion` when the key names a version (as
/// DeleteObject with `versionId` is decided).
fn delete_actions(version_id: Option<&str>) -> &'static [&'static str] {
    match version_id {
        None => &["DeleteObjects", "DeleteObject"],
        Some(_) => &["DeleteObjects", "DeleteObject", "DeleteObjectVersion"],
    }
}

pub(super) async fn delete_objects(
    request: &S3Request,
    target: &BucketTarget,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let document = read_capped(body, env.max_xml_body_bytes).await?;
    if let Some(expected) = request.content_md5()? {
        let actual: [u8; 16] = md5::Md5::digest(&document).into();
        if actual != expected {
            return Err(S3Error::new(
                S3ErrorCode::BadDigest,
                "the Content-MD5 you specified did not match what was received",
            ));
        }
    }
    let delete = cedargate_s3::xml::parse_delete(&document).map_err(super::xml_error)?;
    let mut refused = Vec::new();
    let mut allowed: Vec<cedargate_s3::xml::ObjectToDelete> = Vec::new();
    let reads_tags = env.authz.reads_object_tags();
    let reads_acl = env.authz.reads_acl();
    // Named versions are decided on their ACL only where the current
    // version is the one a version id can name.
    let versions_decidable = !reads_acl
        || delete
            .objects
            .iter()
            .all(|object| object.version_id.is_none())
        || crate::resource_acl::never_versioned(target).await;
    for object in delete.objects {
        // A key the backend would read as another is refused before any
        // policy is asked about it.
        if let Err(error) = target.check_key(&object.key) {
            refused.push((object, backend_error(error)));
            continue;
        }
        // Each key is decided on its stored tags (the named version's) and
        // ACL (those policies read); a key whose ACL cannot be read (a
        // named version's) is refused, never decided without it.
        if reads_acl && object.version_id.is_some() && !versions_decidable {
            refused.push((object, crate::resource_acl::named_version_refused()));
            continue;
        }
        let mut seen = crate::authorize::Seen::default();
        if reads_tags {
            let version_id = object.version_id.as_deref();
            match crate::object_tags::stored_on(target, &object.key, version_id).await {
                Ok(tags) => seen.tags = Some(tags),
                Err(error) => {
                    refused.push((object, error));
                    continue;
                }
            }
        }
        if reads_acl {
            match crate::resource_acl::stored_object_acl(target, &object.key).await {
                Ok(acl) => seen.acl = Some(acl.as_str().to_owned()),
                Err(error) => {
                    refused.push((object, error));
                    continue;
                }
            }
        }
        let seen = (reads_tags || reads_acl).then_some(seen);
        let denied = delete_actions(object.version_id.as_deref())
            .iter()
            .find_map(|action| {
                let decision = match &seen {
                    Some(seen) => {
                        env.authz
                            .decide_with(action, &target.name, Some(&object.key), seen)
                    }
                    None => env.authz.decide(action, &target.name, Some(&object.key)),
                };
                (!decision.allowed).then(|| env.authz.refuse(&decision, action))
            })
            .or_else(|| {
                env.authz
                    .implied_refusal(&target.name, Some(&object.key), seen.as_ref())
            });
        match denied {
            None => allowed.push(object),
            Some(error) => refused.push((object, error)),
        }
    }
    let keys: Vec<String> = allowed.iter().map(|object| object.key.clone()).collect();
    let quota = env.quotas.before_delete(target, &keys).await?;
    let results = if allowed.is_empty() {
        Vec::new()
    } else {
        let backend_objects: Vec<ObjectIdentifier> = allowed
            .iter()
            .map(|object| ObjectIdentifier {
                key: target.backend_key(&object.key).into_owned(),
                version_id: object.version_id.clone(),
            })
            .collect();
        target
            .backend
            .delete_objects(&target.backend_bucket, &backend_objects)
            .await
            .map_err(target_error(target))?
    };
    let deleted = keys
        .iter()
        .zip(&results)
        .filter(|(_, result)| result.is_ok());
    quota
        .finish(env.quotas, target, deleted.map(|(key, _)| key.as_str()))
        .await;
    let deleted = allowed.into_iter().zip(results);
    let denied = refused
        .into_iter()
        .map(|(object, error)| (object, Err(error)));
    let outcomes: Vec<cedargate_s3::xml::DeleteOutcome> = deleted
        .map(|(object, result)| (object, result.map_err(target_error(target))))
        .chain(denied)
        .map(|(object, result)| cedargate_s3::xml::DeleteOutcome {
            key: object.key,
            version_id: object.version_id,
            delete_marker_version_id: result
                .as_ref()
                .ok()
                .filter(|output| output.delete_marker)
                .and_then(|output| output.version_id.clone()),
            failure: result.err().map(|error| cedargate_s3::xml::DeleteFailure {
                code: error.code().as_str().to_owned(),
                message: error
                    .wire_message(cedargate_s3::error::ErrorProfile::Aws)
                    .to_owned(),
            }),
        })
        .collect();
    Ok(S3Response::xml(cedargate_s3::xml::delete_result(
        &outcomes,
        delete.quiet,
    )))
}

/// GetObjectTorrent: no torrent file is kept for any object, so the
/// answer is NoSuchKey (what S3-compatible stores without torrent support
/// answer) once the object is known to exist (else its own NoSuchKey or
/// NoSuchBucket).
pub(super) async fn get_object_torrent(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let key = target.backend_key(request.key()?);
    target
        .backend
        .head_object(&target.backend_bucket, &key, GetOptions::default())
        .await
        .map_err(target_error(target))?;
    Err(S3Error::new(
        S3ErrorCode::NoSuchKey,
        "no torrent file is kept for this object: download it with GetObject",
    ))
}
