//! Answers that are not the S3 the backend expects: a document that does
//! not parse, a header that is missing or malformed. Every reader of the
//! upstream's answers (documents, headers, error mapping) reports them the
//! same way, as a bad gateway.

use crate::BackendError;

/// Why an answer is not the S3 the backend expects.
#[derive(Debug, thiserror::Error)]
#[error("the upstream's answer is not valid S3: {0}")]
pub(super) struct NotS3(String);

/// [`BackendError::BadGateway`] for an answer that is not valid S3.
pub(super) fn not_s3(why: impl Into<String>) -> BackendError {
    BackendError::BadGateway(Box::new(NotS3(why.into())))
}
