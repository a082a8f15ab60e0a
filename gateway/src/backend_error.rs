//! Backend errors as the client sees them: the one place where a
//! [`BackendError`] becomes an [`S3Error`] (its code, message and headers,
//! never the backend's detail).

use cedargate_backends::BackendError;

use crate::response::{http_date, quoted_etag};
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// Maps a backend error to the S3 error the client sees.
pub fn backend_error(error: BackendError) -> S3Error {
    use S3ErrorCode as C;
    let client = |code, error: &BackendError| S3Error::new(code, error.to_string());
    match &error {
        BackendError::NoSuchBucket => client(C::NoSuchBucket, &error),
        BackendError::NoSuchKey => client(C::NoSuchKey, &error),
        BackendError::NoSuchUpload => client(C::NoSuchUpload, &error),
        BackendError::NoSuchVersion => client(C::NoSuchVersion, &error),
        BackendError::DeleteMarker { version_id, named } => {
            let code = if *named {
                C::MethodNotAllowed
            } else {
                C::NoSuchKey
            };
            let refused = client(code, &error).with_header("x-amz-delete-marker", "true");
            match version_id {
                Some(version_id) => refused.with_header("x-amz-version-id", version_id.clone()),
                None => refused,
            }
        }
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
        BackendError::InvalidPartNumber => client(C::InvalidPartNumber, &error),
        BackendError::InvalidRequest { .. } => client(C::InvalidRequest, &error),
        BackendError::ConditionalRequestConflict => client(C::ConditionalRequestConflict, &error),
        BackendError::EntityTooSmall { .. } => client(C::EntityTooSmall, &error),
        BackendError::CopyOntoItself => client(C::InvalidRequest, &error),
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
    use cedargate_s3::error::ErrorProfile;
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
                BackendError::DeleteMarker {
                    version_id: None,
                    named: false,
                },
                S3ErrorCode::NoSuchKey,
            ),
            (
                BackendError::DeleteMarker {
                    version_id: Some("m".into()),
                    named: true,
                },
                S3ErrorCode::MethodNotAllowed,
            ),
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
            (BackendError::CopyOntoItself, S3ErrorCode::InvalidRequest),
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
        let marker = backend_error(BackendError::DeleteMarker {
            version_id: Some("v1".into()),
            named: true,
        });
        assert_eq!(
            marker.headers(),
            [
                ("x-amz-delete-marker", "true".to_owned()),
                ("x-amz-version-id", "v1".to_owned())
            ]
        );
    }
}
