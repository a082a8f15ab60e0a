//! The request as the stages after *classify* see it: method, route, query,
//! headers and operation, with helpers that turn S3 request headers into
//! the typed options backends take.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine;
use cedargate_backends::{ByteRange, Conditions, ObjectChecksum, ObjectHeaders};
use http::{HeaderMap, Method};

use cedargate_s3::body::checksum::ChecksumAlgorithm;
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::query::Query;
use cedargate_s3::route::Route;
use cedargate_s3::xml::{AclSubject, CannedAcl};

/// Largest total size of `x-amz-meta-*` names and values, as in S3.
const MAX_USER_METADATA_BYTES: usize = 2048;

/// A routed, classified S3 request (without its body).
#[derive(Debug, Clone)]
pub struct S3Request {
    /// HTTP method.
    pub method: Method,
    /// Bucket and key.
    pub route: Route,
    /// Decoded query parameters.
    pub query: Query,
    /// Request headers.
    pub headers: HeaderMap,
    /// The AWS operation.
    pub operation: S3Operation,
    /// The request path as sent (for signature checks and `Resource` in errors).
    pub raw_path: String,
    /// The query string as sent, without `?` (for signature checks).
    pub raw_query: String,
}

impl S3Request {
    /// A header's value as text; `None` when absent or not visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The client-facing bucket name.
    pub fn bucket(&self) -> Result<&str, S3Error> {
        self.route
            .bucket
            .as_deref()
            .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidRequest, "the request names no bucket"))
    }

    /// The object key.
    pub fn key(&self) -> Result<&str, S3Error> {
        self.route
            .key
            .as_deref()
            .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidRequest, "the request names no key"))
    }

    /// A query parameter parsed as an integer within `range`, or
    /// InvalidArgument naming it.
    pub fn query_number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, S3Error> {
        let Some(text) = self.query.get(name) else {
            return Ok(None);
        };
        match text.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!(
                    "`{name}` must be an integer between {} and {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// The listing parameters every list operation shares: `prefix` (empty
    /// when absent), `delimiter` (`None` when absent or empty) and whether
    /// `encoding-type=url` was asked for (any other value is InvalidArgument).
    pub fn listing_params(&self) -> Result<(String, Option<String>, bool), S3Error> {
        let encode_url = match self.query.get("encoding-type") {
            None => false,
            Some("url") => true,
            Some(_) => {
                return Err(S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "invalid encoding method specified in request, `encoding-type` must be `url`",
                ));
            }
        };
        let prefix = self.query.get("prefix").unwrap_or_default().to_owned();
        let delimiter = self
            .query
            .get("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        Ok((prefix, delimiter, encode_url))
    }

    /// The declared body length (`x-amz-decoded-content-length` for
    /// aws-chunked bodies, else `Content-Length`).
    pub fn content_length(&self) -> Result<Option<u64>, S3Error> {
        let value = self
            .header("x-amz-decoded-content-length")
            .or_else(|| self.header("content-length"));
        value
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    S3Error::new(
                        S3ErrorCode::InvalidArgument,
                        "the content length is not a number",
                    )
                })
            })
            .transpose()
    }

    /// `Content-MD5`, decoded; InvalidDigest when it is not 16 base64 bytes.
    pub fn content_md5(&self) -> Result<Option<[u8; 16]>, S3Error> {
        let Some(value) = self.headers.get("content-md5") else {
            return Ok(None);
        };
        base64::engine::general_purpose::STANDARD
            .decode(value.as_bytes())
            .ok()
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .map(Some)
            .ok_or_else(|| {
                S3Error::new(
                    S3ErrorCode::InvalidDigest,
                    "the Content-MD5 you specified is not valid",
                )
            })
    }

    /// The `x-amz-checksum-<algorithm>` header of a write, when the client
    /// sent its checksum as a header (not as a trailer). The body plan has
    /// already refused more than one, and values that are not base64 of
    /// the algorithm's digest length.
    pub fn checksum(&self) -> Option<ObjectChecksum> {
        self.headers.iter().find_map(|(name, value)| {
            let algorithm = ChecksumAlgorithm::from_header_name(name.as_str())?;
            Some(ObjectChecksum::full_object(
                algorithm,
                value.to_str().ok()?.trim(),
            ))
        })
    }

    /// The standard object headers sent with a write.
    pub fn object_headers(&self) -> ObjectHeaders {
        let get = |name| self.header(name).map(str::to_owned);
        ObjectHeaders {
            content_type: get("content-type"),
            content_encoding: cedargate_s3::body::stored_content_encoding(&self.headers),
            content_disposition: get("content-disposition"),
            content_language: get("content-language"),
            cache_control: get("cache-control"),
            expires: get("expires"),
            storage: self
                .headers
                .iter()
                .filter(|(name, _)| cedargate_backends::is_storage_header(name.as_str()))
                .map(|(name, value)| {
                    let value = cedargate_s3::header_text::decode(value.as_bytes());
                    (name.as_str().to_owned(), value)
                })
                .collect(),
        }
    }

    /// `x-amz-meta-*` headers (names lowercase, prefix removed), capped at 2 KiB.
    pub fn user_metadata(&self) -> Result<BTreeMap<String, String>, S3Error> {
        let mut metadata = BTreeMap::new();
        let mut total = 0;
        for (name, value) in &self.headers {
            let Some(short) = name.as_str().strip_prefix("x-amz-meta-") else {
                continue;
            };
            let value = cedargate_s3::header_text::decode(value.as_bytes());
            total += short.len() + value.len();
            metadata.insert(short.to_owned(), value);
        }
        if total > MAX_USER_METADATA_BYTES {
            return Err(S3Error::new(
                S3ErrorCode::MetadataTooLarge,
                "your metadata headers exceed the maximum allowed metadata size of 2 KiB",
            ));
        }
        Ok(metadata)
    }

    /// Preconditions from `If-*` headers, or from `x-amz-copy-source-if-*`
    /// when `prefix` is `"x-amz-copy-source-"`. Unparseable dates are
    /// ignored, as S3 does.
    pub fn conditions(&self, prefix: &str) -> Conditions {
        let get = |name: &str| self.header(&format!("{prefix}{name}")).map(str::to_owned);
        let date = |name: &str| get(name).and_then(|v| parse_http_date(&v));
        Conditions {
            if_match: get("if-match"),
            if_none_match: get("if-none-match"),
            if_modified_since: date("if-modified-since"),
            if_unmodified_since: date("if-unmodified-since"),
        }
    }

    /// The `Range` header, when it is a single satisfiable-looking range.
    pub fn range(&self) -> Option<ByteRange> {
        self.header("range").and_then(ByteRange::parse)
    }
}

/// A parsed `x-amz-copy-source`: client-facing bucket and key.
#[derive(Debug, Clone)]
pub struct CopySource {
    /// The client-facing source bucket.
    pub bucket: String,
    /// The source key.
    pub key: String,
    /// The source version (`?versionId=`), when one is named.
    pub version_id: Option<String>,
}

/// Parses `x-amz-copy-source` (`bucket/key` or `/bucket/key`, URL-encoded,
/// optionally `?versionId=<id>`).
pub fn copy_source(request: &S3Request) -> Result<CopySource, S3Error> {
    let invalid = |message: &str| S3Error::new(S3ErrorCode::InvalidArgument, message.to_owned());
    let raw = request
        .header("x-amz-copy-source")
        .ok_or_else(|| invalid("the x-amz-copy-source header is missing"))?;
    let (path, version) = match raw.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (raw, None),
    };
    let version_id = match version.map(|query| query.split_once('=')) {
        None => None,
        Some(Some(("versionId", id))) => {
            let id = percent_encoding::percent_decode_str(id)
                .decode_utf8()
                .map_err(|_| invalid("the copy source version id is not valid UTF-8"))?;
            check_version_id(&id)?;
            Some(id.into_owned())
        }
        Some(_) => {
            return Err(invalid(
                "the copy source may only name a version (`?versionId=`)",
            ));
        }
    };
    let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| invalid("the copy source is not valid UTF-8"))?;
    match decoded.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(CopySource {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id,
        }),
        _ => Err(invalid("the copy source must be of the form `bucket/key`")),
    }
}

/// Refuses a version id no backend could have given: empty, or longer
/// than S3's 1024 bytes (InvalidArgument, as S3 answers).
pub fn check_version_id(version_id: &str) -> Result<(), S3Error> {
    if version_id.is_empty() || version_id.len() > 1024 {
        return Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "invalid version id specified",
        ));
    }
    Ok(())
}

/// The request's `versionId` parameter, checked.
pub fn version_id(request: &S3Request) -> Result<Option<&str>, S3Error> {
    match request.query.get("versionId") {
        Some(version_id) => check_version_id(version_id).map(|()| Some(version_id)),
        None => Ok(None),
    }
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

/// The canned ACL of the request's one `x-amz-acl` header, as `subject`
/// takes it (`bucket-owner-*` on a bucket is `private`): more than one
/// header, or a value that is not exactly a canned ACL's name, is refused
/// (InvalidArgument), so that what policies decide on and what is stored
/// are the same ACL.
pub fn acl_header(request: &S3Request, subject: AclSubject) -> Result<Option<CannedAcl>, S3Error> {
    let mut values = request.headers.get_all("x-amz-acl").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(S3Error::new(
            S3ErrorCode::InvalidArgument,
            "the x-amz-acl header must be given once",
        ));
    }
    let name = first.to_str().unwrap_or_default();
    CannedAcl::for_subject(name, subject)
        .map(Some)
        .map_err(|invalid| S3Error::new(S3ErrorCode::InvalidArgument, invalid.to_string()))
}

/// Parses an HTTP date in any of the three formats RFC 9110 allows.
pub fn parse_http_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value.trim()).ok()
}
