//! Bucket operations of the filesystem backend: a bucket is a directory
//! under the root, created by CreateBucket and removed by DeleteBucket once
//! it holds no object, with its staged uploads.

use std::path::Path;

use super::layout::{DATA_FILE, SIDECAR_FILE, is_valid_bucket};
use super::{Ctx, blocking, ensure_bucket, io_error, list};
use crate::{BackendError, BackendResult, BucketSummary, ListOptions};

pub(super) async fn create(ctx: &Ctx, bucket: &str) -> BackendResult<()> {
    if !is_valid_bucket(bucket) {
        return Err(BackendError::invalid_argument(format!(
            "bucket name `{bucket}` cannot be stored by the filesystem backend"
        )));
    }
    let dir = ctx.shared.layout.bucket_dir(bucket)?;
    let bucket_meta = ctx.shared.layout.bucket_meta(bucket)?;
    let (inner, name) = (ctx.clone(), bucket.to_owned());
    blocking(move || match std::fs::create_dir(&dir) {
        Ok(()) => {
            // A bucket created again starts unversioned, without ACL or tags.
            super::versions::forget_state(&inner, &name);
            super::bucket_meta::remove(&bucket_meta)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackendError::BucketAlreadyOwnedByYou)
        }
        Err(e) => Err(io_error("creating", &dir, e)),
    })
    .await
}

/// Removes the bucket when it lists no object. The directory tree is
/// removed bottom-up with `remove_dir`, which never unlinks a data file:
/// an object renamed in meanwhile stops the removal and keeps the bucket
/// (BucketNotEmpty). Only sidecars without a data file beside them (left
/// by a crash mid-delete) are unlinked on the way. Staged uploads go after
/// the tree. A write that recreates the bucket directory after the tree is
/// gone (a write racing the delete) keeps its data but may lose its
/// sidecar.
pub(super) async fn delete(ctx: &Ctx, bucket: &str) -> BackendResult<()> {
    let dir = ctx.shared.layout.bucket_dir(bucket)?;
    {
        let dir = dir.clone();
        blocking(move || ensure_bucket(&dir)).await?;
    }
    let probe = ListOptions {
        max_keys: 1,
        ..ListOptions::default()
    };
    let page = list::list_objects(ctx, bucket, probe).await?;
    if !page.objects.is_empty() || !page.common_prefixes.is_empty() {
        return Err(BackendError::BucketNotEmpty);
    }
    let uploads = ctx.shared.layout.uploads_dir(bucket)?;
    let bucket_meta = ctx.shared.layout.bucket_meta(bucket)?;
    let (inner, name) = (ctx.clone(), bucket.to_owned());
    blocking(move || {
        if !remove_directories(&dir) {
            return Err(BackendError::BucketNotEmpty);
        }
        super::versions::forget_state(&inner, &name);
        remove_all(&uploads)?;
        super::bucket_meta::remove(&bucket_meta)
    })
    .await
}

/// Removes `dir` and the directories under it, bottom-up, without removing
/// any file but orphaned sidecars; false when a file (or anything else) is
/// in the way.
fn remove_directories(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for entry in entries.flatten() {
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        let removed = if is_dir {
            remove_directories(&entry.path())
        } else {
            entry.file_name() == SIDECAR_FILE
                && !dir.join(DATA_FILE).exists()
                && std::fs::remove_file(entry.path()).is_ok()
        };
        if !removed {
            return false;
        }
    }
    std::fs::remove_dir(dir).is_ok()
}

fn remove_all(dir: &Path) -> BackendResult<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("removing", dir, e)),
    }
}

pub(super) async fn list_all(ctx: &Ctx) -> BackendResult<Vec<BucketSummary>> {
    let root = ctx.shared.layout.root.clone();
    blocking(move || {
        let entries = std::fs::read_dir(&root).map_err(|e| io_error("listing", &root, e))?;
        let mut buckets = Vec::new();
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !is_valid_bucket(&name) || !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            let created = entry.metadata().and_then(|m| m.created()).ok();
            buckets.push(BucketSummary { name, created });
        }
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(buckets)
    })
    .await
}
