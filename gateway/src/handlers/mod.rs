//! The *dispatch* stage: one handler per S3 operation the gateway serves
//! through the [`Backend`](cedargate_backends::Backend) trait; backend
//! errors become S3 errors through [`crate::backend_error`].
//!
//! Handlers are plain async functions of the request, the bucket's target
//! and the body; they never see a pingora session.

mod acl;
mod attributes;
mod bucket;
mod bucket_pages;
mod cors;
mod lifecycle;
mod multipart;
mod object;
mod object_lock;
mod post;
mod tagging;
mod versions;

use cedargate_backends::{BackendError, BodySource};

pub use crate::backend_error::backend_error;
pub use crate::request::{CopySource, copy_source, tagging_header};
pub use post::post_object;

use crate::authorize::Authorizer;
use crate::buckets::{BucketMap, BucketTarget};
use crate::quota::Quotas;
use crate::request::S3Request;
use crate::response::S3Response;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};

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
            Op::ListBuckets => bucket::list_buckets(request, env).await,
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
        Op::GetObjectAttributes => attributes::get_object_attributes(request, target).await,
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
        Op::GetBucketAcl | Op::GetObjectAcl => {
            refuse_version(request)?;
            acl::get_acl(request, target).await
        }
        Op::PutBucketAcl | Op::PutObjectAcl => {
            refuse_version(request)?;
            acl::put_acl(request, target, body, env).await
        }
        Op::CreateBucket => lifecycle::create_bucket(request, target, body, env).await,
        Op::DeleteBucket => lifecycle::delete_bucket(target).await,
        Op::GetBucketVersioning => versions::get_bucket_versioning(target).await,
        Op::PutBucketVersioning => versions::put_bucket_versioning(target, body, env).await,
        Op::ListObjectVersions => versions::list_object_versions(request, target).await,
        Op::GetBucketTagging => tagging::get_bucket(target).await,
        Op::PutBucketTagging => tagging::put_bucket(target, body, env).await,
        Op::DeleteBucketTagging => tagging::delete_bucket(target).await,
        Op::GetObjectTorrent => object::get_object_torrent(request, target).await,
        Op::GetObjectTagging => tagging::get(request, target).await,
        Op::PutObjectTagging => tagging::put(request, target, body, env).await,
        Op::DeleteObjectTagging => tagging::delete(request, target).await,
        Op::GetBucketCors => cors::get_bucket_cors(target).await,
        Op::PutBucketCors | Op::DeleteBucketCors => {
            Err(cors::configured_by_the_gateway(request.operation))
        }
        Op::GetObjectLockConfiguration
        | Op::PutObjectLockConfiguration
        | Op::GetObjectRetention
        | Op::PutObjectRetention
        | Op::GetObjectLegalHold
        | Op::PutObjectLegalHold => object_lock::answer(request.operation, target).await,
        other => Err(not_implemented(other)),
    }
}

/// The headers a write stores (PutObject, CopyObject,
/// CreateMultipartUpload): the canned ACL of the one `x-amz-acl` header
/// (no grant headers) and the tag set of the one `x-amz-tagging` header,
/// each the very value policies decided on.
fn write_headers(request: &S3Request) -> Result<cedargate_backends::ObjectHeaders, S3Error> {
    let acl = acl::write_acl(request, cedargate_s3::xml::AclSubject::Object)?;
    let tagging = tagging_header(request)?;
    let mut headers = request.object_headers();
    headers.storage.remove("x-amz-acl");
    headers.storage.remove("x-amz-tagging");
    if let Some(acl) = acl {
        headers
            .storage
            .insert("x-amz-acl".to_owned(), acl.as_str().to_owned());
    }
    if let Some(tagging) = tagging {
        cedargate_backends::tagging::parse_header(tagging).map_err(backend_error)?;
        headers
            .storage
            .insert("x-amz-tagging".to_owned(), tagging.to_owned());
    }
    Ok(headers)
}

/// Refuses a `versionId` (but `null`) on an operation S3 lets name a
/// version but this gateway serves only for the current one (object ACLs).
fn refuse_version(request: &S3Request) -> Result<(), S3Error> {
    match request.query.get("versionId") {
        None | Some("null") => Ok(()),
        Some(_) => Err(S3Error::new(
            S3ErrorCode::NotImplemented,
            format!(
                "`{}` of a named version is not supported",
                request.operation.name()
            ),
        )),
    }
}

/// The owner shown in listings: the gateway answers for every bucket.
fn owner() -> cedargate_s3::xml::Owner {
    cedargate_s3::xml::Owner {
        id: "cedargate".to_owned(),
        display_name: Some("cedargate".to_owned()),
    }
}

/// Maps an XML body parse failure to its S3 error.
fn xml_error(error: cedargate_s3::xml::XmlError) -> S3Error {
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
            route: cedargate_s3::route::route(None, "/bkt/k", &[]).expect("route"),
            query: cedargate_s3::query::Query::parse("").expect("query"),
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

    #[test]
    fn the_stored_acl_is_the_one_header_policies_decide_on() {
        let subject = cedargate_s3::xml::AclSubject::Object;
        let stored = |headers: &[(&'static str, &[u8])]| {
            write_headers(&put_with(headers))
                .map(|headers| headers.storage.get("x-amz-acl").cloned())
                .map_err(|error| error.code())
        };
        let public = put_with(&[("x-amz-acl", b"public-read")]);
        let decided = crate::request::acl_header(&public, subject).expect("one header");
        assert_eq!(decided.map(|acl| acl.as_str()), Some("public-read"));
        assert_eq!(
            stored(&[("x-amz-acl", b"public-read")]),
            Ok(Some("public-read".to_owned()))
        );
        assert_eq!(stored(&[]), Ok(None));
        let invalid = Err(S3ErrorCode::InvalidArgument);
        for refused in [
            &[
                ("x-amz-acl", &b"private"[..]),
                ("x-amz-acl", b"public-read"),
            ][..],
            &[("x-amz-acl", b"Public-Read")],
            &[("x-amz-acl", b"public-read, private")],
            &[("x-amz-acl", b"log-delivery-write")],
            &[("x-amz-acl", "public-r\u{e9}ad".as_bytes())],
        ] {
            assert_eq!(stored(refused), invalid, "{refused:?}");
            let request = put_with(refused);
            assert!(crate::request::acl_header(&request, subject).is_err());
        }
        assert_eq!(
            stored(&[("x-amz-grant-read", b"id=someone")]),
            Err(S3ErrorCode::NotImplemented)
        );
    }
}
