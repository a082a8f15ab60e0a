//! [`ChunkedError`]: why an `aws-chunked` body was refused, and the S3
//! error and auth-failure reason each cause maps to.

use crate::error::{S3Error, S3ErrorCode};
use crate::sigv4::AuthFailureReason;

/// Why an `aws-chunked` body was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkedError {
    /// A chunk header or trailer line exceeds the limit.
    #[error("aws-chunked line longer than {0} bytes")]
    LineTooLong(usize),
    /// A line ends in LF without CR.
    #[error("aws-chunked line does not end with CRLF")]
    BareLf,
    /// The chunk size is not 1 to 16 hex digits.
    #[error("aws-chunked chunk size is not 1 to 16 hex digits")]
    BadChunkSize,
    /// The chunk is larger than the limit.
    #[error("aws-chunked chunk of {size} bytes exceeds the limit of {limit} bytes")]
    ChunkTooLarge {
        /// Declared chunk size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A signed chunk has no `chunk-signature` extension.
    #[error("signed aws-chunked chunk without a `chunk-signature` extension")]
    MissingChunkSignature,
    /// The extension is not `chunk-signature=<64 lowercase hex>`.
    #[error("aws-chunked chunk extension is not `chunk-signature=<64 lowercase hex>`")]
    BadChunkExtension,
    /// An unsigned chunk carries an extension.
    #[error("unsigned aws-chunked chunk carries an extension")]
    UnexpectedChunkExtension,
    /// Chunk data is not followed by CRLF.
    #[error("aws-chunked chunk data is not followed by CRLF")]
    MissingDataCrlf,
    /// A chunk signature does not verify.
    #[error("the aws-chunked chunk signature does not match")]
    ChunkSignatureMismatch,
    /// A trailer line does not parse.
    #[error("malformed aws-chunked trailer: {0}")]
    BadTrailer(&'static str),
    /// A trailer not named in `x-amz-trailer`.
    #[error("trailer `{0}` was not declared in x-amz-trailer")]
    UndeclaredTrailer(String),
    /// A trailer sent twice.
    #[error("trailer `{0}` was sent twice")]
    DuplicateTrailer(String),
    /// More trailers than the limit.
    #[error("more than {0} aws-chunked trailers")]
    TooManyTrailers(usize),
    /// A trailer named in `x-amz-trailer` was not sent.
    #[error("trailer `{0}` declared in x-amz-trailer was not sent")]
    MissingTrailer(String),
    /// Signed trailers without a valid `x-amz-trailer-signature` line last.
    #[error("signed trailers must end with one `x-amz-trailer-signature:<64 lowercase hex>` line")]
    BadTrailerSignatureLine,
    /// The trailer signature does not verify.
    #[error("the aws-chunked trailer signature does not match")]
    TrailerSignatureMismatch,
    /// Bytes after the end of the body.
    #[error("data after the final aws-chunked chunk")]
    TrailingData,
    /// The input ended before the final chunk and trailers.
    #[error("the aws-chunked body ended before its final chunk")]
    Truncated,
    /// The decoded length differs from `x-amz-decoded-content-length`.
    #[error(
        "the decoded body length ({actual} bytes so far) differs from x-amz-decoded-content-length ({declared})"
    )]
    LengthMismatch {
        /// `x-amz-decoded-content-length`.
        declared: u64,
        /// Decoded length at the point of failure.
        actual: u64,
    },
    /// A signed mode was requested without a signing context.
    #[error("signed aws-chunked payload without a signing context")]
    MissingSigningContext,
}

impl ChunkedError {
    /// The documented S3 error: signature failures are
    /// SignatureDoesNotMatch, truncation and length mismatches
    /// IncompleteBody, everything else (framing) InvalidRequest.
    pub fn to_s3_error(&self) -> S3Error {
        let code = match self {
            Self::ChunkSignatureMismatch | Self::TrailerSignatureMismatch => {
                S3ErrorCode::SignatureDoesNotMatch
            }
            Self::Truncated | Self::LengthMismatch { .. } => S3ErrorCode::IncompleteBody,
            Self::MissingSigningContext => return S3Error::internal(self),
            _ => S3ErrorCode::InvalidRequest,
        };
        S3Error::new(code, self.to_string())
    }

    /// The `s3_auth_failure_total` reason, for signature failures.
    pub fn auth_failure_reason(&self) -> Option<AuthFailureReason> {
        matches!(
            self,
            Self::ChunkSignatureMismatch | Self::TrailerSignatureMismatch
        )
        .then_some(AuthFailureReason::BadSignature)
    }
}
