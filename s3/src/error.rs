//! The one S3 error type, rendered in the *respond* stage.
//!
//! Every refusal or failure of any stage becomes an [`S3Error`]: a code from
//! the documented error table (`docs/errors.md`), a message, and optional
//! extra headers. Status and wire code depend on the configured
//! [`ErrorProfile`]; this module is the only place that maps them.
//! Server errors (5xx) always carry the generic message on the wire; their
//! detail is kept for the log only.

use std::fmt;

/// Which status column of the documented error table the gateway answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorProfile {
    /// The documented profile (401 for authentication failures, 429 SlowDown, 507 quota).
    #[default]
    Documented,
    /// Real AWS S3's statuses (403, 503 SlowDown, 400 EntityTooLarge).
    Aws,
}

/// The message every 5xx answer carries on the wire.
pub const GENERIC_SERVER_ERROR: &str = "We encountered an internal error. Please try again.";

/// A code's wire code in the documented profile: its variant name, unless
/// the row says otherwise (`as "..."`).
macro_rules! documented_code {
    ($variant:ident) => {
        stringify!($variant)
    };
    ($variant:ident $code:literal) => {
        $code
    };
}

macro_rules! s3_error_codes {
    ($( $(#[$doc:meta])* $variant:ident $(as $documented_code:literal)? => ($documented:literal, $aws:literal, $aws_code:literal), )*) => {
        /// An S3 error code the gateway can answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum S3ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl S3ErrorCode {
            /// Every code, for table tests and documentation.
            pub const ALL: &'static [S3ErrorCode] = &[$(S3ErrorCode::$variant,)*];

            /// The code's name in the documented profile.
            pub fn as_str(self) -> &'static str {
                match self { $(S3ErrorCode::$variant => stringify!($variant),)* }
            }

            /// HTTP status and wire code this code goes out as under `profile`.
            pub fn wire(self, profile: ErrorProfile) -> (u16, &'static str) {
                match (self, profile) {
                    $(
                        (S3ErrorCode::$variant, ErrorProfile::Documented) => ($documented, documented_code!($variant $($documented_code)?)),
                        (S3ErrorCode::$variant, ErrorProfile::Aws) => ($aws, $aws_code),
                    )*
                }
            }
        }
    };
}

s3_error_codes! {
    /// Operation classification failed or the request shape is unrecognised.
    InvalidRequest => (400, 400, "InvalidRequest"),
    /// An XML body did not parse.
    MalformedXML => (400, 400, "MalformedXML"),
    /// A parameter has an invalid value.
    InvalidArgument => (400, 400, "InvalidArgument"),
    /// The body does not hash to the signed `x-amz-content-sha256`.
    XAmzContentSHA256Mismatch => (400, 400, "XAmzContentSHA256Mismatch"),
    /// Content-MD5 or a checksum does not match the body.
    BadDigest => (400, 400, "BadDigest"),
    /// Content-MD5 or a checksum is not valid.
    InvalidDigest => (400, 400, "InvalidDigest"),
    /// The body ended before its declared length.
    IncompleteBody => (400, 400, "IncompleteBody"),
    /// The bucket name is not a valid S3 bucket name.
    InvalidBucketName => (400, 400, "InvalidBucketName"),
    /// The key is longer than 1024 bytes.
    KeyTooLongError => (400, 400, "KeyTooLongError"),
    /// The request URI could not be parsed.
    InvalidURI => (400, 400, "InvalidURI"),
    /// A part named in CompleteMultipartUpload is missing or its ETag differs.
    InvalidPart => (400, 400, "InvalidPart"),
    /// Parts in CompleteMultipartUpload are not in ascending order.
    InvalidPartOrder => (400, 400, "InvalidPartOrder"),
    /// A part other than the last is below the minimum part size.
    EntityTooSmall => (400, 400, "EntityTooSmall"),
    /// A tag set breaks S3's tagging rules.
    InvalidTag => (400, 400, "InvalidTag"),
    /// The `x-amz-meta-*` headers exceed 2 KiB.
    MetadataTooLarge => (400, 400, "MetadataTooLarge"),
    /// Too many request headers, or too many header bytes.
    RequestHeaderSectionTooLarge => (400, 400, "RequestHeaderSectionTooLarge"),
    /// A request's header section did not arrive within the deadline.
    RequestTimeout => (400, 400, "RequestTimeout"),
    /// A CORS preflight without `Origin`, or without a valid `Access-Control-Request-Method`.
    BadRequest => (400, 400, "BadRequest"),
    /// The body of a POST upload is not well-formed multipart/form-data.
    MalformedPOSTRequest => (400, 400, "MalformedPOSTRequest"),
    /// A POST upload's policy document does not parse.
    InvalidPolicyDocument => (400, 400, "InvalidPolicyDocument"),
    /// A POST upload's fields before the file exceed 20 KiB.
    MaxPostPreDataLengthExceeded => (400, 400, "MaxPostPreDataLengthExceeded"),
    /// A POST upload without a file.
    IncorrectNumberOfFilesInPostRequest => (400, 400, "IncorrectNumberOfFilesInPostRequest"),
    /// A POST upload's file exceeds its policy's `content-length-range` or
    /// S3's 5 GiB (400 in both profiles, unlike a bucket's hard cap).
    PostEntityTooLarge as "EntityTooLarge" => (400, 400, "EntityTooLarge"),
    /// The access key is unknown or disabled.
    InvalidAccessKeyId => (401, 403, "InvalidAccessKeyId"),
    /// The signature did not verify.
    SignatureDoesNotMatch => (401, 403, "SignatureDoesNotMatch"),
    /// The Authorization header or date did not parse (documented: 401 SignatureDoesNotMatch).
    AuthorizationHeaderMalformed as "SignatureDoesNotMatch" => (401, 400, "AuthorizationHeaderMalformed"),
    /// Authorization refused.
    AccessDenied => (403, 403, "AccessDenied"),
    /// The request date is outside the allowed clock skew.
    RequestTimeTooSkewed => (403, 403, "RequestTimeTooSkewed"),
    /// STS session credentials have expired.
    ExpiredToken => (403, 400, "ExpiredToken"),
    /// A CORS preflight that no CORS rule of the bucket allows.
    AccessForbidden => (403, 403, "AccessForbidden"),
    /// The bucket does not exist.
    NoSuchBucket => (404, 404, "NoSuchBucket"),
    /// The object does not exist.
    NoSuchKey => (404, 404, "NoSuchKey"),
    /// The multipart upload does not exist.
    NoSuchUpload => (404, 404, "NoSuchUpload"),
    /// The object version does not exist.
    NoSuchVersion => (404, 404, "NoSuchVersion"),
    /// CreateBucket of a bucket that already exists (and is the gateway's).
    BucketAlreadyOwnedByYou => (409, 409, "BucketAlreadyOwnedByYou"),
    /// CreateBucket of a name that is not available.
    BucketAlreadyExists => (409, 409, "BucketAlreadyExists"),
    /// DeleteBucket of a bucket that still holds objects.
    BucketNotEmpty => (409, 409, "BucketNotEmpty"),
    /// The bucket's state does not allow the request (an Object Lock
    /// configuration on a bucket created without Object Lock).
    InvalidBucketState => (409, 409, "InvalidBucketState"),
    /// GetObjectLockConfiguration on a bucket without Object Lock.
    ObjectLockConfigurationNotFoundError => (404, 404, "ObjectLockConfigurationNotFoundError"),
    /// A conditional CompleteMultipartUpload raced another write of the key.
    ConditionalRequestConflict => (409, 409, "ConditionalRequestConflict"),
    /// The bucket has no CORS rules (GetBucketCors).
    NoSuchCORSConfiguration => (404, 404, "NoSuchCORSConfiguration"),
    /// The bucket has no tags (GetBucketTagging).
    NoSuchTagSet => (404, 404, "NoSuchTagSet"),
    /// The method is not allowed on this resource.
    MethodNotAllowed => (405, 405, "MethodNotAllowed"),
    /// The content has not changed (304, no body).
    NotModified => (304, 304, "NotModified"),
    /// A streaming PUT had no length.
    MissingContentLength => (411, 411, "MissingContentLength"),
    /// A precondition failed.
    PreconditionFailed => (412, 412, "PreconditionFailed"),
    /// The range cannot be satisfied.
    InvalidRange => (416, 416, "InvalidRange"),
    /// A `partNumber` read of a part the object does not have.
    InvalidPartNumber => (416, 416, "InvalidPartNumber"),
    /// A rate limit was exceeded.
    SlowDown => (429, 503, "SlowDown"),
    /// Unrecoverable gateway or upstream failure.
    InternalError => (500, 500, "InternalError"),
    /// The bucket's backend cannot perform this operation.
    NotImplemented => (501, 501, "NotImplemented"),
    /// The upstream answered something unparseable.
    BadGateway => (502, 500, "InternalError"),
    /// The upstream is temporarily unavailable.
    ServiceUnavailable => (503, 503, "ServiceUnavailable"),
    /// The bucket's hard cap would be exceeded.
    EntityTooLarge => (507, 400, "EntityTooLarge"),
}

/// An S3 error answer: code, client-facing message, extra headers, and the
/// log-only detail of server errors.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Error {
    code: S3ErrorCode,
    message: String,
    headers: Vec<(&'static str, String)>,
    detail: Option<String>,
}

impl S3Error {
    /// An error with a descriptive message (replaced by the generic one on
    /// the wire for 5xx codes).
    pub fn new(code: S3ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            headers: Vec::new(),
            detail: None,
        }
    }

    /// A server error whose `detail` goes to the log only.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::new(S3ErrorCode::InternalError, GENERIC_SERVER_ERROR).with_detail(detail)
    }

    /// Attaches log-only detail.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// Adds a response header (e.g. `Retry-After`).
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The error code.
    pub fn code(&self) -> S3ErrorCode {
        self.code
    }

    /// The message as sent to the client under `profile`.
    pub fn wire_message(&self, profile: ErrorProfile) -> &str {
        if self.status(profile) >= 500 {
            GENERIC_SERVER_ERROR
        } else {
            &self.message
        }
    }

    /// The HTTP status under `profile`.
    pub fn status(&self, profile: ErrorProfile) -> u16 {
        self.code.wire(profile).0
    }

    /// Extra response headers.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    /// Log-only detail, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The `<Error>` document for this error.
    pub fn to_xml(
        &self,
        profile: ErrorProfile,
        bucket: Option<&str>,
        resource: &str,
        request_id: &str,
    ) -> String {
        let (_, code) = self.code.wire(profile);
        crate::xml::error_document(
            code,
            self.wire_message(profile),
            bucket,
            resource,
            request_id,
        )
    }
}

impl fmt::Debug for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Error")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("detail", &self.detail)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for S3Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorProfile::{Aws, Documented};
    use S3ErrorCode as C;

    /// The documented error table (`docs/errors.md`), row by row:
    /// code, documented status, aws status, aws wire code.
    const TABLE: &[(C, u16, &str, u16, &str)] = &[
        (
            C::InvalidRequest,
            400,
            "InvalidRequest",
            400,
            "InvalidRequest",
        ),
        (C::MalformedXML, 400, "MalformedXML", 400, "MalformedXML"),
        (
            C::InvalidArgument,
            400,
            "InvalidArgument",
            400,
            "InvalidArgument",
        ),
        (
            C::XAmzContentSHA256Mismatch,
            400,
            "XAmzContentSHA256Mismatch",
            400,
            "XAmzContentSHA256Mismatch",
        ),
        (C::BadDigest, 400, "BadDigest", 400, "BadDigest"),
        (C::InvalidDigest, 400, "InvalidDigest", 400, "InvalidDigest"),
        (
            C::InvalidAccessKeyId,
            401,
            "InvalidAccessKeyId",
            403,
            "InvalidAccessKeyId",
        ),
        (
            C::SignatureDoesNotMatch,
            401,
            "SignatureDoesNotMatch",
            403,
            "SignatureDoesNotMatch",
        ),
        (
            C::AuthorizationHeaderMalformed,
            401,
            "SignatureDoesNotMatch",
            400,
            "AuthorizationHeaderMalformed",
        ),
        (C::AccessDenied, 403, "AccessDenied", 403, "AccessDenied"),
        (
            C::RequestTimeTooSkewed,
            403,
            "RequestTimeTooSkewed",
            403,
            "RequestTimeTooSkewed",
        ),
        (C::ExpiredToken, 403, "ExpiredToken", 400, "ExpiredToken"),
        (C::NoSuchBucket, 404, "NoSuchBucket", 404, "NoSuchBucket"),
        (C::NoSuchKey, 404, "NoSuchKey", 404, "NoSuchKey"),
        (C::NoSuchUpload, 404, "NoSuchUpload", 404, "NoSuchUpload"),
        (C::NotModified, 304, "NotModified", 304, "NotModified"),
        (
            C::MissingContentLength,
            411,
            "MissingContentLength",
            411,
            "MissingContentLength",
        ),
        (
            C::PreconditionFailed,
            412,
            "PreconditionFailed",
            412,
            "PreconditionFailed",
        ),
        (C::InvalidRange, 416, "InvalidRange", 416, "InvalidRange"),
        (C::SlowDown, 429, "SlowDown", 503, "SlowDown"),
        (C::InternalError, 500, "InternalError", 500, "InternalError"),
        (
            C::NotImplemented,
            501,
            "NotImplemented",
            501,
            "NotImplemented",
        ),
        (C::BadGateway, 502, "BadGateway", 500, "InternalError"),
        (
            C::ServiceUnavailable,
            503,
            "ServiceUnavailable",
            503,
            "ServiceUnavailable",
        ),
        (
            C::EntityTooLarge,
            507,
            "EntityTooLarge",
            400,
            "EntityTooLarge",
        ),
    ];

    #[test]
    fn every_documented_row_renders_in_both_profiles() {
        for &(code, doc_status, doc_code, aws_status, aws_code) in TABLE {
            assert_eq!(
                code.wire(Documented),
                (doc_status, doc_code),
                "{code:?} documented"
            );
            assert_eq!(code.wire(Aws), (aws_status, aws_code), "{code:?} aws");
        }
    }

    #[test]
    fn codes_outside_the_table_keep_their_aws_status_in_both_profiles() {
        for &code in C::ALL {
            if TABLE.iter().any(|row| row.0 == code) {
                continue;
            }
            assert_eq!(code.wire(Documented), code.wire(Aws), "{code:?}");
            assert!(code.wire(Aws).0 < 500, "{code:?} is a client error");
        }
    }

    #[test]
    fn server_errors_are_generic_on_the_wire() {
        let err = S3Error::new(C::ServiceUnavailable, "upstream s3.internal:9000 refused")
            .with_detail("connect refused");
        for profile in [Documented, Aws] {
            assert_eq!(err.wire_message(profile), GENERIC_SERVER_ERROR);
            let xml = err.to_xml(profile, Some("b"), "/b/k", "rid");
            assert!(!xml.contains("s3.internal"), "{xml}");
            assert!(!xml.contains("refused"), "{xml}");
        }
        let client = S3Error::new(C::NoSuchKey, "the object does not exist");
        assert_eq!(client.wire_message(Aws), "the object does not exist");
    }

    #[test]
    fn error_document_has_the_documented_shape() {
        let err = S3Error::new(C::AccessDenied, "key <a&b> \"denied\"");
        let xml = err.to_xml(Documented, Some("my-bucket"), "/my-bucket/a&b", "17b1c8a3");
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            "{xml}"
        );
        for part in [
            "<Error>",
            "<Code>AccessDenied</Code>",
            "<Message>key &lt;a&amp;b&gt; &quot;denied&quot;</Message>",
            "<BucketName>my-bucket</BucketName>",
            "<Resource>/my-bucket/a&amp;b</Resource>",
            "<RequestId>17b1c8a3</RequestId>",
            "</Error>",
        ] {
            assert!(xml.contains(part), "missing {part} in {xml}");
        }
        let no_bucket = err.to_xml(Documented, None, "/", "r");
        assert!(!no_bucket.contains("BucketName"), "{no_bucket}");
    }
}
