//! What a stored object is: its metadata, the headers stored with it and
//! its checksum.

use std::collections::BTreeMap;
use std::time::SystemTime;

pub use cedargate_s3::body::checksum::ChecksumAlgorithm;
pub use cedargate_s3::body::multipart_checksum::ChecksumType;

/// The standard HTTP headers S3 stores with an object and returns on reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectHeaders {
    /// `Content-Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `Content-Encoding` (without `aws-chunked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// `Cache-Control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// `Expires`, kept as the client sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// S3 storage headers, by lowercase name: the ones named by
    /// [`STORAGE_HEADERS`] and [`STORAGE_HEADER_PREFIXES`] (server-side
    /// encryption, storage class, tagging, object lock...). A backend that
    /// cannot honour one answers `NotImplemented` rather than ignore it;
    /// one that can returns them on reads.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<String, String>,
}

/// S3 request and response headers about how an object is stored, passed
/// between clients and the backends that can honour them.
pub const STORAGE_HEADERS: &[&str] = &[
    "x-amz-storage-class",
    "x-amz-tagging",
    "x-amz-tagging-count",
    "x-amz-website-redirect-location",
    "x-amz-acl",
];

/// Prefixes of the same kind: SSE and SSE-C (`x-amz-server-side-encryption*`),
/// object lock (`x-amz-object-lock-*`).
pub const STORAGE_HEADER_PREFIXES: &[&str] =
    &["x-amz-server-side-encryption", "x-amz-object-lock-"];

/// Whether `name` (lowercase) is a storage header.
pub fn is_storage_header(name: &str) -> bool {
    STORAGE_HEADERS.contains(&name) || STORAGE_HEADER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Everything known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Content length in bytes.
    pub size: u64,
    /// ETag without quotes (`md5hex` or `md5hex-N`).
    pub etag: String,
    /// Last modification time.
    pub last_modified: SystemTime,
    /// Standard headers stored with the object.
    pub headers: ObjectHeaders,
    /// User metadata: names lowercase, without the `x-amz-meta-` prefix.
    pub user_metadata: BTreeMap<String, String>,
    /// Number of parts for objects created by a multipart upload.
    pub parts_count: Option<u32>,
    /// The version this is (`null` for the null version), in a bucket
    /// whose versioning was ever enabled; `None` otherwise.
    pub version_id: Option<String>,
    /// The checksum stored with the object, when it has one.
    pub checksum: Option<ObjectChecksum>,
}

/// A checksum of an object or a part: `x-amz-checksum-<algorithm>: <value>`
/// with its `x-amz-checksum-type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChecksum {
    /// The algorithm as S3 spells it in header names, lowercase (`crc32`,
    /// `crc32c`, `crc64nvme`, `sha1`, `sha256`).
    pub algorithm: String,
    /// The base64 digest, as HeadObject shows it: a COMPOSITE checksum ends
    /// with `-N`, the part count.
    pub value: String,
    /// FULL_OBJECT (the digest of the content; every part's and every
    /// single write's) or COMPOSITE (multipart, the digest of the part
    /// digests).
    pub checksum_type: ChecksumType,
}

impl ObjectChecksum {
    /// A FULL_OBJECT checksum of `algorithm`.
    pub fn full_object(algorithm: ChecksumAlgorithm, value: impl Into<String>) -> Self {
        Self {
            algorithm: algorithm.lowercase_name().to_owned(),
            value: value.into(),
            checksum_type: ChecksumType::FullObject,
        }
    }

    /// The header that carries it.
    pub fn header_name(&self) -> String {
        format!("x-amz-checksum-{}", self.algorithm)
    }

    /// The algorithm, when it is one S3 defines.
    pub fn algorithm(&self) -> Option<ChecksumAlgorithm> {
        ChecksumAlgorithm::from_name(&self.algorithm)
    }

    /// The digest without a COMPOSITE checksum's `-N` (as
    /// GetObjectAttributes and part listings show it).
    pub fn digest(&self) -> &str {
        self.value
            .split_once('-')
            .map_or(self.value.as_str(), |(digest, _)| digest)
    }
}
