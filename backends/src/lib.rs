//! Storage backends for cedargate.
//!
//! The gateway authenticates and authorizes a request, then hands it to the
//! bucket's [`Backend`] (the *dispatch* stage of the pipeline). Every backend
//! is used as an `Arc<dyn Backend>`, so a bucket can move from one kind of
//! storage to another without the gateway changing.
//!
//! The crate knows nothing of HTTP, SigV4 or Cedar: it takes typed options
//! and streaming bodies and answers with typed results or a meaning-based
//! [`BackendError`] that the gateway maps to S3 errors in one place.
//!
//! Implementations: [`fs::FsBackend`] (the embedded default, a directory per
//! bucket) and [`s3::S3Backend`] (any S3-compatible upstream). The shared
//! contract suite (the `contract` module, behind the feature of that name,
//! which the crate's tests turn on) runs the same cases against every
//! implementation.

pub mod conditions;
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
pub mod fs;
pub mod gcs;
mod object;
pub mod s3;
pub mod tagging;
mod types;

pub use cedargate_s3::xml::CannedAcl;
pub use conditions::{ByteRange, Conditions};
pub use error::BackendError;
pub use object::*;
pub use types::*;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

/// Result of a backend call.
pub type BackendResult<T> = Result<T, BackendError>;

/// A response body streamed out of a backend.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// A request body streamed into a backend.
///
/// The gateway implements this over the client connection, verifying
/// signatures, hashes and lengths as bytes pass. An `Err` means the body is
/// unusable (client gone, truncated, hash mismatch): the backend must abandon
/// the write and leave no trace of it.
#[async_trait]
pub trait BodySource: Send {
    /// The next chunk of the body, or `None` once the whole body has been
    /// read and verified.
    async fn next_chunk(&mut self) -> std::io::Result<Option<Bytes>>;

    /// The `x-amz-checksum-*` the body was verified against (sent as a
    /// header or as a trailer), once [`Self::next_chunk`] has returned
    /// `None`; `None` when the client sent no checksum.
    fn verified_checksum(&self) -> Option<ObjectChecksum> {
        None
    }
}

/// A body held in memory, for tests and small internal writes.
#[derive(Debug, Default)]
pub struct MemoryBody {
    chunks: std::collections::VecDeque<Bytes>,
}

impl MemoryBody {
    /// A body made of `chunks`, read in order.
    pub fn new(chunks: impl IntoIterator<Item = Bytes>) -> Self {
        Self {
            chunks: chunks.into_iter().collect(),
        }
    }
}

impl From<&[u8]> for MemoryBody {
    fn from(data: &[u8]) -> Self {
        Self::new([Bytes::copy_from_slice(data)])
    }
}

#[async_trait]
impl BodySource for MemoryBody {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Bytes>> {
        Ok(self.chunks.pop_front())
    }
}

/// A storage backend serving one or more buckets.
///
/// Bucket names passed in are the backend's own names (the gateway has
/// already mapped the client-facing name); keys are full S3 keys, already
/// percent-decoded.
///
/// # Contract
///
/// Every implementation must:
/// - make writes atomic: an object is either absent or complete; a failed or
///   abandoned body ([`BodySource`] returning `Err`) leaves the previous
///   object (or no object) in place and no temporary data visible;
/// - compute ETags as S3 does: lowercase hex MD5 of the content for single
///   writes, `hex(md5(concat(part md5s)))-N` for multipart uploads (ETags
///   are returned without quotes);
/// - verify `content_md5` when given and answer [`BackendError::BadDigest`]
///   without storing anything on mismatch;
/// - evaluate [`Conditions`] on reads and conditional writes exactly as S3
///   does (see [`Conditions::evaluate`]);
/// - list keys in ascending UTF-8 byte order, rolling keys up to common
///   prefixes at the delimiter;
/// - answer [`BackendError::NotImplemented`] for anything it cannot do,
///   never a silent approximation;
/// - never let a key address anything outside its bucket;
/// - store every key it accepts literally (one key, one object), refusing
///   up front, through [`Backend::check_key`], any key it could not.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// A short name for the kind of backend (`fs`, `s3`, `gcs`), for logs
    /// and metrics labels; never shown to clients.
    fn kind(&self) -> &'static str;

    /// Refuses, with [`BackendError::InvalidArgument`], a key this backend
    /// could not store as itself (an upstream that resolves `..` in a URL
    /// path would read it as another key). The gateway asks before any
    /// policy decides on the key; every operation that takes a key refuses
    /// it too. The default accepts every key.
    fn check_key(&self, key: &str) -> BackendResult<()> {
        let _ = key;
        Ok(())
    }

    /// Checks that the bucket exists and returns its details.
    async fn head_bucket(&self, bucket: &str) -> BackendResult<BucketInfo>;

    /// Creates a bucket: [`BackendError::BucketAlreadyOwnedByYou`] when it
    /// exists already, [`BackendError::BucketAlreadyExists`] when the name
    /// is someone else's.
    async fn create_bucket(&self, bucket: &str) -> BackendResult<()>;

    /// Deletes an empty bucket: [`BackendError::BucketNotEmpty`] while it
    /// holds objects. Uploads in progress are abandoned with it.
    async fn delete_bucket(&self, bucket: &str) -> BackendResult<()>;

    /// Every bucket the backend holds, in name order.
    async fn list_buckets(&self) -> BackendResult<Vec<BucketSummary>>;

    /// The bucket's versioning state.
    async fn get_bucket_versioning(&self, bucket: &str) -> BackendResult<VersioningStatus>;

    /// Sets the bucket's versioning state to [`VersioningStatus::Enabled`]
    /// or [`VersioningStatus::Suspended`] (Unversioned is InvalidArgument:
    /// a bucket once versioned never goes back). The default answers
    /// NotImplemented.
    async fn put_bucket_versioning(
        &self,
        bucket: &str,
        status: VersioningStatus,
    ) -> BackendResult<()> {
        let _ = (bucket, status);
        Err(BackendError::NotImplemented {
            operation: "PutBucketVersioning",
            backend: self.kind(),
        })
    }

    /// Lists one page of object versions (in an unversioned bucket, one
    /// `null` version per object).
    async fn list_object_versions(
        &self,
        bucket: &str,
        options: ListVersionsOptions,
    ) -> BackendResult<ListVersionsPage>;

    /// Lists one page of objects.
    async fn list_objects(&self, bucket: &str, options: ListOptions) -> BackendResult<ListPage>;

    /// Reads an object (or a range of it).
    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<GetObjectOutput>;

    /// Reads an object's metadata; conditions and range are evaluated as for
    /// [`Backend::get_object`].
    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<ObjectMeta>;

    /// GetObjectAttributes: the object's metadata and a page of its parts.
    /// The default answers the metadata of [`Self::head_object`] and no
    /// parts.
    async fn get_object_attributes(
        &self,
        bucket: &str,
        key: &str,
        options: AttributesOptions,
    ) -> BackendResult<ObjectAttributes> {
        let meta = self.head_object(bucket, key, options.get).await?;
        Ok(ObjectAttributes { meta, parts: None })
    }

    /// Writes a whole object from `body`.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn BodySource,
        options: PutOptions,
    ) -> BackendResult<PutOutput>;

    /// Copies an object within the backend.
    async fn copy_object(
        &self,
        source: ObjectRef<'_>,
        destination: ObjectRef<'_>,
        options: CopyOptions,
    ) -> BackendResult<CopyOutput>;

    /// Deletes an object; deleting a missing key succeeds, as in S3. In a
    /// versioned bucket (Enabled) this adds a delete marker; in a suspended
    /// one it replaces the `null` version with a `null` delete marker.
    async fn delete_object(&self, bucket: &str, key: &str) -> BackendResult<DeleteOutput>;

    /// Deletes one version of an object (`versionId`), a delete marker
    /// included; a version that does not exist succeeds, as in S3, and an
    /// id the backend could never have given is InvalidArgument. In an
    /// unversioned bucket version `null` is the object.
    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> BackendResult<DeleteOutput>;

    /// The object's tags (of `version_id`, else of the current version).
    async fn get_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<TagSet>;

    /// Replaces the object's tags (the content and its ETag stay).
    async fn put_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
        tags: &TagSet,
    ) -> BackendResult<()>;

    /// Removes every tag of the object.
    async fn delete_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<()>;

    /// The object's canned ACL: the one its write or a PutObjectAcl set,
    /// `private` when none was. A backend that keeps no ACLs answers
    /// `NotImplemented` (the default).
    async fn get_object_acl(&self, object: ObjectRef<'_>) -> BackendResult<CannedAcl> {
        let _ = object;
        Err(self.not_implemented("GetObjectAcl"))
    }

    /// Replaces the object's canned ACL (content, metadata and tags stay).
    async fn put_object_acl(&self, object: ObjectRef<'_>, acl: CannedAcl) -> BackendResult<()> {
        let _ = (object, acl);
        Err(self.not_implemented("PutObjectAcl"))
    }

    /// The bucket's canned ACL, `private` when none was set.
    async fn get_bucket_acl(&self, bucket: &str) -> BackendResult<CannedAcl> {
        let _ = bucket;
        Err(self.not_implemented("GetBucketAcl"))
    }

    /// Replaces the bucket's canned ACL.
    async fn put_bucket_acl(&self, bucket: &str, acl: CannedAcl) -> BackendResult<()> {
        let _ = (bucket, acl);
        Err(self.not_implemented("PutBucketAcl"))
    }

    /// The bucket's tags (empty when it has none).
    async fn get_bucket_tagging(&self, bucket: &str) -> BackendResult<TagSet> {
        let _ = bucket;
        Err(self.not_implemented("GetBucketTagging"))
    }

    /// Replaces the bucket's tags.
    async fn put_bucket_tagging(&self, bucket: &str, tags: &TagSet) -> BackendResult<()> {
        let _ = (bucket, tags);
        Err(self.not_implemented("PutBucketTagging"))
    }

    /// Removes every tag of the bucket.
    async fn delete_bucket_tagging(&self, bucket: &str) -> BackendResult<()> {
        let _ = bucket;
        Err(self.not_implemented("DeleteBucketTagging"))
    }

    /// The `NotImplemented` answer of `operation` on this backend.
    fn not_implemented(&self, operation: &'static str) -> BackendError {
        BackendError::NotImplemented {
            operation,
            backend: self.kind(),
        }
    }

    /// Deletes several objects, answering one result per object in order.
    /// Each is deleted as [`Self::delete_object`] would, or, when it names
    /// a version, as [`Self::delete_object_version`] would (so a version
    /// the backend cannot delete is that object's error, and nothing of it
    /// is deleted).
    async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[ObjectIdentifier],
    ) -> BackendResult<Vec<BackendResult<DeleteOutput>>>;

    /// Starts a multipart upload and returns its upload id.
    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: PutOptions,
    ) -> BackendResult<String>;

    /// Stores one part of a multipart upload.
    async fn upload_part(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        body: &mut dyn BodySource,
        options: PartOptions,
    ) -> BackendResult<PartOutput>;

    /// Stores one part copied from (a range of) an existing object.
    async fn upload_part_copy(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        source: ObjectRef<'_>,
        options: PartCopyOptions,
    ) -> BackendResult<CopyOutput>;

    /// Assembles the listed parts into the object, atomically. Repeated
    /// with the same parts after it succeeded, while the object it made is
    /// still the current one, it answers the same result again.
    async fn complete_multipart_upload(
        &self,
        upload: UploadRef<'_>,
        parts: &[CompletedPart],
        options: CompleteOptions,
    ) -> BackendResult<PutOutput>;

    /// Abandons an upload and frees its parts.
    async fn abort_multipart_upload(&self, upload: UploadRef<'_>) -> BackendResult<()>;

    /// Lists the parts stored so far for an upload.
    async fn list_parts(
        &self,
        upload: UploadRef<'_>,
        options: ListPartsOptions,
    ) -> BackendResult<ListPartsPage>;

    /// Lists the uploads in progress in a bucket.
    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        options: ListUploadsOptions,
    ) -> BackendResult<ListUploadsPage>;

    /// Whether the bucket was created with S3 Object Lock. The default
    /// answers `false` for an existing bucket: a backend that cannot lock
    /// objects never has a bucket with it; one whose upstream can, and
    /// does not say, answers NotImplemented.
    async fn object_lock_enabled(&self, bucket: &str) -> BackendResult<bool> {
        self.head_bucket(bucket).await.map(|_| false)
    }
}

/// Reads a whole [`ByteStream`] into memory; for tests and small objects.
pub async fn collect_body(mut body: ByteStream) -> std::io::Result<Vec<u8>> {
    use futures::StreamExt;
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}
