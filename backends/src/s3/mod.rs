//! The s3 backend: any S3-compatible upstream (AWS S3, MinIO, Ceph, moto)
//! behind the [`Backend`] trait.
//!
//! # What it does
//!
//! Every call becomes one (sometimes a few) S3 REST requests to the
//! configured endpoint, re-signed with SigV4 using the backend's own
//! credentials ([`S3Config`]); clients' credentials never reach the
//! upstream. Requests go through pingora's HTTP/1.1 connector, so
//! connections are pooled; a connection returns to the pool only after a
//! complete exchange (whole request written, whole answer read).
//!
//! - **Bodies stream both ways.** PutObject and UploadPart send the
//!   [`crate::BodySource`] as it arrives, with an exact `Content-Length` and
//!   `x-amz-content-sha256: UNSIGNED-PAYLOAD`; the chunk that completes
//!   the body is held back until the source has reported its end (and
//!   verified it) and the Content-MD5, when given, matches. A body that
//!   fails, is short or long, or has the wrong MD5 makes the backend drop
//!   the connection before the upstream has a complete request, so no
//!   partial object appears. GetObject answers a stream that reads from the
//!   upstream as the client reads, and ends with an `Err` item (never a
//!   silently short body) if the upstream stops before its
//!   `Content-Length`.
//! - **Small documents** (DeleteObjects, CompleteMultipartUpload) are sent
//!   with their SHA-256 signed and a Content-MD5.
//! - **Keys** are percent-encoded as S3 wants: every byte but the
//!   unreserved characters and `/`, so keys with spaces, `+`, `%`,
//!   unicode or a trailing `/` address themselves. A key an upstream could
//!   read as another (a `.` or `..` segment, an empty segment but the
//!   last, a backslash) is refused with InvalidArgument
//!   ([`Backend::check_key`], see `url.rs`), in the path, a copy's source
//!   and a batch delete alike.
//! - **Headers forwarded**: Content-Type, Content-Encoding,
//!   Content-Disposition, Content-Language, Cache-Control, Expires,
//!   `x-amz-meta-*`, Content-MD5, Range, the conditions (`If-*` on GET,
//!   HEAD and PUT, `x-amz-copy-source-if-*` on copies), `x-amz-copy-source`,
//!   `x-amz-copy-source-range` and `x-amz-metadata-directive`; the storage
//!   headers (SSE and SSE-C, storage class, tagging, object lock, ACL;
//!   SSE-C customer-key headers on reads too); on PutObject, the client's
//!   `x-amz-checksum-<algorithm>` header, so the upstream verifies the
//!   bytes it receives and stores the checksum.
//! - **Errors** are mapped in one place (`error.rs`): S3 error codes to
//!   their [`BackendError`] meaning; refused or timed-out connections,
//!   read timeouts and upstream 5xx to [`BackendError::Unavailable`];
//!   answers that are not HTTP or not S3 XML to [`BackendError::BadGateway`];
//!   anything else to [`BackendError::Other`]. Messages a client may see
//!   are generic; what the upstream said goes to the server log only.
//!
//! # Choices
//!
//! - Read conditions are sent to the upstream and evaluated again on the
//!   metadata of the answer being served, so an upstream that ignores one
//!   cannot serve a body it should not. ETag lists of more than one entry
//!   are not sent (not every S3-compatible server parses them) and are
//!   evaluated that way only; a GET that fails them closes its connection.
//! - HeadObject does not send a Range: the range is resolved against the
//!   object's size (InvalidRange when unsatisfiable). A bare 404 to a HEAD
//!   is told apart (NoSuchBucket or NoSuchKey) with a HeadBucket. A GET
//!   answered NoSuchKey or NoSuchVersion is followed by a HEAD of the same
//!   version, which tells a delete marker (some upstreams mark one on HEAD
//!   answers only).
//! - Copy-source conditions are evaluated on a HEAD of the source and then
//!   sent to the upstream, which evaluates them again, atomically.
//! - UploadPartCopy always HEADs its source first: the size resolves open
//!   and suffix ranges into the `bytes=first-last` S3 wants, and a range
//!   ending past the source answers InvalidRange rather than being
//!   shortened (as the fs backend does).
//! - CompleteMultipartUpload checks locally that parts are named, in
//!   ascending order and numbered 1..=10000, then lists the stored parts:
//!   their sizes give the new object's size (S3's answer does not), and
//!   they name the offending part of InvalidPart / EntityTooSmall when the
//!   upstream's error does not (the first part missing or with another
//!   ETag; the smallest part but the last). An `<Error>` document in a 200
//!   answer is an error.
//! - Listings use ListObjectsV2 (`list-type=2`) with `start-after`, and
//!   drop any entry not strictly after it (a common prefix passed back as
//!   `start_after` is skipped with every key under it), topping the page up
//!   with the continuation token. `max_keys = 0` answers an empty page
//!   after a HeadBucket.
//! - ListParts of an upload whose recorded key is not the given key
//!   answers NoSuchUpload.
//! - The content type S3 reports for objects stored without one
//!   (`binary/octet-stream`) reads back as none; the gateway renders it
//!   the same way.
//! - The empty key is never an object: reads answer NoSuchKey, deletes
//!   succeed, writes answer InvalidArgument. Keys XML 1.0 cannot carry
//!   (control characters) are deleted one by one rather than in a
//!   DeleteObjects batch.
//! - Requests without a streamed body are retried (up to 3 times) when a
//!   pooled connection turns out to be closed before an answer.
//! - **Why a backend and not pingora's proxy hooks.** The gateway answers
//!   every request in `request_filter` and reaches upstreams through this
//!   backend, built on pingora's own connector and connection pool
//!   (`HttpPeer`, the HTTP/1.1 `Connector`), rather than forwarding through
//!   `upstream_peer` / `upstream_request_filter`. One [`Backend`] code path
//!   serves client requests, quota scans, health probes and the shared
//!   contract suite, so swapping a bucket between fs, s3 and gcs changes
//!   nothing a client sees; bodies still stream chunk by chunk both ways
//!   with no whole-body buffering.
//!
//! # Limits
//!
//! - A checksum the client sends as an aws-chunked trailer is verified by
//!   the gateway but not sent on (the upload leaves with a plain body and
//!   its length known up front): the upstream stores its own default, and
//!   the write answers the verified checksum. Header checksums, part
//!   checksums, a multipart upload's algorithm and type and the parts'
//!   checksums on completion are sent on (with `x-amz-sdk-checksum-algorithm`,
//!   which some servers need to store one); reads send
//!   `x-amz-checksum-mode: ENABLED` and report what the upstream stores.
//!   [`S3Config::checksums`] turns all of it off for servers that reject
//!   it (GCS).

//! - PutObject and UploadPart need the body's length
//!   (`content_length`): a signed upstream request streams a body of known
//!   length, and the backend does not spool bodies to disk. Without it they
//!   answer InvalidArgument; the gateway answers a `Transfer-Encoding:
//!   chunked` body of unknown length for this backend with
//!   MissingContentLength before reading it.
//! - Write conditions are sent to the upstream, which alone makes them
//!   atomic: an upstream that ignores `If-None-Match: *` cannot be made
//!   race-free by the backend.
//! - Conditions given to `create_multipart_upload` answer NotImplemented
//!   (the backend keeps no state to check them on completion).
//! - Streamed uploads are never retried (the body cannot be replayed): an
//!   upload on a pooled connection the upstream closed at that moment
//!   answers Unavailable.
//! - Only HTTP/1.1. The endpoint has no path prefix. A host name is
//!   resolved when used (cached 30 s) and its first address is used.
//!   With virtual-hosted addressing the backend connects to the
//!   endpoint's address and names `bucket.host` in `Host` and SNI, so
//!   bucket names must be DNS-safe (lowercase letters, digits, `.` and
//!   `-`); over TLS, names with dots do not match wildcard certificates:
//!   use path style for those.
//! - CreateBucket sends a LocationConstraint of the signing region (none
//!   for `us-east-1` and `auto`); versioning (PutBucketVersioning,
//!   versions listings, `versionId` on reads, deletes, tagging and copy
//!   sources) is passed through as it is, and the upstream's
//!   `x-amz-version-id` / `x-amz-delete-marker` answers are reported
//!   (delete markers read as [`crate::BackendError::DeleteMarker`]).
//! - Bucket creation times are not reported ([`BucketInfo::created`] is
//!   `None`); `parts_count` is reported only when the upstream sends
//!   `x-amz-mp-parts-count`.
//! - Documents read into memory (listings, errors) are limited to 16 MiB.
//! - GetObject and HeadObject answers must carry `Content-Length` (and a
//!   206 its `Content-Range`), `ETag` and `Last-Modified`; an answer
//!   without them is a bad gateway.
//! - An upstream that answers an upload early (an error before taking the
//!   whole body) is believed; that connection is closed, never reused.

mod acl;
mod attributes;
mod buckets;
mod client;
mod config;
mod error;
mod headers;
mod listing;
mod multipart;
mod not_s3;
mod objects;
mod pool;
mod request;
mod response;
mod signing;
mod tagging;
mod transfer;
mod url;
mod xml;

use std::sync::Arc;

use async_trait::async_trait;

use self::client::Client;
pub use self::config::{S3Config, SecretKey};
use crate::{
    AttributesOptions, Backend, BackendResult, BodySource, BucketInfo, BucketSummary, CannedAcl,
    CompleteOptions, CompletedPart, CopyOptions, CopyOutput, DeleteOutput, GetObjectOutput,
    GetOptions, ListOptions, ListPage, ListPartsOptions, ListPartsPage, ListUploadsOptions,
    ListUploadsPage, ListVersionsOptions, ListVersionsPage, ObjectAttributes, ObjectIdentifier,
    ObjectMeta, ObjectRef, PartCopyOptions, PartOptions, PartOutput, PutOptions, PutOutput, TagSet,
    UploadRef, VersioningStatus,
};

/// A backend serving buckets of one S3-compatible upstream.
#[derive(Clone)]
pub struct S3Backend {
    client: Arc<Client>,
}

impl std::fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Backend")
            .field("client", &self.client)
            .finish()
    }
}

impl S3Backend {
    /// A backend for `config`; an endpoint that is not an `http(s)://host`
    /// URL, or an empty region or access key, answers InvalidArgument.
    pub fn new(config: S3Config) -> BackendResult<Self> {
        Ok(Self {
            client: Arc::new(Client::new(&config)?),
        })
    }

    /// CreateBucket, naming the project that owns the new bucket
    /// (`x-amz-project-id`, as Cloud Storage wants).
    pub(crate) async fn create_bucket_in(
        &self,
        bucket: &str,
        project_id: Option<&str>,
    ) -> BackendResult<()> {
        buckets::create(&self.client, bucket, project_id).await
    }

    /// ListBuckets of one project (`x-amz-project-id`).
    pub(crate) async fn list_buckets_in(
        &self,
        project_id: Option<&str>,
    ) -> BackendResult<Vec<BucketSummary>> {
        buckets::list(&self.client, project_id).await
    }
}

#[async_trait]
impl Backend for S3Backend {
    fn kind(&self) -> &'static str {
        "s3"
    }

    fn check_key(&self, key: &str) -> BackendResult<()> {
        url::check_key(key)
    }

    async fn head_bucket(&self, bucket: &str) -> BackendResult<BucketInfo> {
        objects::head_bucket(&self.client, bucket).await
    }

    async fn create_bucket(&self, bucket: &str) -> BackendResult<()> {
        buckets::create(&self.client, bucket, None).await
    }

    async fn delete_bucket(&self, bucket: &str) -> BackendResult<()> {
        buckets::delete(&self.client, bucket).await
    }

    async fn list_buckets(&self) -> BackendResult<Vec<BucketSummary>> {
        buckets::list(&self.client, None).await
    }

    async fn get_bucket_versioning(&self, bucket: &str) -> BackendResult<VersioningStatus> {
        buckets::versioning(&self.client, bucket).await
    }

    async fn put_bucket_versioning(
        &self,
        bucket: &str,
        status: VersioningStatus,
    ) -> BackendResult<()> {
        buckets::put_versioning(&self.client, bucket, status).await
    }

    async fn list_object_versions(
        &self,
        bucket: &str,
        options: ListVersionsOptions,
    ) -> BackendResult<ListVersionsPage> {
        buckets::list_versions(&self.client, bucket, options).await
    }

    async fn list_objects(&self, bucket: &str, options: ListOptions) -> BackendResult<ListPage> {
        listing::list(&self.client, bucket, options).await
    }

    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<GetObjectOutput> {
        objects::get(&self.client, bucket, key, options).await
    }

    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<ObjectMeta> {
        objects::head(&self.client, bucket, key, options).await
    }

    async fn get_object_attributes(
        &self,
        bucket: &str,
        key: &str,
        options: AttributesOptions,
    ) -> BackendResult<ObjectAttributes> {
        attributes::get(&self.client, bucket, key, options).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn BodySource,
        options: PutOptions,
    ) -> BackendResult<PutOutput> {
        objects::put(&self.client, bucket, key, body, options).await
    }

    async fn copy_object(
        &self,
        source: ObjectRef<'_>,
        destination: ObjectRef<'_>,
        options: CopyOptions,
    ) -> BackendResult<CopyOutput> {
        objects::copy(&self.client, source, destination, options).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> BackendResult<DeleteOutput> {
        objects::delete(&self.client, bucket, key, None).await
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> BackendResult<DeleteOutput> {
        objects::delete(&self.client, bucket, key, Some(version_id)).await
    }

    async fn get_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<TagSet> {
        tagging::get(&self.client, object, version_id).await
    }

    async fn put_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
        tags: &TagSet,
    ) -> BackendResult<()> {
        tagging::put(&self.client, object, version_id, tags).await
    }

    async fn delete_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<()> {
        tagging::delete(&self.client, object, version_id).await
    }

    async fn get_object_acl(&self, object: ObjectRef<'_>) -> BackendResult<CannedAcl> {
        acl::get(&self.client, object.bucket, Some(object.key)).await
    }

    async fn put_object_acl(&self, object: ObjectRef<'_>, canned: CannedAcl) -> BackendResult<()> {
        acl::put(&self.client, object.bucket, Some(object.key), canned).await
    }

    async fn get_bucket_acl(&self, bucket: &str) -> BackendResult<CannedAcl> {
        acl::get(&self.client, bucket, None).await
    }

    async fn put_bucket_acl(&self, bucket: &str, canned: CannedAcl) -> BackendResult<()> {
        acl::put(&self.client, bucket, None, canned).await
    }

    async fn get_bucket_tagging(&self, bucket: &str) -> BackendResult<TagSet> {
        acl::get_bucket_tagging(&self.client, bucket).await
    }

    async fn put_bucket_tagging(&self, bucket: &str, tags: &TagSet) -> BackendResult<()> {
        acl::put_bucket_tagging(&self.client, bucket, tags).await
    }

    async fn delete_bucket_tagging(&self, bucket: &str) -> BackendResult<()> {
        acl::delete_bucket_tagging(&self.client, bucket).await
    }

    async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[ObjectIdentifier],
    ) -> BackendResult<Vec<BackendResult<DeleteOutput>>> {
        objects::delete_many(&self.client, bucket, objects).await
    }

    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: PutOptions,
    ) -> BackendResult<String> {
        multipart::create(&self.client, bucket, key, options).await
    }

    async fn upload_part(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        body: &mut dyn BodySource,
        options: PartOptions,
    ) -> BackendResult<PartOutput> {
        multipart::upload_part(&self.client, upload, part_number, body, options).await
    }

    async fn upload_part_copy(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        source: ObjectRef<'_>,
        options: PartCopyOptions,
    ) -> BackendResult<CopyOutput> {
        multipart::upload_part_copy(&self.client, upload, part_number, source, options).await
    }

    async fn complete_multipart_upload(
        &self,
        upload: UploadRef<'_>,
        parts: &[CompletedPart],
        options: CompleteOptions,
    ) -> BackendResult<PutOutput> {
        multipart::complete(&self.client, upload, parts, options).await
    }

    async fn abort_multipart_upload(&self, upload: UploadRef<'_>) -> BackendResult<()> {
        multipart::abort(&self.client, upload).await
    }

    async fn list_parts(
        &self,
        upload: UploadRef<'_>,
        options: ListPartsOptions,
    ) -> BackendResult<ListPartsPage> {
        multipart::list_parts(&self.client, upload, options).await
    }

    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        options: ListUploadsOptions,
    ) -> BackendResult<ListUploadsPage> {
        multipart::list_uploads(&self.client, bucket, options).await
    }

    /// The upstream may hold buckets with Object Lock, and the gateway
    /// does not relay its lock configuration.
    async fn object_lock_enabled(&self, _bucket: &str) -> BackendResult<bool> {
        Err(crate::BackendError::NotImplemented {
            operation: "GetObjectLockConfiguration",
            backend: "s3",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendError;

    #[test]
    fn construction_checks_the_config_and_never_shows_the_secret() {
        let config = S3Config::new(
            "https://s3.example.com",
            "eu-west-1",
            "AKID",
            "s3cr3t-value",
        );
        let backend = S3Backend::new(config.clone()).unwrap();
        assert_eq!(backend.kind(), "s3");
        let shown = format!("{backend:?} {config:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("s3.example.com"), "{shown}");
        for broken in [
            S3Config::new("s3.example.com", "r", "AKID", "s"),
            S3Config::new("http://h:1/prefix", "r", "AKID", "s"),
            S3Config::new("http://h:1", "", "AKID", "s"),
            S3Config::new("http://h:1", "r", "", "s"),
        ] {
            assert!(
                matches!(
                    S3Backend::new(broken),
                    Err(BackendError::InvalidArgument { .. })
                ),
                "refused"
            );
        }
    }
}
