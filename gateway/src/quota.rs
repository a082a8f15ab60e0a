//! The *limit* stage's bucket quotas: a ledger of each capped bucket's
//! usage in the [`StateStore`], kept current by every write and delete, and
//! the per-request [`QuotaTicket`] that reserves a write's bytes before any
//! byte reaches the backend and settles or releases them afterwards.
//!
//! The decision is Cedar's: policies see `context.bucket_usage`,
//! `bucket_reserved`, `bucket_hard_cap` and `write_bytes`, and the base
//! policy set (always loaded) forbids what would overflow a hard cap with
//! `@error("EntityTooLarge")`.
//! The reservation is atomic and checks the cap again; when it finds the
//! bucket fuller than the decision saw (a concurrent write won), the
//! policies are asked again with the fresh figures, so a policy that exempts
//! a principal keeps working and nobody else overshoots.
//!
//! Operations that change an object's size hold the object's lock
//! ([`lock`]) from reading its old size until usage is settled, so usage
//! moves exactly once per real change however many requests race on one
//! key. A write that failed is measured again under its lock (the upstream
//! may have applied it all the same).
//!
//! Usage counts every stored version: in a bucket whose versioning was ever
//! enabled a key stores the sum of its versions (a write adds one, or
//! replaces the `null` one; a delete without a version adds a delete
//! marker and frees nothing; deleting a version frees its bytes), measured
//! by listing the key's versions under its lock.
//!
//! Usage is unknown until a scan of the backend records it; writes to a
//! capped bucket with unknown usage, or while the store does not answer,
//! are refused with 503 (fail closed), and so are deletes while the store
//! cannot lock. Buckets without a quota are never touched.

use std::collections::BTreeMap;
use std::sync::Arc;

use cedargate_backends::{
    BackendError, ByteRange, GetOptions, ListOptions, ListVersionsOptions, VersioningStatus,
};

use crate::authorize::Authorizer;
use crate::backend_error::backend_error;
use crate::buckets::{BucketMap, BucketTarget};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::request::S3Request;
use crate::request::copy_source;
use crate::state::{Reservation, StateError, StateStore};
use cedargate_s3::classify::S3Operation;
use cedargate_s3::error::{S3Error, S3ErrorCode};

use self::lock::{ObjectLock, ObjectLocks};

mod lock;

/// A bucket's caps in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BucketQuota {
    /// Writes past this are refused.
    pub hard: Option<u64>,
    /// Writes past this are logged and counted.
    pub soft: Option<u64>,
}

/// One row of `GET /quotas`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuotaView {
    /// The client-facing bucket.
    pub bucket: String,
    /// Bytes stored; `null` while unknown.
    pub used: Option<u64>,
    /// Bytes reserved by writes in flight and uploaded parts.
    pub reserved: Option<u64>,
    /// The soft cap.
    pub soft: Option<u64>,
    /// The hard cap.
    pub hard: Option<u64>,
    /// `ok`, `unknown` (not scanned yet) or `unavailable` (the store does not answer).
    pub state: &'static str,
}

/// Every capped bucket's ledger.
#[derive(Debug)]
pub struct Quotas {
    store: Arc<dyn StateStore>,
    caps: BTreeMap<String, BucketQuota>,
    metrics: Metrics,
    locks: Arc<ObjectLocks>,
}

impl Quotas {
    /// The quotas of `config`'s buckets, kept in `store`.
    pub fn new(config: &Config, store: Arc<dyn StateStore>, metrics: Metrics) -> Self {
        let caps = config
            .buckets
            .iter()
            .filter_map(|(name, bucket)| {
                let quota = bucket.quota?;
                Some((
                    name.clone(),
                    BucketQuota {
                        hard: quota.hard.map(|size| size.as_u64()),
                        soft: quota.soft.map(|size| size.as_u64()),
                    },
                ))
            })
            .collect();
        Self {
            store,
            caps,
            metrics,
            locks: Arc::default(),
        }
    }

    /// The store the ledger lives in.
    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    /// The bucket's caps, when it has a quota.
    pub fn caps(&self, bucket: &str) -> Option<BucketQuota> {
        self.caps.get(bucket).copied()
    }

    /// Every capped bucket's figures.
    pub async fn view(&self) -> Vec<QuotaView> {
        let mut rows = Vec::with_capacity(self.caps.len());
        for (bucket, caps) in &self.caps {
            let (usage, state) = match self.store.usage(bucket).await {
                Ok(Some(usage)) => (Some(usage), "ok"),
                Ok(None) => (None, "unknown"),
                Err(_) => (None, "unavailable"),
            };
            rows.push(QuotaView {
                bucket: bucket.clone(),
                used: usage.map(|u| u.used),
                reserved: usage.map(|u| u.reserved),
                soft: caps.soft,
                hard: caps.hard,
                state,
            });
        }
        rows
    }

    /// Scans every capped bucket whose usage is unknown and records the sum
    /// of its object sizes (only while still unknown, so a scan never
    /// overwrites what other instances counted meanwhile).
    pub async fn scan_unknown(&self, buckets: &BucketMap) {
        for bucket in self.caps.keys() {
            match self.store.usage(bucket).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(error) => {
                    tracing::debug!(%error, bucket, "quota scan postponed: the state store does not answer");
                    continue;
                }
            }
            let Some(target) = buckets.get(bucket) else {
                continue;
            };
            match bucket_size(target).await {
                Ok(used) => match self.store.set_usage(bucket, used, false).await {
                    Ok(()) => tracing::info!(bucket, used, "bucket usage scanned"),
                    Err(error) => tracing::warn!(%error, bucket, "cannot record the scanned usage"),
                },
                Err(error) => tracing::warn!(%error, bucket, "cannot scan the bucket's usage"),
            }
        }
    }

    /// Before a DeleteObjects: locks `keys` of a capped bucket (in key
    /// order) and reads their sizes; nothing for a bucket without a quota.
    pub async fn before_delete(
        &self,
        target: &BucketTarget,
        keys: &[String],
    ) -> Result<DeleteTicket, S3Error> {
        let mut ticket = DeleteTicket::default();
        if self.caps(&target.name).is_none() {
            return Ok(ticket);
        }
        let ordered: std::collections::BTreeSet<&String> = keys.iter().collect();
        for key in ordered {
            ticket.locks.push(self.lock(&target.name, key).await?);
            ticket
                .sizes
                .insert(key.clone(), stored_bytes(target, key).await?.bytes);
        }
        ticket.bucket = Some(target.name.clone());
        Ok(ticket)
    }

    /// Takes object `key`'s lock in `bucket`.
    async fn lock(&self, bucket: &str, key: &str) -> Result<ObjectLock, S3Error> {
        lock::lock(&self.locks, &self.store, bucket, key).await
    }

    /// The quota facts policies see for `request` on a capped bucket:
    /// usage (fetched only for writes) and the hard cap; and, on any
    /// bucket, the bytes a copy writes.
    pub async fn set_context(
        &self,
        request: &S3Request,
        buckets: &BucketMap,
        authz: &mut Authorizer<'_>,
    ) {
        if matches!(
            request.operation,
            S3Operation::CopyObject | S3Operation::UploadPartCopy
        ) {
            // What a copy writes is its source (range), for every policy
            // that limits a write's size. Best effort: a source that cannot
            // be measured is answered by the copy itself, after the
            // decision, so nothing is told before authorization.
            if let Ok(bytes) = copy_length(request, buckets).await {
                authz.set_write_bytes(bytes);
            }
        }
        let Some(bucket) = request.route.bucket.as_deref() else {
            return;
        };
        let Some(caps) = self.caps(bucket) else {
            return;
        };
        let usage = if is_write(request.operation) {
            self.store.usage(bucket).await.ok().flatten()
        } else {
            None
        };
        authz.set_quota(usage, caps.hard, None);
    }

    /// Stage *limit* for writes and deletes on a capped bucket: measures
    /// what the request adds or frees, reserves what it adds. `None` for
    /// every other request.
    pub async fn prepare(
        self: &Arc<Self>,
        request: &S3Request,
        target: &BucketTarget,
        buckets: &BucketMap,
        authz: &mut Authorizer<'_>,
    ) -> Result<Option<QuotaTicket>, S3Error> {
        use S3Operation as Op;
        let Some(caps) = self.caps(&target.name) else {
            return Ok(None);
        };
        let bytes = match request.operation {
            Op::PutObject | Op::UploadPart => match request.content_length()? {
                Some(length) => length,
                // Bytes are reserved before the body is read.
                None if crate::body::has_undeclared_length(&request.headers) => {
                    return Err(S3Error::new(
                        S3ErrorCode::MissingContentLength,
                        "a bucket with a quota takes writes of a declared length: send \
                         Content-Length",
                    ));
                }
                // The handler answers MissingContentLength.
                None => return Ok(None),
            },
            // The size the decision saw (measured once, in `set_context`);
            // measured here only when that failed, so its error is answered.
            Op::CopyObject | Op::UploadPartCopy => match authz.write_bytes() {
                Some(bytes) => bytes,
                None => copy_length(request, buckets).await?,
            },
            _ => 0,
        };
        // The object's lock, for what changes its size, before its old size is read.
        let lock = match request.operation {
            Op::PutObject | Op::CopyObject | Op::CompleteMultipartUpload | Op::DeleteObject => {
                Some(self.lock(&target.name, request.key()?).await?)
            }
            _ => None,
        };
        let kind = match request.operation {
            Op::PutObject | Op::CopyObject => {
                let stored = stored_bytes(target, request.key()?).await?;
                TicketKind::Object {
                    old: stored.bytes,
                    versioned: stored.versioned,
                }
            }
            Op::UploadPart | Op::UploadPartCopy => TicketKind::Part {
                upload: Upload::of(request)?,
                part: part_number(request)?,
            },
            Op::CompleteMultipartUpload => TicketKind::Complete {
                upload: Upload::of(request)?,
                old: stored_bytes(target, request.key()?).await?.bytes,
            },
            Op::AbortMultipartUpload => TicketKind::Abort {
                upload: Upload::of(request)?,
            },
            // Kept even for an object that does not exist: the lock stops
            // a write from landing between this read and the delete.
            Op::DeleteObject => TicketKind::Delete {
                old: stored_bytes(target, request.key()?).await?.bytes,
            },
            _ => return Ok(None),
        };
        let mut ticket = QuotaTicket {
            quotas: Arc::clone(self),
            bucket: target.name.clone(),
            reserved: 0,
            kind,
            lock,
            done: false,
            written: None,
        };
        if matches!(
            ticket.kind,
            TicketKind::Object { .. } | TicketKind::Part { .. }
        ) {
            self.reserve(request, &target.name, bytes, caps, authz)
                .await?;
            ticket.reserved = bytes;
        }
        Ok(Some(ticket))
    }

    async fn reserve(
        &self,
        request: &S3Request,
        bucket: &str,
        bytes: u64,
        caps: BucketQuota,
        authz: &mut Authorizer<'_>,
    ) -> Result<(), S3Error> {
        let usage = match self.store.reserve(bucket, bytes, caps.hard).await {
            Ok(Reservation::Granted) => {
                self.check_soft(bucket, bytes, caps).await;
                return Ok(());
            }
            Ok(Reservation::Refused(usage)) => usage,
            Ok(Reservation::Unknown) => return Err(unknown_usage()),
            Err(error) => return Err(store_down(&error)),
        };
        // The bucket is fuller than the decision saw: ask again.
        authz.set_quota(Some(usage), caps.hard, Some(bytes));
        authz.require(
            request.operation.name(),
            bucket,
            request.route.key.as_deref(),
        )?;
        match self.store.reserve(bucket, bytes, None).await {
            Ok(Reservation::Granted) => Ok(()),
            Ok(Reservation::Unknown) => Err(unknown_usage()),
            Ok(Reservation::Refused(_)) => {
                Err(S3Error::internal("an uncapped reservation was refused"))
            }
            Err(error) => Err(store_down(&error)),
        }
    }

    async fn check_soft(&self, bucket: &str, bytes: u64, caps: BucketQuota) {
        let Some(soft) = caps.soft else { return };
        if let Ok(Some(usage)) = self.store.usage(bucket).await
            && usage.total() > soft
        {
            tracing::warn!(
                bucket,
                used = usage.used,
                reserved = usage.reserved,
                bytes,
                soft,
                "bucket past its soft cap"
            );
            self.metrics.record_quota_soft_exceeded();
        }
    }

    /// An object's lock was lost while a change of its size was counted:
    /// another write of it may have read the same old size, so the count
    /// may be wrong. The bucket's usage becomes unknown (writes to it are
    /// refused with 503 until the next maintenance round scans it again).
    async fn lock_lost(&self, bucket: &str) {
        tracing::error!(
            bucket,
            "an object lock was lost, or its release not confirmed, while its write was counted; the bucket's usage is scanned again"
        );
        if let Err(error) = self.store.forget_usage(bucket).await {
            tracing::error!(%error, bucket, "quota usage not reset; it may drift until the next scan");
        }
    }

    async fn settle_logged(&self, bucket: &str, reserved: u64, used_delta: i64) {
        if let Err(error) = self.store.settle(bucket, reserved, used_delta).await {
            tracing::error!(%error, bucket, reserved, used_delta, "quota usage not updated; it may drift until the next scan");
        }
    }
}

/// A DeleteObjects on a capped bucket: its keys locked and their sizes
/// read; [`Self::finish`] frees what was deleted and releases the locks.
#[derive(Debug, Default)]
pub struct DeleteTicket {
    /// The capped bucket; `None` when there is nothing to account for.
    bucket: Option<String>,
    sizes: BTreeMap<String, u64>,
    locks: Vec<ObjectLock>,
}

impl DeleteTicket {
    /// Accounts for the `deleted` keys: each changes usage by what it
    /// stores now minus what it stored before, read under its lock (a
    /// delete marker frees nothing, a deleted version its bytes); a key
    /// whose size cannot be read now counts as gone.
    pub async fn finish<'k>(
        self,
        quotas: &Quotas,
        target: &BucketTarget,
        deleted: impl IntoIterator<Item = &'k str>,
    ) {
        let Some(bucket) = self.bucket.as_deref() else {
            return;
        };
        // Each key once, with the size it had; collected before any await.
        let deleted: BTreeMap<String, u64> = deleted
            .into_iter()
            .filter_map(|key| Some((key.to_owned(), *self.sizes.get(key)?)))
            .collect();
        let mut moved: i64 = 0;
        for (key, old) in &deleted {
            let now = stored_bytes(target, key).await.map_or(0, |now| now.bytes);
            moved = moved.saturating_add(delta(now, *old));
        }
        if moved != 0 {
            quotas.settle_logged(bucket, 0, moved).await;
        }
        let mut lost = false;
        for lock in self.locks {
            lost |= !lock.release().await;
        }
        if lost {
            quotas.lock_lost(bucket).await;
        }
    }
}

/// What a request does to its bucket's usage.
#[derive(Debug)]
enum TicketKind {
    /// PutObject, CopyObject on a key storing `old` bytes: replaces them,
    /// or (`versioned`) adds a version, or replaces the `null` one.
    Object { old: u64, versioned: bool },
    /// UploadPart, UploadPartCopy: a part held until the upload ends.
    Part { upload: Upload, part: u32 },
    /// CompleteMultipartUpload: replaces an object of `old` bytes.
    Complete { upload: Upload, old: u64 },
    /// AbortMultipartUpload.
    Abort { upload: Upload },
    /// DeleteObject of an object of `old` bytes.
    Delete { old: u64 },
}

/// One request's effect on a capped bucket: the bytes it reserved and how
/// to account for them once the backend answered. Finish it with
/// [`Self::finish`]; a ticket dropped unfinished releases its reservation.
#[derive(Debug)]
pub struct QuotaTicket {
    quotas: Arc<Quotas>,
    bucket: String,
    reserved: u64,
    kind: TicketKind,
    /// The object's lock, held until usage is settled.
    lock: Option<ObjectLock>,
    done: bool,
    /// What the write stored, when less than it reserved (a POST upload
    /// reserves an upper bound of its file's size).
    written: Option<u64>,
}

impl QuotaTicket {
    /// Records the bytes a write stored, which [`Self::finish`] counts
    /// instead of what was reserved.
    pub fn set_written(&mut self, bytes: u64) {
        self.written = Some(bytes);
    }

    /// Accounts for the request's outcome: on success the reservation
    /// becomes usage (or a held part), on failure it is released.
    pub async fn finish(
        mut self,
        target: &BucketTarget,
        key: Option<&str>,
        outcome: Result<(), S3ErrorCode>,
    ) {
        self.done = true;
        let quotas = Arc::clone(&self.quotas);
        let store = quotas.store();
        let bucket = self.bucket.as_str();
        let result = match (&self.kind, outcome) {
            (TicketKind::Object { old, versioned }, Ok(())) => {
                let written = self.written.unwrap_or(self.reserved);
                // A versioned write keeps what was stored: measured again
                // under the lock (a suspended bucket's write replaces the
                // `null` version).
                let new = match (versioned, key) {
                    (false, _) | (true, None) => written,
                    (true, Some(key)) => stored_bytes(target, key)
                        .await
                        .map_or(old.saturating_add(written), |now| now.bytes),
                };
                store.settle(bucket, self.reserved, delta(new, *old)).await
            }
            (TicketKind::Part { upload, part }, Ok(())) => {
                store
                    .hold_part(bucket, &upload.key, &upload.id, *part, self.reserved)
                    .await
            }
            (TicketKind::Complete { upload, old }, Ok(())) => {
                let new = match key {
                    Some(key) => stored_bytes(target, key).await.map_or(0, |now| now.bytes),
                    None => 0,
                };
                store
                    .finish_upload(bucket, &upload.key, &upload.id, delta(new, *old))
                    .await
            }
            // Only an abort that succeeded frees an upload's parts, and
            // only those held under the key it names: a NoSuchUpload answer
            // frees nothing, and neither does an upstream that ends an
            // upload named with another key (the ledger holds nothing under
            // that pair).
            (TicketKind::Abort { upload }, Ok(())) => {
                store
                    .finish_upload(bucket, &upload.key, &upload.id, 0)
                    .await
            }
            (TicketKind::Delete { old }, Ok(())) => {
                // What is stored now decides, read under the lock: a delete
                // marker frees nothing, a deleted version its bytes.
                let moved = match key {
                    Some(key) => match stored_bytes(target, key).await {
                        Ok(now) => delta(now.bytes, *old),
                        Err(_) => negative(*old),
                    },
                    None => negative(*old),
                };
                store.settle(bucket, 0, moved).await
            }
            (TicketKind::Object { old, .. } | TicketKind::Delete { old }, Err(_)) => {
                // The upstream may have applied the change anyway (a
                // timeout, a connection lost after the write): what it
                // stores now decides, read under the lock.
                let now = match key {
                    Some(key) => stored_bytes(target, key).await.ok(),
                    None => None,
                };
                let moved = now.map_or(0, |now| delta(now.bytes, *old));
                store.settle(bucket, self.reserved, moved).await
            }
            (_, Err(_)) if self.reserved > 0 => store.settle(bucket, self.reserved, 0).await,
            (_, Err(_)) => Ok(()),
        };
        if let Err(error) = result {
            tracing::error!(%error, bucket, "quota usage not updated; it may drift until the next scan");
        }
        if let Some(lock) = self.lock.take()
            && !lock.release().await
        {
            quotas.lock_lost(bucket).await;
        }
    }
}

impl Drop for QuotaTicket {
    fn drop(&mut self) {
        if self.done || self.reserved == 0 {
            return;
        }
        // The request was abandoned mid-way: give the bytes back.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let quotas = Arc::clone(&self.quotas);
        let bucket = std::mem::take(&mut self.bucket);
        let reserved = self.reserved;
        runtime.spawn(async move { quotas.settle_logged(&bucket, reserved, 0).await });
    }
}

fn is_write(operation: S3Operation) -> bool {
    matches!(
        operation,
        S3Operation::PutObject
            | S3Operation::CopyObject
            | S3Operation::UploadPart
            | S3Operation::UploadPartCopy
    )
}

/// `new - old` as a signed byte count.
fn delta(new: u64, old: u64) -> i64 {
    if new >= old {
        i64::try_from(new - old).unwrap_or(i64::MAX)
    } else {
        negative(old - new)
    }
}

fn negative(bytes: u64) -> i64 {
    i64::try_from(bytes).map_or(i64::MIN, |b| -b)
}

/// The size of the object with client key `key` (of `version_id`, when
/// named), `None` when it does not exist.
async fn object_size(
    target: &BucketTarget,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<u64>, S3Error> {
    let options = GetOptions {
        version_id: version_id.map(str::to_owned),
        ..GetOptions::default()
    };
    match target
        .backend
        .head_object(&target.backend_bucket, &target.backend_key(key), options)
        .await
    {
        Ok(meta) => Ok(Some(meta.size)),
        Err(BackendError::NoSuchKey | BackendError::DeleteMarker { named: false, .. }) => Ok(None),
        Err(error) => Err(backend_error(target.client_error(error))),
    }
}

/// What a key stores: its bytes, and whether its bucket's versioning was
/// ever enabled.
#[derive(Debug, Clone, Copy)]
struct Stored {
    bytes: u64,
    versioned: bool,
}

/// The bytes client key `key` stores: its object's size in a bucket never
/// versioned, else the sum of its versions (delete markers weigh nothing).
async fn stored_bytes(target: &BucketTarget, key: &str) -> Result<Stored, S3Error> {
    let status = target
        .backend
        .get_bucket_versioning(&target.backend_bucket)
        .await
        .map_err(|error| backend_error(target.client_error(error)))?;
    if status == VersioningStatus::Unversioned {
        let bytes = object_size(target, key, None).await?.unwrap_or(0);
        return Ok(Stored {
            bytes,
            versioned: false,
        });
    }
    let backend_key = target.backend_key(key).into_owned();
    let mut bytes = 0u64;
    let mut options = ListVersionsOptions {
        prefix: backend_key.clone(),
        ..ListVersionsOptions::default()
    };
    // The key's own versions come first in a listing of it as a prefix.
    for _ in 0..MAX_VERSION_PAGES {
        let page = target
            .backend
            .list_object_versions(&target.backend_bucket, options.clone())
            .await
            .map_err(|error| backend_error(target.client_error(error)))?;
        let mut past_key = false;
        for version in &page.versions {
            if version.key == backend_key {
                bytes = bytes.saturating_add(version.size);
            } else {
                past_key = true;
            }
        }
        if past_key || !page.is_truncated {
            return Ok(Stored {
                bytes,
                versioned: true,
            });
        }
        options.key_marker = page.next_key_marker;
        options.version_id_marker = page.next_version_id_marker;
    }
    Err(S3Error::new(S3ErrorCode::ServiceUnavailable, "")
        .with_detail("a key has too many versions to measure"))
}

/// How many pages of one key's versions [`stored_bytes`] reads.
const MAX_VERSION_PAGES: usize = 100;

/// The bytes a CopyObject or UploadPartCopy copies: its source range, or
/// the whole source object.
async fn copy_length(request: &S3Request, buckets: &BucketMap) -> Result<u64, S3Error> {
    let source = copy_source(request)?;
    let target = buckets.get(&source.bucket).ok_or_else(|| {
        S3Error::new(
            S3ErrorCode::NoSuchBucket,
            "the copy source bucket does not exist",
        )
    })?;
    let size = object_size(target, &source.key, source.version_id.as_deref())
        .await?
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchKey, "the copy source does not exist"))?;
    let range = request
        .header("x-amz-copy-source-range")
        .and_then(ByteRange::parse);
    Ok(match range.map(|range| range.resolve(size)) {
        Some(Ok((first, last))) => last - first + 1,
        _ => size,
    })
}

/// The sum of a bucket's object sizes (only those under its prefix), every
/// version's in a bucket whose versioning was ever enabled.
async fn bucket_size(target: &BucketTarget) -> Result<u64, BackendError> {
    let status = target
        .backend
        .get_bucket_versioning(&target.backend_bucket)
        .await?;
    if status != VersioningStatus::Unversioned {
        return versions_size(target).await;
    }
    let mut total = 0u64;
    let mut start_after = target.backend_marker(None);
    loop {
        let page = target
            .backend
            .list_objects(
                &target.backend_bucket,
                ListOptions {
                    prefix: target.backend_key("").into_owned(),
                    start_after: start_after.take(),
                    ..ListOptions::default()
                },
            )
            .await?;
        let page = target.client_page(page);
        total = page
            .objects
            .iter()
            .fold(total, |sum, o| sum.saturating_add(o.size));
        match page.next_start_after {
            Some(next) if page.is_truncated => start_after = target.backend_marker(Some(&next)),
            _ => return Ok(total),
        }
    }
}

/// The sum of the sizes of every version under the bucket's prefix.
async fn versions_size(target: &BucketTarget) -> Result<u64, BackendError> {
    let mut total = 0u64;
    let mut options = ListVersionsOptions {
        prefix: target.backend_key("").into_owned(),
        ..ListVersionsOptions::default()
    };
    loop {
        let page = target
            .backend
            .list_object_versions(&target.backend_bucket, options.clone())
            .await?;
        let (truncated, key_marker, version_marker) = (
            page.is_truncated,
            page.next_key_marker.clone(),
            page.next_version_id_marker.clone(),
        );
        let page = target.client_versions(page);
        total = page
            .versions
            .iter()
            .fold(total, |sum, v| sum.saturating_add(v.size));
        match key_marker {
            Some(marker) if truncated => {
                options.key_marker = Some(marker);
                options.version_id_marker = version_marker;
            }
            _ => return Ok(total),
        }
    }
}

/// A multipart upload as the ledger knows it: its object key and id together.
#[derive(Debug)]
struct Upload {
    key: String,
    id: String,
}

impl Upload {
    fn of(request: &S3Request) -> Result<Self, S3Error> {
        Ok(Self {
            key: request.key()?.to_owned(),
            id: upload_id(request)?,
        })
    }
}

fn upload_id(request: &S3Request) -> Result<String, S3Error> {
    request
        .query
        .get("uploadId")
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidArgument, "`uploadId` is missing"))
}

fn part_number(request: &S3Request) -> Result<u32, S3Error> {
    request
        .query_number("partNumber", 1..=10_000)?
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidArgument, "`partNumber` is missing"))
}

fn unknown_usage() -> S3Error {
    S3Error::new(S3ErrorCode::ServiceUnavailable, "")
        .with_detail("the bucket usage is not known yet (scan pending)")
}

fn store_down(error: &StateError) -> S3Error {
    S3Error::new(S3ErrorCode::ServiceUnavailable, "").with_detail(error)
}

#[cfg(test)]
mod tests;
