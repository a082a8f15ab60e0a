//! Options and results exchanged with a [`crate::Backend`].

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::{
    ByteRange, ByteStream, ChecksumAlgorithm, ChecksumType, Conditions, ObjectChecksum,
    ObjectHeaders, ObjectMeta,
};

/// Details of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// When the bucket was created, where the backend knows it.
    pub created: Option<SystemTime>,
}

/// A bucket as ListBuckets shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSummary {
    /// The backend's name for the bucket.
    pub name: String,
    /// When the bucket was created, where the backend knows it.
    pub created: Option<SystemTime>,
}

/// A bucket's versioning state (GetBucketVersioning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VersioningStatus {
    /// Versioning was never enabled: every object is version `null`.
    #[default]
    Unversioned,
    /// Versioning is on.
    Enabled,
    /// Versioning was on and is suspended.
    Suspended,
}

impl VersioningStatus {
    /// The status as PutBucketVersioning and GetBucketVersioning spell it
    /// (`Enabled`, `Suspended`); `None` for a bucket never versioned.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Self::Unversioned => None,
            Self::Enabled => Some("Enabled"),
            Self::Suspended => Some("Suspended"),
        }
    }
}

/// What a delete did, as DeleteObject answers it (`x-amz-version-id`,
/// `x-amz-delete-marker`) and DeleteObjects reports it (`VersionId`,
/// `DeleteMarker`, `DeleteMarkerVersionId`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutput {
    /// The version removed (a delete by version id) or the delete marker
    /// created (a delete without one in a versioned bucket); `None` in a
    /// bucket never versioned.
    pub version_id: Option<String>,
    /// Whether a delete marker was created, or the version removed was one.
    pub delete_marker: bool,
}

/// An object's tags, by key (S3 allows at most 10, keys unique).
pub type TagSet = BTreeMap<String, String>;

/// An object addressed by the backend's bucket name and the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// Backend bucket name.
    pub bucket: &'a str,
    /// Object key.
    pub key: &'a str,
}

/// One object of a batch delete (S3's `ObjectIdentifier`): its key and,
/// optionally, the version to delete, with DeleteObject's meaning of
/// `versionId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectIdentifier {
    /// Object key.
    pub key: String,
    /// The version to delete; `None` deletes as DeleteObject without one.
    pub version_id: Option<String>,
}

impl ObjectIdentifier {
    /// The object `key`, without a version.
    pub fn key(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            version_id: None,
        }
    }
}

/// A multipart upload addressed by bucket, key and upload id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRef<'a> {
    /// Backend bucket name.
    pub bucket: &'a str,
    /// Object key the upload will create.
    pub key: &'a str,
    /// The id returned by [`crate::Backend::create_multipart_upload`].
    pub upload_id: &'a str,
}

/// Options for reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// The requested range, if any.
    pub range: Option<ByteRange>,
    /// Preconditions (If-Match and friends).
    pub conditions: Conditions,
    /// SSE-C headers (`x-amz-server-side-encryption-customer-*`) needed to
    /// read an object encrypted with a customer key.
    pub sse_customer: BTreeMap<String, String>,
    /// The version to read (`versionId`); `None` reads the current one. In
    /// an unversioned bucket only `null` names a version.
    pub version_id: Option<String>,
    /// Read one part (`partNumber`) of an object created by a multipart
    /// upload: the answer's range is the part's. Part 1 of any other
    /// object is the whole object; other numbers are InvalidPartNumber.
    /// Never given with `range`.
    pub part_number: Option<u32>,
}

/// The result of [`crate::Backend::get_object`].
pub struct GetObjectOutput {
    /// The object's metadata (size is the whole object's size).
    pub meta: ObjectMeta,
    /// The byte range served, inclusive, when a range was requested.
    pub range: Option<(u64, u64)>,
    /// The content (of the range, when one was requested).
    pub body: ByteStream,
}

impl std::fmt::Debug for GetObjectOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetObjectOutput")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// Options for whole-object writes and for starting multipart uploads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Standard headers to store.
    pub headers: ObjectHeaders,
    /// User metadata to store (lowercase names without `x-amz-meta-`).
    pub user_metadata: BTreeMap<String, String>,
    /// The body's exact length, when the client declared it.
    pub content_length: Option<u64>,
    /// The MD5 the body must have (from `Content-MD5`).
    pub content_md5: Option<[u8; 16]>,
    /// Conditional write: `If-None-Match: *` (fail if the key exists) and
    /// `If-Match: etag` (fail unless the current object has that ETag).
    pub conditions: Conditions,
    /// The whole-body checksum the client sent as a header (the gateway
    /// verifies it while the body streams). Upstreams that store checksums
    /// are told it, so they verify the bytes they receive as well. A
    /// checksum sent as a trailer is known only at the body's end, through
    /// [`crate::BodySource::verified_checksum`].
    pub checksum: Option<ObjectChecksum>,
    /// CreateMultipartUpload only: the algorithm every part must carry a
    /// checksum of, and how the object's checksum is made of them
    /// (`x-amz-checksum-algorithm`, `x-amz-checksum-type`).
    pub multipart_checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
}

/// The result of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutput {
    /// ETag of the stored object, without quotes.
    pub etag: String,
    /// Size of the stored object.
    pub size: u64,
    /// The version the write created, in a bucket whose versioning was
    /// ever enabled.
    pub version_id: Option<String>,
    /// The checksum stored with the object, when it has one.
    pub checksum: Option<ObjectChecksum>,
}

/// How a copy treats metadata (`x-amz-metadata-directive`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetadataDirective {
    /// Keep the source's metadata and headers.
    #[default]
    Copy,
    /// Use the headers and metadata given in [`CopyOptions`].
    Replace,
}

/// Options for [`crate::Backend::copy_object`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Copy or replace metadata.
    pub metadata_directive: MetadataDirective,
    /// Headers for the new object when replacing.
    pub headers: ObjectHeaders,
    /// User metadata for the new object when replacing.
    pub user_metadata: BTreeMap<String, String>,
    /// `x-amz-copy-source-if-*` preconditions, evaluated on the source.
    pub source_conditions: Conditions,
    /// The source version to copy (`?versionId=` of `x-amz-copy-source`);
    /// `None` copies the current one.
    pub source_version_id: Option<String>,
    /// Copy the source's tags, or replace them with the `x-amz-tagging`
    /// storage header of [`Self::headers`] (none when absent).
    pub tagging_directive: MetadataDirective,
}

/// The result of a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutput {
    /// ETag of the new object or part, without quotes.
    pub etag: String,
    /// Last-modified time of the new object or part.
    pub last_modified: SystemTime,
    /// The version the copy created, in a bucket whose versioning was
    /// ever enabled.
    pub version_id: Option<String>,
    /// The checksum stored with the new object or part, when it has one.
    pub checksum: Option<ObjectChecksum>,
}

/// Options for [`crate::Backend::upload_part`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartOptions {
    /// The part's exact length, when declared.
    pub content_length: Option<u64>,
    /// The MD5 the part must have (from `Content-MD5`).
    pub content_md5: Option<[u8; 16]>,
    /// The part's checksum sent as a header (as [`PutOptions::checksum`]).
    pub checksum: Option<ObjectChecksum>,
}

/// The result of storing a part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartOutput {
    /// The part's ETag (MD5 hex, without quotes).
    pub etag: String,
    /// The part's checksum, when the backend keeps one.
    pub checksum: Option<ObjectChecksum>,
}

/// Options for [`crate::Backend::upload_part_copy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartCopyOptions {
    /// `x-amz-copy-source-range`, when given.
    pub range: Option<ByteRange>,
    /// `x-amz-copy-source-if-*` preconditions, evaluated on the source.
    pub source_conditions: Conditions,
    /// The source version to copy; `None` copies the current one.
    pub source_version_id: Option<String>,
}

/// One part named in a CompleteMultipartUpload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number (1..=10000).
    pub part_number: u32,
    /// ETag the client was given for the part, without quotes.
    pub etag: String,
    /// The part's checksum as the request lists it (`<ChecksumCRC32>`...),
    /// which must match the stored part's.
    pub checksum: Option<ObjectChecksum>,
}

/// Options for [`crate::Backend::complete_multipart_upload`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompleteOptions {
    /// `If-Match` / `If-None-Match: *`: the write conditions of the
    /// completion, evaluated on the current object when it is committed.
    pub conditions: Conditions,
    /// The object's checksum the client expects (`x-amz-checksum-*` on the
    /// completion): BadDigest when the assembled object's differs.
    pub checksum: Option<ObjectChecksum>,
}

/// Options for [`crate::Backend::list_objects`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOptions {
    /// Only keys starting with this prefix.
    pub prefix: String,
    /// Roll keys up to common prefixes at this delimiter.
    pub delimiter: Option<String>,
    /// Only keys (and common prefixes) strictly after this one.
    pub start_after: Option<String>,
    /// At most this many keys plus common prefixes (0..=1000).
    pub max_keys: usize,
}

impl Default for ListOptions {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            delimiter: None,
            start_after: None,
            max_keys: 1000,
        }
    }
}

/// One object in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// Last modification time.
    pub last_modified: SystemTime,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects, in key order.
    pub objects: Vec<ObjectSummary>,
    /// Common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// When truncated: the last key or common prefix returned, from which
    /// the next page starts (exclusive).
    pub next_start_after: Option<String>,
}

/// Options for [`crate::Backend::list_parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPartsOptions {
    /// Only parts with a number greater than this.
    pub part_number_marker: u32,
    /// At most this many parts (0..=1000).
    pub max_parts: usize,
}

impl Default for ListPartsOptions {
    fn default() -> Self {
        Self {
            part_number_marker: 0,
            max_parts: 1000,
        }
    }
}

/// One stored part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSummary {
    /// Part number.
    pub part_number: u32,
    /// ETag without quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// When the part was stored.
    pub last_modified: SystemTime,
    /// The part's checksum, when the backend keeps one.
    pub checksum: Option<ObjectChecksum>,
}

/// One page of [`crate::Backend::list_parts`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPartsPage {
    /// Parts in ascending number order.
    pub parts: Vec<PartSummary>,
    /// Whether more parts follow.
    pub is_truncated: bool,
    /// When truncated: the last part number returned.
    pub next_part_number_marker: Option<u32>,
}

/// Options for [`crate::Backend::list_multipart_uploads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUploadsOptions {
    /// Only uploads for keys starting with this prefix.
    pub prefix: String,
    /// Roll keys up to common prefixes at this delimiter.
    pub delimiter: Option<String>,
    /// Start after this key (with `upload_id_marker`, after that upload).
    pub key_marker: Option<String>,
    /// With `key_marker`: start after this upload of that key.
    pub upload_id_marker: Option<String>,
    /// At most this many uploads plus common prefixes (0..=1000).
    pub max_uploads: usize,
}

impl Default for ListUploadsOptions {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            delimiter: None,
            key_marker: None,
            upload_id_marker: None,
            max_uploads: 1000,
        }
    }
}

/// One upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    /// The key the upload will create.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When the upload was started.
    pub initiated: SystemTime,
}

/// One page of [`crate::Backend::list_multipart_uploads`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUploadsPage {
    /// Uploads ordered by key, then by initiation time.
    pub uploads: Vec<UploadSummary>,
    /// Common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// When truncated: the key marker for the next page.
    pub next_key_marker: Option<String>,
    /// When truncated: the upload id marker for the next page.
    pub next_upload_id_marker: Option<String>,
}

/// Options for [`crate::Backend::list_object_versions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListVersionsOptions {
    /// Only keys starting with this prefix.
    pub prefix: String,
    /// Roll keys up to common prefixes at this delimiter.
    pub delimiter: Option<String>,
    /// Start after this key (with `version_id_marker`, after that version).
    pub key_marker: Option<String>,
    /// With `key_marker`: start after this version of that key.
    pub version_id_marker: Option<String>,
    /// At most this many versions plus common prefixes (0..=1000).
    pub max_keys: usize,
}

impl Default for ListVersionsOptions {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            delimiter: None,
            key_marker: None,
            version_id_marker: None,
            max_keys: 1000,
        }
    }
}

/// One object version (or delete marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    /// The key.
    pub key: String,
    /// The version id (`null` in unversioned buckets).
    pub version_id: String,
    /// Whether this is the key's current version.
    pub is_latest: bool,
    /// Whether this is a delete marker (no content).
    pub is_delete_marker: bool,
    /// Size in bytes (0 for delete markers).
    pub size: u64,
    /// ETag without quotes (empty for delete markers).
    pub etag: String,
    /// When the version was written.
    pub last_modified: SystemTime,
}

/// One page of [`crate::Backend::list_object_versions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListVersionsPage {
    /// Versions ordered by key, newest first within a key.
    pub versions: Vec<ObjectVersion>,
    /// Common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// When truncated: the key marker for the next page.
    pub next_key_marker: Option<String>,
    /// When truncated: the version id marker for the next page.
    pub next_version_id_marker: Option<String>,
}

impl ListVersionsOptions {
    /// The object listing that answers this versions listing in a bucket
    /// without versioning, where each object is its one `null` version: a
    /// version id marker other than `null` is InvalidArgument.
    pub fn unversioned_listing(&self) -> Result<ListOptions, crate::BackendError> {
        match self.version_id_marker.as_deref() {
            None | Some("" | "null") => {}
            Some(_) => {
                return Err(crate::BackendError::invalid_argument(
                    "invalid version id marker specified",
                ));
            }
        }
        Ok(ListOptions {
            prefix: self.prefix.clone(),
            delimiter: self.delimiter.clone(),
            start_after: self.key_marker.clone().filter(|marker| !marker.is_empty()),
            max_keys: self.max_keys,
        })
    }
}

impl ListVersionsPage {
    /// The versions page of an object listing in a bucket without
    /// versioning: every object is its current version `null`.
    pub fn unversioned(page: ListPage) -> Self {
        let next_version_id_marker = match &page.next_start_after {
            Some(next) if page.is_truncated && !page.common_prefixes.contains(next) => {
                Some("null".to_owned())
            }
            _ => None,
        };
        Self {
            versions: page
                .objects
                .into_iter()
                .map(|object| ObjectVersion {
                    key: object.key,
                    version_id: "null".to_owned(),
                    is_latest: true,
                    is_delete_marker: false,
                    size: object.size,
                    etag: object.etag,
                    last_modified: object.last_modified,
                })
                .collect(),
            common_prefixes: page.common_prefixes,
            is_truncated: page.is_truncated,
            next_key_marker: page.next_start_after.filter(|_| page.is_truncated),
            next_version_id_marker,
        }
    }
}

/// Options for [`crate::Backend::get_object_attributes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributesOptions {
    /// The version and SSE-C headers, as for a read (no range, no part).
    pub get: GetOptions,
    /// Only parts with a number greater than this.
    pub part_number_marker: u32,
    /// At most this many parts (0..=1000).
    pub max_parts: usize,
}

impl Default for AttributesOptions {
    fn default() -> Self {
        Self {
            get: GetOptions::default(),
            part_number_marker: 0,
            max_parts: 1000,
        }
    }
}

/// One part of an object created by a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPart {
    /// Part number.
    pub part_number: u32,
    /// Size in bytes.
    pub size: u64,
    /// The part's checksum, when the object has checksums.
    pub checksum: Option<ObjectChecksum>,
}

/// One page of an object's parts (GetObjectAttributes `ObjectParts`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectPartsPage {
    /// How many parts the object has.
    pub total_parts_count: u32,
    /// Parts in ascending number order, after the marker.
    pub parts: Vec<ObjectPart>,
    /// Whether more parts follow.
    pub is_truncated: bool,
    /// When truncated: the last part number returned.
    pub next_part_number_marker: Option<u32>,
}

/// The result of [`crate::Backend::get_object_attributes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectAttributes {
    /// The object's metadata (ETag, size, checksum, storage class header).
    pub meta: ObjectMeta,
    /// Its parts, for an object created by a multipart upload whose parts
    /// the backend knows.
    pub parts: Option<ObjectPartsPage>,
}
