//! Headers to and from the upstream: the typed options written as S3
//! request headers, and object metadata read back from response headers.

use std::collections::BTreeMap;
use std::time::SystemTime;

use cedargate_s3::header_text;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::not_s3::not_s3;
use super::xml::unquote_etag;
use crate::{BackendError, BackendResult, ByteRange, Conditions, ObjectHeaders, ObjectMeta};

/// The content type S3 reports for objects stored without one; read back
/// as "no content type", which the gateway renders the same way.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// Request headers under construction.
#[derive(Debug, Default)]
pub(super) struct Headers(pub Vec<(HeaderName, HeaderValue)>);

impl Headers {
    /// Adds a header, refusing names and values HTTP cannot carry.
    pub fn add(&mut self, name: &str, value: &str) -> BackendResult<()> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| BackendError::invalid_argument("a header name cannot be sent"))?;
        // Non-ASCII text goes as UTF-8, the way S3 reads header values.
        let value = HeaderValue::from_bytes(value.as_bytes())
            .map_err(|_| BackendError::invalid_argument("a header value cannot be sent"))?;
        self.0.push((name, value));
        Ok(())
    }

    /// Removes every value of header `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(header, _)| header.as_str() != name);
    }

    /// Adds a header when `value` is set.
    pub fn add_opt(&mut self, name: &str, value: Option<&str>) -> BackendResult<()> {
        match value {
            Some(value) => self.add(name, value),
            None => Ok(()),
        }
    }

    /// The standard headers and user metadata of a write.
    pub fn object(
        &mut self,
        headers: &ObjectHeaders,
        metadata: &BTreeMap<String, String>,
    ) -> BackendResult<()> {
        self.add_opt("content-type", headers.content_type.as_deref())?;
        self.add_opt("content-encoding", headers.content_encoding.as_deref())?;
        self.add_opt(
            "content-disposition",
            headers.content_disposition.as_deref(),
        )?;
        self.add_opt("content-language", headers.content_language.as_deref())?;
        self.add_opt("cache-control", headers.cache_control.as_deref())?;
        self.add_opt("expires", headers.expires.as_deref())?;
        for (name, value) in &headers.storage {
            if crate::is_storage_header(name) && name != "x-amz-tagging-count" {
                if name == "x-amz-tagging" {
                    crate::tagging::parse_header(value)?;
                }
                self.add(name, value)?;
            }
        }
        for (name, value) in metadata {
            self.add(&format!("x-amz-meta-{}", name.to_ascii_lowercase()), value)?;
        }
        Ok(())
    }

    /// The storage headers a CopyObject applies whatever its metadata
    /// directive (storage class, encryption, website redirect, ACL, object
    /// lock): all but tagging, which follows `x-amz-tagging-directive`.
    pub fn copy_storage(&mut self, headers: &ObjectHeaders) -> BackendResult<()> {
        for (name, value) in &headers.storage {
            if crate::is_storage_header(name) && !name.starts_with("x-amz-tagging") {
                self.add(name, value)?;
            }
        }
        Ok(())
    }

    /// The SSE-C headers of a read.
    pub fn sse_customer(&mut self, headers: &BTreeMap<String, String>) -> BackendResult<()> {
        for (name, value) in headers {
            if name.starts_with("x-amz-server-side-encryption-customer-") {
                self.add(name, value)?;
            }
        }
        Ok(())
    }

    /// `x-amz-checksum-<algorithm>` (and the algorithm's name).
    pub fn checksum(&mut self, checksum: &crate::ObjectChecksum) -> BackendResult<()> {
        self.add(&checksum.header_name(), checksum.digest())?;
        // Some S3-compatible servers store a checksum only when told its
        // algorithm this way, as SDKs do.
        if let Some(algorithm) = checksum.algorithm() {
            self.add("x-amz-sdk-checksum-algorithm", algorithm.as_str())?;
        }
        Ok(())
    }

    /// `Content-MD5` when given.
    pub fn content_md5(&mut self, md5: Option<&[u8; 16]>) -> BackendResult<()> {
        use base64::Engine;
        match md5 {
            Some(md5) => self.add(
                "content-md5",
                &base64::engine::general_purpose::STANDARD.encode(md5),
            ),
            None => Ok(()),
        }
    }

    /// Preconditions as `If-*` (prefix `""`) or `x-amz-copy-source-if-*`
    /// (prefix `"x-amz-copy-source-"`). ETag lists of more than one entry
    /// are left out (see [`forwardable`]); dates are HTTP dates.
    pub fn conditions(&mut self, conditions: &Conditions, prefix: &str) -> BackendResult<()> {
        let etags = [
            ("if-match", &conditions.if_match),
            ("if-none-match", &conditions.if_none_match),
        ];
        for (name, list) in etags {
            if let Some(value) = list.as_deref().and_then(forwardable) {
                self.add(&format!("{prefix}{name}"), &value)?;
            }
        }
        let dates = [
            ("if-modified-since", conditions.if_modified_since),
            ("if-unmodified-since", conditions.if_unmodified_since),
        ];
        for (name, time) in dates {
            if let Some(time) = time {
                self.add(&format!("{prefix}{name}"), &httpdate::fmt_http_date(time))?;
            }
        }
        Ok(())
    }
}

/// An ETag condition as sent upstream: `*`, or one ETag, quoted. Lists of
/// several ETags are not sent (not every S3-compatible server parses
/// them); the backend evaluates them on the answer's metadata instead.
pub(super) fn forwardable(list: &str) -> Option<String> {
    let list = list.trim();
    if list == "*" {
        return Some("*".to_owned());
    }
    if list.contains(',') || list.is_empty() {
        return None;
    }
    Some(format!("\"{}\"", unquote_etag(list)))
}

/// A `Range` (or `x-amz-copy-source-range`) value.
pub(super) fn range_value(range: &ByteRange) -> String {
    match *range {
        ByteRange::FromTo {
            first,
            last: Some(last),
        } => format!("bytes={first}-{last}"),
        ByteRange::FromTo { first, last: None } => format!("bytes={first}-"),
        ByteRange::Suffix(n) => format!("bytes=-{n}"),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The ETag header, unquoted.
pub(super) fn etag_header(headers: &HeaderMap) -> Option<String> {
    header(headers, "etag").map(unquote_etag)
}

/// The Last-Modified header.
pub(super) fn last_modified(headers: &HeaderMap) -> Option<SystemTime> {
    header(headers, "last-modified").and_then(|v| httpdate::parse_http_date(v).ok())
}

/// `Content-Range: bytes first-last/total` as `(first, last, total)`.
pub(super) fn content_range(headers: &HeaderMap) -> Option<(u64, u64, u64)> {
    let spec = header(headers, "content-range")?
        .trim()
        .strip_prefix("bytes ")?;
    let (range, total) = spec.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    Some((
        first.trim().parse().ok()?,
        last.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

/// The size in `Content-Range: bytes */size` (a 416 answer).
pub(super) fn unsatisfied_range_size(headers: &HeaderMap) -> Option<u64> {
    let spec = header(headers, "content-range")?
        .trim()
        .strip_prefix("bytes ")?;
    spec.strip_prefix("*/")?.trim().parse().ok()
}

/// The Content-Length header.
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    header(headers, "content-length").and_then(|v| v.trim().parse().ok())
}

/// Object metadata from the headers of a GET or HEAD answer. The size is
/// the total of `Content-Range` on a 206, else `Content-Length`.
pub(super) fn object_meta(
    key: &str,
    status: u16,
    headers: &HeaderMap,
) -> BackendResult<ObjectMeta> {
    let size = if status == 206 {
        content_range(headers).map(|(_, _, total)| total)
    } else {
        content_length(headers)
    }
    .ok_or_else(|| not_s3("an object answer has no usable length"))?;
    let etag = etag_header(headers).ok_or_else(|| not_s3("an object answer has no ETag"))?;
    let last_modified =
        last_modified(headers).ok_or_else(|| not_s3("an object answer has no Last-Modified"))?;
    let text = |name| header(headers, name).map(str::to_owned);
    let object_headers = ObjectHeaders {
        content_type: text("content-type").filter(|t| t != DEFAULT_CONTENT_TYPE),
        content_encoding: text("content-encoding"),
        content_disposition: text("content-disposition"),
        content_language: text("content-language"),
        cache_control: text("cache-control"),
        expires: text("expires"),
        storage: headers
            .iter()
            .filter(|(name, _)| {
                crate::is_storage_header(name.as_str())
                    // SSE-C keys are never echoed; AWS answers only their MD5.
                    && name.as_str() != "x-amz-server-side-encryption-customer-key"
                    && name.as_str() != "x-amz-acl"
            })
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
    };
    let user_metadata = headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), header_text::decode(value.as_bytes())))
        })
        .collect();
    let parts_count = header(headers, "x-amz-mp-parts-count").and_then(|v| v.parse().ok());
    Ok(ObjectMeta {
        key: key.to_owned(),
        size,
        etag,
        last_modified,
        headers: object_headers,
        user_metadata,
        parts_count,
        version_id: version_id(headers),
        checksum: checksum_headers(headers),
    })
}

/// The `x-amz-checksum-<algorithm>` and `x-amz-checksum-type` headers of an
/// answer (a FULL_OBJECT checksum when the type is not given).
pub(super) fn checksum_headers(headers: &HeaderMap) -> Option<crate::ObjectChecksum> {
    let (algorithm, value) = headers.iter().find_map(|(name, value)| {
        let algorithm = crate::ChecksumAlgorithm::from_header_name(name.as_str())?;
        Some((algorithm, value.to_str().ok()?.trim().to_owned()))
    })?;
    let checksum_type = header(headers, "x-amz-checksum-type")
        .and_then(crate::ChecksumType::parse)
        .unwrap_or_default();
    Some(crate::ObjectChecksum {
        algorithm: algorithm.lowercase_name().to_owned(),
        value,
        checksum_type,
    })
}

/// The version a write made, from its answer's `x-amz-version-id`. A
/// `null` is not relayed: S3 names it only in suspended buckets, where it
/// tells a client nothing, while some S3 servers name it in unversioned
/// buckets too, whose objects they then refuse to read by `versionId=null`.
pub(super) fn written_version_id(headers: &HeaderMap) -> Option<String> {
    version_id(headers).filter(|id| id != "null")
}

/// `x-amz-version-id`, when the answer names a version.
pub(super) fn version_id(headers: &HeaderMap) -> Option<String> {
    header(headers, "x-amz-version-id")
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Whether the answer says `x-amz-delete-marker: true`.
pub(super) fn delete_marker(headers: &HeaderMap) -> bool {
    header(headers, "x-amz-delete-marker").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// What a DeleteObject answer says it did.
pub(super) fn delete_output(headers: &HeaderMap) -> crate::DeleteOutput {
    crate::DeleteOutput {
        version_id: version_id(headers),
        delete_marker: delete_marker(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn non_ascii_metadata_from_the_upstream_is_kept() {
        let mut headers = map(&[
            ("content-length", "0"),
            ("etag", "\"e\""),
            ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("x-amz-meta-encoded", "=?UTF-8?B?5pel5pys?="),
        ]);
        let table: &[(&str, &[u8], &str)] = &[
            ("x-amz-meta-latin", b"Hello World\xe9", "Hello World\u{e9}"),
            (
                "x-amz-meta-utf8",
                b"Hello World\xc3\xa9",
                "Hello World\u{e9}",
            ),
        ];
        for (name, bytes, _) in table {
            headers.append(*name, HeaderValue::from_bytes(bytes).unwrap());
        }
        let meta = object_meta("k", 200, &headers).unwrap();
        for (name, _, text) in table {
            let short = name.trim_start_matches("x-amz-meta-");
            assert_eq!(meta.user_metadata[short], *text, "{name}");
        }
        assert_eq!(meta.user_metadata["encoded"], "=?UTF-8?B?5pel5pys?=");
    }

    #[test]
    fn metadata_is_read_from_headers() {
        let headers = map(&[
            ("content-length", "5"),
            ("content-range", "bytes 2-6/10"),
            ("etag", "\"abc\""),
            ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("content-type", "text/plain"),
            ("cache-control", "max-age=60"),
            ("x-amz-meta-color", "blue"),
            ("x-amz-meta-shape", "round and flat"),
            ("x-amz-mp-parts-count", "3"),
            ("x-amz-request-id", "r"),
        ]);
        let meta = object_meta("k", 206, &headers).unwrap();
        assert_eq!(meta.size, 10, "the whole object's size");
        assert_eq!(meta.etag, "abc");
        assert_eq!(
            meta.last_modified,
            UNIX_EPOCH + Duration::from_secs(1_445_412_480)
        );
        assert_eq!(meta.headers.content_type.as_deref(), Some("text/plain"));
        assert_eq!(meta.headers.cache_control.as_deref(), Some("max-age=60"));
        assert_eq!(meta.user_metadata.len(), 2);
        assert_eq!(meta.user_metadata["shape"], "round and flat");
        assert_eq!(meta.parts_count, Some(3));
        assert_eq!(object_meta("k", 200, &headers).unwrap().size, 5);
        let default_type = map(&[
            ("content-length", "0"),
            ("etag", "\"e\""),
            ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("content-type", "binary/octet-stream"),
        ]);
        assert_eq!(
            object_meta("k", 200, &default_type)
                .unwrap()
                .headers
                .content_type,
            None
        );
        let no_etag = map(&[("content-length", "0")]);
        assert!(matches!(
            object_meta("k", 200, &no_etag),
            Err(BackendError::BadGateway(_))
        ));
    }

    #[test]
    fn conditions_and_ranges_are_written() {
        let mut headers = Headers::default();
        let conditions = Conditions {
            if_match: Some("abc".into()),
            if_none_match: Some("\"x\", \"y\"".into()),
            if_modified_since: Some(UNIX_EPOCH + Duration::from_secs(1_445_412_480)),
            if_unmodified_since: None,
        };
        headers
            .conditions(&conditions, "x-amz-copy-source-")
            .unwrap();
        let written: Vec<(String, String)> = headers
            .0
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            written,
            [
                ("x-amz-copy-source-if-match".into(), "\"abc\"".into()),
                (
                    "x-amz-copy-source-if-modified-since".into(),
                    "Wed, 21 Oct 2015 07:28:00 GMT".into()
                ),
            ]
        );
        assert_eq!(forwardable("*").as_deref(), Some("*"));
        assert_eq!(forwardable("W/\"e\"").as_deref(), Some("\"e\""));
        let ranges = [
            (
                ByteRange::FromTo {
                    first: 0,
                    last: Some(4),
                },
                "bytes=0-4",
            ),
            (
                ByteRange::FromTo {
                    first: 5,
                    last: None,
                },
                "bytes=5-",
            ),
            (ByteRange::Suffix(3), "bytes=-3"),
        ];
        for (range, value) in ranges {
            assert_eq!(range_value(&range), value);
        }
        assert_eq!(
            unsatisfied_range_size(&map(&[("content-range", "bytes */10")])),
            Some(10)
        );
        let mut bad = Headers::default();
        assert!(bad.add("x-amz-meta-x", "line\nbreak").is_err());
        assert!(bad.add("bad name", "v").is_err());
    }
}
