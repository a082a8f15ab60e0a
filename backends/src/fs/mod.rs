//! The filesystem backend: the embedded default, serving buckets from a
//! directory tree inside the gateway (the *dispatch* stage answers without
//! an upstream).
//!
//! # Layout
//!
//! ```text
//! <root>/.cedargate/layout                        layout version (2), written last by a migration
//! <root>/<bucket>/<key dir>/%object               an object's data, as a plain file
//! <root>/<bucket>/<key dir>/%meta.json            sidecar: JSON metadata of the data file
//!                                                 (headers, metadata, tags, canned ACL)
//! <root>/<bucket>/<key dir>/%versions/<id>/       a noncurrent version (%object, %meta.json)
//!                                                 or a delete marker (%meta.json alone)
//! <root>/.cedargate/buckets/<bucket>.json         bucket metadata: canned ACL, tags
//! <root>/.cedargate/versioning/<bucket>           versioning state: Enabled or Suspended
//! <root>/.cedargate/tmp/                          temp files, renamed into place
//! <root>/.cedargate/uploads/<bucket>/<id>/        multipart staging: upload.json,
//!                                                 part-00001 + part-00001.json, ...
//! ```
//!
//! Every key is a directory, so any set of keys coexists: `a`, `a/`,
//! `a/b`, `a//b` and `a/b/c` are the directories `a`, `a/%`, `a/b`, `a/%/b`
//! and `a/b/c`, each holding its own `%object`, while a directory with no
//! `%object` only leads to other keys. An object's files live together, so
//! operators back up, inspect or move a key's directory with ordinary
//! tools. A key is split on `/` and each segment is stored as follows;
//! decoding reverses it, so the mapping is bijective and no key can name
//! anything outside its bucket directory:
//!
//! | key segment              | directory name            |
//! |--------------------------|---------------------------|
//! | empty (`x//y`, `dir/`)   | `%`                       |
//! | `.`                      | `%2E`                     |
//! | `..`                     | `%2E%2E`                  |
//! | anything else            | itself, `%` written `%25` |
//!
//! An encoded segment therefore never starts with `%` followed by a
//! lowercase letter: such names (`%object`, `%meta.json`, `%versions`) are
//! the backend's own, and no key can name them.
//!
//! Writes of keys that are empty, contain NUL, exceed 1024 bytes, or have a
//! segment longer than 255 bytes once stored answer `InvalidArgument`;
//! reads of such keys answer `NoSuchKey` and deletes succeed, since no such
//! object can exist. Bucket names never start with `.`, so `.cedargate`
//! cannot be a bucket.
//!
//! A delete removes the key's files, then its directory and the ancestors
//! that are left empty, up to the bucket directory, with `remove_dir`,
//! which only ever removes an empty directory: a concurrent write whose
//! data landed first stops the pruning, and a write whose directory was
//! pruned between its creation and the rename retries the rename. Listings
//! and DeleteBucket's emptiness check see no leftover directories.
//!
//! # Migration
//!
//! Layout version 1 (no marker) stored key `a/b` as the file `<bucket>/a/b`
//! and its sidecar under `<root>/.cedargate/meta/<bucket>/a/b`, so a key
//! and the keys under it could not both exist. A data directory without a
//! marker is migrated when the backend starts: each data file moves into
//! its key directory as `%object`, each sidecar next to it, the old
//! sidecar tree is removed, and the marker is written last. Only renames
//! are used, each step is journalled, and an interrupted migration
//! resumes on the next start; with the marker in place a start does
//! nothing. A data directory with no objects is simply stamped. A marker
//! naming a version this release does not know refuses to start. Only one
//! gateway may start on a data directory while it migrates.

//! # Versions
//!
//! A bucket's versioning state is the file `.cedargate/versioning/<bucket>`
//! (absent: never versioned; written with write, fsync, rename; removed
//! with the bucket). In a bucket never versioned nothing below changes.
//!
//! - **Ids** are 24 lowercase hex digits: the write time in ns subtracted
//!   from `u64::MAX`, then 32 random bits, so a key's versions sort newest
//!   first by name and listing them is one directory read. Any other id
//!   but `null` answers InvalidArgument; an id the key lacks, NoSuchVersion.
//! - **The current version** stays where a bucket never versioned keeps
//!   it (`%object`, `%meta.json`, whose sidecar records its id; none means
//!   `null`), so reads of current versions cost what they always did. When
//!   a key has no `%object`, its newest entry in `%versions` is current:
//!   a delete marker (GET and HEAD answer 404 with `x-amz-delete-marker`).
//! - **A write** (PutObject, CopyObject, CompleteMultipartUpload), under
//!   the key's lock, moves the current version into `%versions/<id>` (the
//!   `null` version under a name made from its write time) and takes its
//!   place: with a new id when Enabled; as `null` when Suspended, replacing
//!   any `null` version or marker instead of keeping it. Objects written
//!   before versioning was enabled are the `null` version.
//! - **A delete without a version** moves the current version aside the
//!   same way and adds a delete marker (`null` when Suspended). **A delete
//!   naming a version** removes that version or marker; when nothing is
//!   left at `%object`, the newest remaining entry, if it is a version and
//!   not a marker, moves back into place. Empty `%versions` and key
//!   directories are pruned.
//! - Reads, HEAD, tags and copy sources name any version; ListObjectVersions
//!   walks the keys that have a current version or kept versions, in byte
//!   order, each key's versions newest first, with key and version id
//!   markers and delimiters as S3 pages them (it reads the whole bucket
//!   tree per page). UploadPartCopy copies current versions only (a source
//!   version other than `null` is InvalidArgument).
//! - Every move is a rename within the key's directory, under its lock;
//!   data is never copied. A crash between the two renames of a move leaves
//!   a data file without its sidecar, which is recomputed on first read
//!   (as for any `%object` without one) but loses its version id.
//!
//! # Writes, reads and metadata
//!
//! A write streams the body into a temp file while hashing it (MD5), checks
//! the declared length (a body of unknown length, such as a chunked HTTP
//! body, is taken whole) and Content-MD5, and only then, holding the key's
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
//! (matching) sidecar, such as a `%object` copied in by hand, is still an object:
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
//! - The filesystem must be case-sensitive (keys differing only in case
//!   would collide) and `<root>/.cedargate` must be on the same filesystem
//!   as the bucket directories (renames must be atomic).
//! - Only a `%object` file is an object's data: other files in the bucket
//!   tree, names that are not the encoding of any key (a stray `%`,
//!   invalid UTF-8) and symbolic links are not objects; listings skip them
//!   and reads of their keys answer `NoSuchKey`. A write whose key
//!   directory such a file blocks answers `InvalidArgument`.
//! - Locks are per process: two gateways sharing one root do not make
//!   `If-None-Match: *` race-free between them.
//! - Symbolic links are never followed for the last path component; a
//!   directory an operator replaces with a link is followed.

mod acl;
mod bucket_meta;
mod buckets;
mod checksums;
mod install;
mod layout;
mod list;
mod locks;
mod meta;
mod migrate;
mod multipart;
mod object;
mod staging;
mod stamp;
mod version_list;
mod versions;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use self::layout::{Layout, is_valid_bucket};
use self::locks::LockTable;
use crate::{
    AttributesOptions, Backend, BackendError, BackendResult, BodySource, BucketInfo, BucketSummary,
    CannedAcl, CompleteOptions, CompletedPart, CopyOptions, CopyOutput, DeleteOutput,
    GetObjectOutput, GetOptions, ListOptions, ListPage, ListPartsOptions, ListPartsPage,
    ListUploadsOptions, ListUploadsPage, ListVersionsOptions, ListVersionsPage, ObjectAttributes,
    ObjectIdentifier, ObjectMeta, ObjectRef, PartCopyOptions, PartOptions, PartOutput, PutOptions,
    PutOutput, TagSet, UploadRef, VersioningStatus,
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
    /// when missing, removing temp files a crash left behind, and migrating
    /// a data directory of an earlier layout (see the [module docs](self)).
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, BackendError> {
        let layout = Layout::new(root.into());
        for dir in [&layout.root, &layout.tmp, &layout.uploads] {
            std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
        }
        remove_stale_temps(&layout.tmp);
        migrate::ensure_current(&layout)?;
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
        versions::state(&self.ctx, bucket)
    }

    async fn put_bucket_versioning(
        &self,
        bucket: &str,
        status: VersioningStatus,
    ) -> BackendResult<()> {
        self.head_bucket(bucket).await?;
        let ctx = self.ctx.clone();
        let bucket = bucket.to_owned();
        blocking(move || versions::set_state(&ctx, &bucket, status)).await
    }

    async fn list_object_versions(
        &self,
        bucket: &str,
        options: ListVersionsOptions,
    ) -> BackendResult<ListVersionsPage> {
        if versions::state(&self.ctx, bucket)? != VersioningStatus::Unversioned {
            return version_list::list(&self.ctx, bucket, options).await;
        }
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
        object::get(&self.ctx, bucket, key, options).await
    }

    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<ObjectMeta> {
        refuse_sse_customer(&options, "HeadObject")?;
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
        if let Some(id) = &options.source_version_id {
            versions::check_id(id)?;
        }
        object::copy(&self.ctx, source, destination, options, tags).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> BackendResult<DeleteOutput> {
        object::delete(&self.ctx, bucket, key, None).await
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> BackendResult<DeleteOutput> {
        object::delete(&self.ctx, bucket, key, Some(version_id)).await
    }

    async fn get_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<TagSet> {
        object::get_tagging(&self.ctx, object, version_id).await
    }

    async fn put_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
        tags: &TagSet,
    ) -> BackendResult<()> {
        object::put_tagging(&self.ctx, object, version_id, tags.clone()).await
    }

    async fn delete_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<()> {
        object::put_tagging(&self.ctx, object, version_id, TagSet::new()).await
    }

    async fn get_object_acl(&self, object: ObjectRef<'_>) -> BackendResult<CannedAcl> {
        acl::get(&self.ctx, object).await
    }

    async fn put_object_acl(&self, object: ObjectRef<'_>, acl: CannedAcl) -> BackendResult<()> {
        acl::put(&self.ctx, object, acl).await
    }

    async fn get_bucket_acl(&self, bucket: &str) -> BackendResult<CannedAcl> {
        Ok(bucket_meta::read(&self.ctx, bucket).await?.acl())
    }

    async fn put_bucket_acl(&self, bucket: &str, acl: CannedAcl) -> BackendResult<()> {
        bucket_meta::update(&self.ctx, bucket, move |meta| {
            meta.acl = (acl != CannedAcl::Private).then(|| acl.as_str().to_owned());
        })
        .await
    }

    async fn get_bucket_tagging(&self, bucket: &str) -> BackendResult<TagSet> {
        Ok(bucket_meta::read(&self.ctx, bucket).await?.tags)
    }

    async fn put_bucket_tagging(&self, bucket: &str, tags: &TagSet) -> BackendResult<()> {
        let tags = tags.clone();
        bucket_meta::update(&self.ctx, bucket, move |meta| meta.tags = tags).await
    }

    async fn delete_bucket_tagging(&self, bucket: &str) -> BackendResult<()> {
        bucket_meta::update(&self.ctx, bucket, |meta| meta.tags.clear()).await
    }

    async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[ObjectIdentifier],
    ) -> BackendResult<Vec<BackendResult<DeleteOutput>>> {
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
        object::check_version(options.source_version_id.as_deref())?;
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
/// returned as the object's tag set), a canned ACL (`x-amz-acl`, kept in
/// the headers for the sidecar, `private` dropped as the default) and the
/// default storage class `STANDARD`, which is dropped (S3 does not echo
/// it either); any other one (encryption, object lock...) is
/// `NotImplemented` rather than silently ignored.
fn settle_storage_headers(
    headers: &mut crate::ObjectHeaders,
    operation: &'static str,
) -> BackendResult<TagSet> {
    let storage = std::mem::take(&mut headers.storage);
    let mut tags = TagSet::new();
    for (name, value) in storage {
        match name.as_str() {
            "x-amz-tagging" => tags = crate::tagging::parse_header(&value)?,
            meta::ACL => match crate::CannedAcl::from_name(&value) {
                Some(crate::CannedAcl::Private) => {}
                Some(_) => {
                    headers.storage.insert(name, value);
                }
                None => {
                    return Err(BackendError::invalid_argument(format!(
                        "`{value}` is not a canned ACL"
                    )));
                }
            },
            "x-amz-storage-class" if value == "STANDARD" => {}
            _ => {
                return Err(BackendError::NotImplemented {
                    operation,
                    backend: "fs",
                });
            }
        }
    }
    Ok(tags)
}
