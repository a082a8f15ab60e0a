//! Single-result documents: LocationConstraint,
//! InitiateMultipartUploadResult,
//! CompleteMultipartUploadResult, DeleteResult and the `<Error>` document.

use super::write::Doc;
use super::{S3_NAMESPACE, XML_DECLARATION};

/// Renders GetBucketLocation's answer. `us-east-1` (and an empty region)
/// is the empty element, as S3 answers for buckets in us-east-1.
pub fn location_constraint(region: &str) -> String {
    if region.is_empty() || region == "us-east-1" {
        return format!("{XML_DECLARATION}\n<LocationConstraint xmlns=\"{S3_NAMESPACE}\"/>");
    }
    let mut doc = Doc::new("LocationConstraint");
    doc.content(region);
    doc.finish()
}

/// Renders InitiateMultipartUploadResult (CreateMultipartUpload).
pub fn initiate_multipart_upload_result(bucket: &str, key: &str, upload_id: &str) -> String {
    let mut doc = Doc::new("InitiateMultipartUploadResult");
    doc.text("Bucket", bucket)
        .text("Key", key)
        .text("UploadId", upload_id);
    doc.finish()
}

/// Renders CompleteMultipartUploadResult. `location` is the object's URL
/// as the client addressed it; `etag` is unquoted (`hex-N`); `checksum` is
/// the object's `(algorithm, value, type)` as S3 writes them (`CRC32`,
/// `...-2`, `COMPOSITE`).
pub fn complete_multipart_upload_result(
    location: &str,
    bucket: &str,
    key: &str,
    etag: &str,
    checksum: Option<(&str, &str, &str)>,
) -> String {
    let mut doc = Doc::new("CompleteMultipartUploadResult");
    doc.text("Location", location)
        .text("Bucket", bucket)
        .text("Key", key)
        .etag(etag);
    if let Some((algorithm, value, kind)) = checksum {
        doc.text(&checksum_element(algorithm), value)
            .text("ChecksumType", kind);
    }
    doc.finish()
}

/// The XML element of a checksum of `algorithm` as S3 writes it (`CRC32`):
/// `ChecksumCRC32`.
pub fn checksum_element(algorithm: &str) -> String {
    format!("Checksum{algorithm}")
}

/// What happened to one key of a DeleteObjects request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// The key, as the client sent it.
    pub key: String,
    /// The version id, when the client named one.
    pub version_id: Option<String>,
    /// `None` when the key was deleted (or did not exist).
    pub failure: Option<DeleteFailure>,
    /// The delete marker created, or the version deleted when it was one
    /// (`DeleteMarker` and `DeleteMarkerVersionId`).
    pub delete_marker_version_id: Option<String>,
}

/// Why one key of a DeleteObjects request was not deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteFailure {
    /// The S3 error code (`AccessDenied`, `InternalError`, ...).
    pub code: String,
    /// The client-safe message.
    pub message: String,
}

/// Renders DeleteResult. In quiet mode only the failures are listed.
pub fn delete_result(outcomes: &[DeleteOutcome], quiet: bool) -> String {
    let mut doc = Doc::new("DeleteResult");
    for outcome in outcomes {
        match &outcome.failure {
            None if quiet => {}
            None => {
                doc.open("Deleted")
                    .text("Key", &outcome.key)
                    .text_opt("VersionId", outcome.version_id.as_deref());
                if let Some(marker) = &outcome.delete_marker_version_id {
                    doc.value("DeleteMarker", true)
                        .text("DeleteMarkerVersionId", marker);
                }
                doc.close("Deleted");
            }
            Some(failure) => {
                doc.open("Error")
                    .text("Key", &outcome.key)
                    .text_opt("VersionId", outcome.version_id.as_deref())
                    .text("Code", &failure.code)
                    .text("Message", &failure.message)
                    .close("Error");
            }
        }
    }
    doc.finish()
}

/// Renders the S3 `<Error>` document of docs/errors.md: `Code`, `Message`,
/// `BucketName` (only when the request names a bucket), `Resource` (the
/// request path) and `RequestId` (equal to the `x-amz-request-id` header).
/// The root carries no namespace, as in AWS's error bodies.
pub fn error_document(
    code: &str,
    message: &str,
    bucket: Option<&str>,
    resource: &str,
    request_id: &str,
) -> String {
    let mut doc = Doc::without_namespace_root("Error");
    doc.text("Code", code)
        .text("Message", message)
        .text_opt("BucketName", bucket)
        .text("Resource", resource)
        .text("RequestId", request_id);
    doc.finish()
}
