//! The filesystem backend: the embedded default, serving buckets from a
//! directory tree inside the gateway (the *dispatch* stage answers without
//! an upstream).
//!
//! # Layout
//!
//! ```text
//! <root>/<bucket>/<key path>                    object data, as plain files
//! <root>/.cedargate/meta/<bucket>/<key path>    sidecar: JSON metadata of the data file
//! <root>/.cedargate/tmp/                        temp files, renamed into place
//! <root>/.cedargate/uploads/<bucket>/<id>/      multipart staging: upload.json,
//!                                               part-00001 + part-00001.json, ...
//! ```
//!
//! Objects are files at (almost) their literal key paths, so operators see
//! their objects and other tools can serve the same files: key `a/b/c` is
//! the file `<root>/<bucket>/a/b/c`. A key is split on `/` and each segment
//! is stored as follows; decoding reverses it, so the mapping is bijective
//! and no key can name anything outside its bucket directory:
//!
//! | key segment              | file name                |
//! |--------------------------|--------------------------|
//! | empty (`x//y`, `dir/`)   | `%`                      |
//! | `.`                      | `%2E`                    |
//! | `..`                     | `%2E%2E`                 |
//! | anything else            | itself, `%` written `%25` |
//!
//! Writes of keys that are empty, contain NUL, exceed 1024 bytes, or have a
//! segment longer than 255 bytes once stored answer `InvalidArgument`;
//! reads of such keys answer `NoSuchKey` and deletes succeed, since no such
//! object can exist. Bucket names never start with `.`, so `.cedargate`
//! cannot be a bucket.
//!
//! # Writes, reads and metadata
//!
//! A write streams the body into a temp file while hashing it (MD5), checks
//! the declared length and Content-MD5, and only then, holding the key's
//! lock, checks the write's conditions and renames the data file into
//! place, then its sidecar. The temp file is removed on any error and when
//! the write is dropped mid-body (client gone); once the body is complete,
//! the commit runs as its own task and cannot be interrupted halfway.
//! Writes are durable by default (file and directory fsync); see
//! [`FsBackend::with_durable_writes`].
//!
//! Every data file gets a fresh modification time with full ns precision,
//! and its sidecar records its size and that time. A reader opens the data
//! file first and trusts the sidecar only when both match the open file, so
//! data is never served with another write's metadata; a file opened before
//! a concurrent rename keeps serving the old content. A data file without a
//! (matching) sidecar, such as one copied in by hand, is still an object:
//! its MD5 ETag is computed on first access (with empty headers and
//! metadata) and a fresh sidecar is written on a best-effort basis.
//!
//! # Choices
//!
//! - ETags are the lowercase hex MD5 of the content; multipart objects get
//!   `hex(md5(part md5s))-N`. A copy's ETag is the MD5 of the copied bytes:
//!   for single-part sources that is the source's ETag, as in S3; a copy of
//!   a multipart object gets a plain MD5 ETag and no part count.
//! - Listing: keys in ascending byte order; an entry (key or common prefix)
//!   is listed only when it sorts strictly after `start_after`, so passing a
//!   returned common prefix back skips it and every key under it.
//!   `max_keys = 0` answers an empty, untruncated page.
//! - Conditions given to `create_multipart_upload` (such as
//!   `If-None-Match: *`) are kept and checked when the upload completes.
//! - An empty part list on completion answers `InvalidArgument` ("you must
//!   specify at least one part"; S3 says `MalformedXML`).
//! - An `upload_part_copy` range whose end lies past the source answers
//!   `InvalidRange` rather than being shortened.
//! - At start, temp files older than an hour (left by a crash) are removed.
//!
//! # Limits
//!
//! - A file cannot also be a directory: key `a` and key `a/b` cannot both
//!   exist (nor `dir` and `dir/`). The second write answers
//!   `InvalidArgument` ("key `a/b` conflicts with existing object `a`").
//! - The filesystem must be case-sensitive (keys differing only in case
//!   would collide) and `<root>/.cedargate` must be on the same filesystem
//!   as the bucket directories (renames must be atomic).
//! - File names that are not the encoding of any key (a stray `%`, invalid
//!   UTF-8) and symbolic links are not objects: listings skip them and
//!   reads of their keys answer `NoSuchKey`.
//! - Locks are per process: two gateways sharing one root do not make
//!   `If-None-Match: *` race-free between them.
//! - Symbolic links are never followed for the last path component; a
//!   directory an operator replaces with a link is followed.

mod buckets;
mod checksums;
mod install;
mod layout;
mod list;
mod locks;
mod meta;
mod multipart;
mod object;
mod staging;
mod stamp;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use self::layout::{Layout, is_valid_bucket};
use self::locks::LockTable;
use crate::{
    AttributesOptions, Backend, BackendError, BackendResult, BodySource, BucketInfo, BucketSummary,
    CompleteOptions, CompletedPart, CopyOptions, CopyOutput, GetObjectOutput, GetOptions,
    ListOptions, ListPage, ListPartsOptions, ListPartsPage, ListUploadsOptions, ListUploadsPage,
    ListVersionsOptions, ListVersionsPage, ObjectAttributes, ObjectIdentifier, ObjectMeta,
    ObjectRef, PartCopyOptions, PartOptions, PartOutput, PutOptions, PutOutput, TagSet, UploadRef,
    VersioningStatus,
};

/// S3's minimum size for every part but the last.
pub const DEFAULT_MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// Temp files older than this are left over from a crash.
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// A backend storing each bucket as a directory under one root.
#[derive(Clone)]
pub struct FsBackend {
    ctx: Ctx,
}

/// What every operation needs; cheap to clone into tasks.
#[derive(Debug, Clone)]
struct Ctx {
    shared: Arc<Shared>,
    min_part_size: u64,
    durable: bool,
    inline_reads: bool,
}

#[derive(Debug)]
struct Shared {
    layout: Layout,
    key_locks: LockTable,
    upload_locks: LockTable,
}

impl std::fmt::Debug for FsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsBackend")
            .field("root", &self.ctx.shared.layout.root)
            .field("min_part_size", &self.ctx.min_part_size)
            .field("durable", &self.ctx.durable)
            .field("inline_reads", &self.ctx.inline_reads)
            .finish()
    }
}

impl FsBackend {
    /// A backend rooted at `root`, creating it and its internal directories
    /// when missing and removing temp files a crash left behind.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, BackendError> {
        let layout = Layout::new(root.into());
        for dir in [&layout.root, &layout.tmp, &layout.meta, &layout.uploads] {
            std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
        }
        remove_stale_temps(&layout.tmp);
        Ok(Self {
            ctx: Ctx {
                shared: Arc::new(Shared {
                    layout,
                    key_locks: LockTable::new(),
                    upload_locks: LockTable::new(),
                }),
                min_part_size: DEFAULT_MIN_PART_SIZE,
                durable: true,
                inline_reads: true,
            },
        })
    }

    /// Sets the minimum size of every part but the last (default 5 MiB).
    #[must_use]
    pub fn with_min_part_size(mut self, bytes: u64) -> Self {
        self.ctx.min_part_size = bytes;
        self
    }

    /// Whether writes fsync files and directories before answering
    /// (default true). Turn off only for scratch data and tests.
    #[must_use]
    pub fn with_durable_writes(mut self, durable: bool) -> Self {
        self.ctx.durable = durable;
        self
    }

    /// Whether HEAD, HeadBucket and a GET's open (with the whole body of
    /// an object up to 64 KiB) run on the worker thread serving the
    /// request (default true) rather than on the blocking pool.
    ///
    /// On a local filesystem whose files are in the page cache that work
    /// takes microseconds, and the two thread switches of a hand-off to
    /// the pool cost more than the work. A read that has to wait for a
    /// disk stalls the other requests of that worker thread meanwhile, so
    /// turn this off for network or otherwise slow filesystems. Listings,
    /// writes and bodies above 64 KiB always use the pool.
    #[must_use]
    pub fn with_inline_reads(mut self, inline: bool) -> Self {
        self.ctx.inline_reads = inline;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.ctx.shared.layout.root
    }

    /// Creates the bucket's directory if it does not exist yet (a
    /// configured bucket; [`Backend::create_bucket`] refuses an existing one).
    pub async fn create_bucket_dir(&self, bucket: &str) -> BackendResult<()> {
        if !is_valid_bucket(bucket) {
            return Err(BackendError::invalid_argument(format!(
                "bucket name `{bucket}` cannot be stored by the filesystem backend"
            )));
        }
        let dir = self.ctx.shared.layout.bucket_dir(bucket)?;
        blocking(move || std::fs::create_dir_all(&dir).map_err(|e| io_error("creating", &dir, e)))
            .await
    }
}

fn remove_stale_temps(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        let age = metadata
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        if age.is_some_and(|age| age > STALE_TEMP_AGE) {
            let path = entry.path();
            let removed = if metadata.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(error) = removed {
                tracing::warn!(path = %path.display(), %error, "could not remove a stale temp file");
            }
        }
    }
}

/// A filesystem failure, with the path for the server log only.
#[derive(Debug, thiserror::Error)]
#[error("{action} `{path}`: {source}")]
struct FsError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Wraps an I/O error as [`BackendError::Other`] (never shown to clients).
fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> BackendError {
    BackendError::other(FsError {
        action,
        path: path.to_owned(),
        source,
    })
}

/// True for errors that mean "nothing there" when resolving a key's path.
fn is_missing(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{InvalidFilename, IsADirectory, NotADirectory, NotFound};
    matches!(
        error.kind(),
        NotFound | NotADirectory | IsADirectory | InvalidFilename
    )
}

/// `NoSuchBucket` unless `dir` is a directory.
fn ensure_bucket(dir: &Path) -> BackendResult<()> {
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(BackendError::NoSuchBucket),
        Err(e) if is_missing(&e) => Err(BackendError::NoSuchBucket),
        Err(e) => Err(io_error("inspecting", dir, e)),
    }
}

/// Runs the filesystem work of a read that touches a bounded number of
/// files (HEAD, a GET's open and small body, HeadBucket): on the calling
/// worker thread when the backend reads inline, else on the blocking pool.
async fn read_work<T, F>(ctx: &Ctx, work: F) -> BackendResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> BackendResult<T> + Send + 'static,
{
    if ctx.inline_reads {
        // As on the pool, a panic becomes an error, not a dead task.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .map_err(|_| BackendError::other("filesystem work panicked"))?
    } else {
        blocking(work).await
    }
}

/// Runs filesystem work on the blocking pool.
async fn blocking<T, F>(work: F) -> BackendResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> BackendResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(BackendError::other)?
}

#[async_trait]
impl Backend for FsBackend {
    fn kind(&self) -> &'static str {
        "fs"
    }

    async fn head_bucket(&self, bucket: &str) -> BackendResult<BucketInfo> {
        let dir = self.ctx.shared.layout.bucket_dir(bucket)?;
        read_work(&self.ctx, move || {
            ensure_bucket(&dir)?;
            let created = std::fs::metadata(&dir).and_then(|m| m.created()).ok();
            Ok(BucketInfo { created })
        })
        .await
    }

    async fn create_bucket(&self, bucket: &str) -> BackendResult<()> {
        buckets::create(&self.ctx, bucket).await
    }

    async fn delete_bucket(&self, bucket: &str) -> BackendResult<()> {
        buckets::delete(&self.ctx, bucket).await
    }

    async fn list_buckets(&self) -> BackendResult<Vec<BucketSummary>> {
        buckets::list_all(&self.ctx).await
    }

    async fn get_bucket_versioning(&self, bucket: &str) -> BackendResult<VersioningStatus> {
        self.head_bucket(bucket).await?;
        Ok(VersioningStatus::Unversioned)
    }

    async fn list_object_versions(
        &self,
        bucket: &str,
        options: ListVersionsOptions,
    ) -> BackendResult<ListVersionsPage> {
        let listing = options.unversioned_listing()?;
        let page = list::list_objects(&self.ctx, bucket, listing).await?;
        Ok(ListVersionsPage::unversioned(page))
    }

    async fn list_objects(&self, bucket: &str, options: ListOptions) -> BackendResult<ListPage> {
        list::list_objects(&self.ctx, bucket, options).await
    }

    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<GetObjectOutput> {
        refuse_sse_customer(&options, "GetObject")?;
        object::check_version(options.version_id.as_deref())?;
        object::get(&self.ctx, bucket, key, options).await
    }

    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<ObjectMeta> {
        refuse_sse_customer(&options, "HeadObject")?;
        object::check_version(options.version_id.as_deref())?;
        object::head(&self.ctx, bucket, key, options).await
    }

    async fn get_object_attributes(
        &self,
        bucket: &str,
        key: &str,
        options: AttributesOptions,
    ) -> BackendResult<ObjectAttributes> {
        refuse_sse_customer(&options.get, "GetObjectAttributes")?;
        object::check_version(options.get.version_id.as_deref())?;
        object::attributes(&self.ctx, bucket, key, options).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn BodySource,
        mut options: PutOptions,
    ) -> BackendResult<PutOutput> {
        let tags = settle_storage_headers(&mut options.headers, "PutObject")?;
        object::put(&self.ctx, bucket, key, body, options, tags).await
    }

    async fn copy_object(
        &self,
        source: ObjectRef<'_>,
        destination: ObjectRef<'_>,
        mut options: CopyOptions,
    ) -> BackendResult<CopyOutput> {
        let tags = settle_storage_headers(&mut options.headers, "CopyObject")?;
        object::copy(&self.ctx, source, destination, options, tags).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> BackendResult<()> {
        object::delete(&self.ctx, bucket, key).await
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> BackendResult<()> {
        object::check_version(Some(version_id))?;
        object::delete(&self.ctx, bucket, key).await
    }

    async fn get_object_tagging(&self, object: ObjectRef<'_>) -> BackendResult<TagSet> {
        object::get_tagging(&self.ctx, object).await
    }

    async fn put_object_tagging(&self, object: ObjectRef<'_>, tags: &TagSet) -> BackendResult<()> {
        object::put_tagging(&self.ctx, object, tags.clone()).await
    }

    async fn delete_object_tagging(&self, object: ObjectRef<'_>) -> BackendResult<()> {
        object::put_tagging(&self.ctx, object, TagSet::new()).await
    }

    async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[ObjectIdentifier],
    ) -> BackendResult<Vec<BackendResult<()>>> {
        object::delete_many(&self.ctx, bucket, objects).await
    }

    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        mut options: PutOptions,
    ) -> BackendResult<String> {
        let tags = settle_storage_headers(&mut options.headers, "CreateMultipartUpload")?;
        multipart::create(&self.ctx, bucket, key, options, tags).await
    }

    async fn upload_part(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        body: &mut dyn BodySource,
        options: PartOptions,
    ) -> BackendResult<PartOutput> {
        multipart::upload_part(&self.ctx, upload, part_number, body, options).await
    }

    async fn upload_part_copy(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        source: ObjectRef<'_>,
        options: PartCopyOptions,
    ) -> BackendResult<CopyOutput> {
        multipart::upload_part_copy(&self.ctx, upload, part_number, source, options).await
    }

    async fn complete_multipart_upload(
        &self,
        upload: UploadRef<'_>,
        parts: &[CompletedPart],
        options: CompleteOptions,
    ) -> BackendResult<PutOutput> {
        multipart::complete(&self.ctx, upload, parts, options).await
    }

    async fn abort_multipart_upload(&self, upload: UploadRef<'_>) -> BackendResult<()> {
        multipart::abort(&self.ctx, upload).await
    }

    async fn list_parts(
        &self,
        upload: UploadRef<'_>,
        options: ListPartsOptions,
    ) -> BackendResult<ListPartsPage> {
        multipart::list_parts(&self.ctx, upload, options).await
    }

    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        options: ListUploadsOptions,
    ) -> BackendResult<ListUploadsPage> {
        multipart::list_uploads(&self.ctx, bucket, options).await
    }
}
/// No object here is encrypted with a customer key: reading with one is
/// `NotImplemented`.
fn refuse_sse_customer(options: &GetOptions, operation: &'static str) -> BackendResult<()> {
    if options.sse_customer.is_empty() {
        Ok(())
    } else {
        Err(BackendError::NotImplemented {
            operation,
            backend: "fs",
        })
    }
}

/// The storage headers the filesystem can honour: tags (`x-amz-tagging`,
/// returned as the object's tag set) and the defaults — storage class
/// `STANDARD`, ACL `private` — which are dropped (S3 does not echo them
/// either); any other one (encryption, object lock...) is `NotImplemented`
/// rather than silently ignored.
fn settle_storage_headers(
    headers: &mut crate::ObjectHeaders,
    operation: &'static str,
) -> BackendResult<TagSet> {
    let storage = std::mem::take(&mut headers.storage);
    let mut tags = TagSet::new();
    for (name, value) in storage {
        if name == "x-amz-tagging" {
            tags = crate::tagging::parse_header(&value)?;
            continue;
        }
        let default = matches!(
            (name.as_str(), value.as_str()),
            ("x-amz-storage-class", "STANDARD") | ("x-amz-acl", "private")
        );
        if !default {
            return Err(BackendError::NotImplemented {
                operation,
                backend: "fs",
            });
        }
    }
    Ok(tags)
}
