//! The *dispatch* stage: one handler per S3 operation the gateway serves
//! through the [`Backend`](cedargate_backends::Backend) trait, and the one
//! place where backend errors become S3 errors.
//!
//! Handlers are plain async functions of the request, the bucket's target
//! and the body; they never see a pingora session.

mod acl;
mod bucket;
mod cors;
mod lifecycle;
mod multipart;
mod object;
mod tagging;
mod versions;

use cedargate_backends::{BackendError, BodySource};

pub use object::{CopySource, copy_source};

use crate::authorize::Authorizer;
use crate::buckets::{BucketMap, BucketTarget};
use crate::classify::S3Operation;
use crate::error::{S3Error, S3ErrorCode};
use crate::quota::Quotas;
use crate::request::S3Request;
use crate::response::{S3Response, http_date, quoted_etag};

/// What handlers may consult besides the request.
#[derive(Debug, Clone, Copy)]
pub struct HandlerEnv<'a> {
    /// Every configured bucket (copy sources, ListBuckets).
    pub buckets: &'a BucketMap,
    /// The region reported by GetBucketLocation and HeadBucket.
    pub region: &'a str,
    /// Largest XML request body accepted.
    pub max_xml_body_bytes: usize,
    /// Answers the per-key and per-bucket questions of DeleteObjects and ListBuckets.
    pub authz: &'a Authorizer<'a>,
    /// Bucket quotas (DeleteObjects frees what it deletes).
    pub quotas: &'a Quotas,
}

/// Serves a request on its bucket (`target` is `None` only for ListBuckets).
pub async fn dispatch(
    request: &S3Request,
    target: Option<&BucketTarget>,
    body: &mut dyn BodySource,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    use S3Operation as Op;
    let Some(target) = target else {
        return match request.operation {
            Op::ListBuckets => bucket::list_buckets(env).await,
            Op::CreateBucket => Err(lifecycle::unroutable(request, env)),
            other => Err(not_implemented(other)),
        };
    };
    match request.operation {
        Op::HeadBucket => bucket::head_bucket(target, env).await,
        Op::GetBucketLocation => bucket::get_bucket_location(target, env).await,
        Op::ListObjects => bucket::list_objects_v1(request, target).await,
        Op::ListObjectsV2 => bucket::list_objects_v2(request, target).await,
        Op::GetObject => object::get_object(request, target).await,
        Op::HeadObject => object::head_object(request, target).await,
        Op::PutObject => object::put_object(request, target, body).await,
        Op::CopyObject => object::copy_object(request, target, env).await,
        Op::DeleteObject => object::delete_object(request, target).await,
        Op::DeleteObjects => object::delete_objects(request, target, body, env).await,
        Op::CreateMultipartUpload => multipart::create(request, target).await,
        Op::UploadPart => multipart::upload_part(request, target, body).await,
        Op::UploadPartCopy => multipart::upload_part_copy(request, target, env).await,
        Op::CompleteMultipartUpload => multipart::complete(request, target, body, env).await,
        Op::AbortMultipartUpload => multipart::abort(request, target).await,
        Op::ListParts => multipart::list_parts(request, target).await,
        Op::ListMultipartUploads => multipart::list_uploads(request, target).await,
        Op::GetBucketAcl | Op::GetObjectAcl => acl::get_acl(request, target).await,
        Op::PutBucketAcl | Op::PutObjectAcl => acl::put_acl(request, target, body, env).await,
        Op::CreateBucket => lifecycle::create_bucket(request, target, body, env).await,
        Op::DeleteBucket => lifecycle::delete_bucket(target).await,
        Op::GetBucketVersioning => versions::get_bucket_versioning(target).await,
        Op::ListObjectVersions => versions::list_object_versions(request, target).await,
        Op::GetObjectTagging => tagging::get(request, target).await,
        Op::PutObjectTagging => tagging::put(request, target, body, env).await,
        Op::DeleteObjectTagging => tagging::delete(request, target).await,
        Op::GetBucketCors => cors::get_bucket_cors(target).await,
        Op::PutBucketCors | Op::DeleteBucketCors => {
            Err(cors::configured_by_the_gateway(request.operation))
        }
        other => Err(not_implemented(other)),
    }
}

/// The headers a write stores (PutObject, CopyObject,
/// CreateMultipartUpload): the ACL must be `private` (dropped, it is what
/// holds anyway) and `x-amz-tagging` must be a valid tag set.
fn write_headers(request: &S3Request) -> Result<cedargate_backends::ObjectHeaders, S3Error> {
    acl::refuse_grants(request)?;
    let tagging = tagging_header(request)?;
    let mut headers = request.object_headers();
    headers.storage.remove("x-amz-acl");
    headers.storage.remove("x-amz-tagging");
    if let Some(tagging) = tagging {
        cedargate_backends::tagging::parse_header(tagging).map_err(backend_error)?;
        headers
            .storage
            .insert("x-amz-tagging".to_owned(), tagging.to_owned());
    }
    Ok(headers)
}

/// The request's one `x-amz-tagging` header: more than one, or one that is
/// not URL-encoded ASCII, is refused, so that what policies decide on and
/// what is stored are the same value.
pub fn tagging_header(request: &S3Request) -> Result<Option<&str>, S3Error> {
    let mut values = request.headers.get_all("x-amz-tagging").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "the x-amz-tagging header must be given once",
        ));
    }
    first.to_str().map(Some).map_err(|_| {
        S3Error::new(
            S3ErrorCode::InvalidTag,
            "the x-amz-tagging header must be URL-encoded ASCII",
        )
    })
}

/// Refuses a `versionId` on an operation that does not take one here.
fn refuse_version(request: &S3Request) -> Result<(), S3Error> {
    match request.query.get("versionId") {
        None | Some("null") => Ok(()),
        Some(_) => Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            "a versionId is supported only on GetObject, HeadObject and DeleteObject",
        )),
    }
}

/// The owner shown in listings: the gateway answers for every bucket.
fn owner() -> crate::xml::Owner {
    crate::xml::Owner {
        id: "cedargate".to_owned(),
        display_name: Some("cedargate".to_owned()),
    }
}

/// Maps an XML body parse failure to its S3 error.
fn xml_error(error: crate::xml::XmlError) -> S3Error {
    let code = match error.code() {
        "InvalidArgument" => S3ErrorCode::InvalidArgument,
        "InvalidPartOrder" => S3ErrorCode::InvalidPartOrder,
        _ => S3ErrorCode::MalformedXML,
    };
    S3Error::new(code, error.message())
}

fn not_implemented(operation: S3Operation) -> S3Error {
    S3Error::new(
        S3ErrorCode::NotImplemented,
        format!("`{}` is not implemented by this gateway", operation.name()),
    )
}

/// Maps a backend error of a call on `target`'s keys to the S3 error the
/// client sees, without the bucket's prefix.
fn target_error(target: &BucketTarget) -> impl Fn(BackendError) -> S3Error + '_ {
    move |error| backend_error(target.client_error(error))
}

/// Maps a backend error to the S3 error the client sees.
pub fn backend_error(error: BackendError) -> S3Error {
    use S3ErrorCode as C;
    let client = |code, error: &BackendError| S3Error::new(code, error.to_string());
    match &error {
        BackendError::NoSuchBucket => client(C::NoSuchBucket, &error),
        BackendError::NoSuchKey => client(C::NoSuchKey, &error),
        BackendError::NoSuchUpload => client(C::NoSuchUpload, &error),
        BackendError::NoSuchVersion => client(C::NoSuchVersion, &error),
        BackendError::BucketAlreadyOwnedByYou => S3Error::new(
            C::BucketAlreadyOwnedByYou,
            "your previous request to create the named bucket succeeded and you already own it",
        ),
        BackendError::BucketAlreadyExists => S3Error::new(
            C::BucketAlreadyExists,
            "the requested bucket name is not available; select a different name",
        ),
        BackendError::BucketNotEmpty => S3Error::new(
            C::BucketNotEmpty,
            "the bucket you tried to delete is not empty",
        ),
        BackendError::InvalidTag { .. } => client(C::InvalidTag, &error),
        BackendError::PreconditionFailed => client(C::PreconditionFailed, &error),
        BackendError::NotModified {
            etag,
            last_modified,
        } => client(C::NotModified, &error)
            .with_header("etag", quoted_etag(etag))
            .with_header("last-modified", http_date(*last_modified)),
        BackendError::InvalidRange { size } => {
            client(C::InvalidRange, &error).with_header("content-range", format!("bytes */{size}"))
        }
        BackendError::BadDigest => client(C::BadDigest, &error),
        BackendError::IncompleteBody => client(C::IncompleteBody, &error),
        BackendError::InvalidPart { .. } => client(C::InvalidPart, &error),
        BackendError::InvalidPartOrder => client(C::InvalidPartOrder, &error),
        BackendError::EntityTooSmall { .. } => client(C::EntityTooSmall, &error),
        BackendError::InvalidArgument { .. } => client(C::InvalidArgument, &error),
        BackendError::NotImplemented { operation, .. } => S3Error::new(
            C::NotImplemented,
            format!("`{operation}` is not supported for this bucket"),
        ),
        BackendError::Body(_) => {
            S3Error::new(C::IncompleteBody, "the request body could not be read")
                .with_detail(&error)
        }
        BackendError::Unavailable(source) => {
            S3Error::new(C::ServiceUnavailable, "").with_detail(source)
        }
        BackendError::BadGateway(source) => S3Error::new(C::BadGateway, "").with_detail(source),
        BackendError::Other(source) => S3Error::internal(source),
        _ => S3Error::internal(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_with(headers: &[(&'static str, &[u8])]) -> S3Request {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            let value = http::HeaderValue::from_bytes(value).expect("header value");
            map.append(*name, value);
        }
        S3Request {
            method: http::Method::PUT,
            route: crate::route::route(None, "/bkt/k", &[]).expect("route"),
            query: crate::query::Query::parse("").expect("query"),
            headers: map,
            operation: S3Operation::PutObject,
            raw_path: "/bkt/k".to_owned(),
            raw_query: String::new(),
        }
    }

    #[test]
    fn the_stored_tags_are_the_one_header_policies_decide_on() {
        let one = put_with(&[("x-amz-tagging", b"a=1")]);
        assert_eq!(tagging_header(&one).ok().flatten(), Some("a=1"));
        let stored = write_headers(&one).expect("headers");
        assert_eq!(
            stored.storage.get("x-amz-tagging").map(String::as_str),
            Some("a=1")
        );
        let twice = put_with(&[
            ("x-amz-tagging", b"owner=me"),
            ("x-amz-tagging", b"owner=x"),
        ]);
        let refused = write_headers(&twice).expect_err("two headers");
        assert_eq!(refused.code(), S3ErrorCode::InvalidArgument);
        let raw = put_with(&[("x-amz-tagging", "k=\u{e9}".as_bytes())]);
        assert_eq!(
            tagging_header(&raw).expect_err("non-ascii").code(),
            S3ErrorCode::InvalidTag
        );
        assert_eq!(tagging_header(&put_with(&[])).ok().flatten(), None);
    }
    use crate::error::ErrorProfile;
    use std::time::SystemTime;

    #[test]
    fn backend_errors_map_to_their_s3_codes() {
        let io = || std::io::Error::other("boom at /srv/secret-prefix");
        let cases: Vec<(BackendError, S3ErrorCode)> = vec![
            (BackendError::NoSuchBucket, S3ErrorCode::NoSuchBucket),
            (BackendError::NoSuchKey, S3ErrorCode::NoSuchKey),
            (BackendError::NoSuchUpload, S3ErrorCode::NoSuchUpload),
            (BackendError::NoSuchVersion, S3ErrorCode::NoSuchVersion),
            (
                BackendError::BucketAlreadyOwnedByYou,
                S3ErrorCode::BucketAlreadyOwnedByYou,
            ),
            (
                BackendError::BucketAlreadyExists,
                S3ErrorCode::BucketAlreadyExists,
            ),
            (BackendError::BucketNotEmpty, S3ErrorCode::BucketNotEmpty),
            (
                BackendError::InvalidTag {
                    message: "bad tag".into(),
                },
                S3ErrorCode::InvalidTag,
            ),
            (
                BackendError::PreconditionFailed,
                S3ErrorCode::PreconditionFailed,
            ),
            (
                BackendError::NotModified {
                    etag: "e".into(),
                    last_modified: SystemTime::UNIX_EPOCH,
                },
                S3ErrorCode::NotModified,
            ),
            (
                BackendError::InvalidRange { size: 3 },
                S3ErrorCode::InvalidRange,
            ),
            (BackendError::BadDigest, S3ErrorCode::BadDigest),
            (BackendError::IncompleteBody, S3ErrorCode::IncompleteBody),
            (
                BackendError::InvalidPart { part_number: 2 },
                S3ErrorCode::InvalidPart,
            ),
            (
                BackendError::InvalidPartOrder,
                S3ErrorCode::InvalidPartOrder,
            ),
            (
                BackendError::EntityTooSmall { part_number: 1 },
                S3ErrorCode::EntityTooSmall,
            ),
            (
                BackendError::invalid_argument("bad key"),
                S3ErrorCode::InvalidArgument,
            ),
            (
                BackendError::NotImplemented {
                    operation: "PutObjectAcl",
                    backend: "fs",
                },
                S3ErrorCode::NotImplemented,
            ),
            (BackendError::Body(io()), S3ErrorCode::IncompleteBody),
            (
                BackendError::Unavailable(Box::new(io())),
                S3ErrorCode::ServiceUnavailable,
            ),
            (
                BackendError::BadGateway(Box::new(io())),
                S3ErrorCode::BadGateway,
            ),
            (BackendError::other(io()), S3ErrorCode::InternalError),
        ];
        for (error, code) in cases {
            let mapped = backend_error(error);
            assert_eq!(mapped.code(), code);
            let xml = mapped.to_xml(ErrorProfile::Documented, Some("b"), "/b/k", "r");
            assert!(
                !xml.contains("secret-prefix"),
                "{code:?} leaks detail: {xml}"
            );
            assert!(!xml.contains("`fs`"), "{code:?} names the backend: {xml}");
        }
    }

    #[test]
    fn not_modified_and_invalid_range_carry_their_headers() {
        let not_modified = backend_error(BackendError::NotModified {
            etag: "abc".into(),
            last_modified: SystemTime::UNIX_EPOCH,
        });
        let names: Vec<&str> = not_modified.headers().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["etag", "last-modified"]);
        let range = backend_error(BackendError::InvalidRange { size: 10 });
        assert_eq!(
            range.headers(),
            [("content-range", "bytes */10".to_owned())]
        );
    }
}
