//! Bucket metadata of the filesystem backend: a bucket's canned ACL and
//! tags, kept as one JSON file per bucket at
//! `<root>/.cedargate/buckets/<bucket>.json` (absent while the bucket has
//! neither). A change reads the file, edits it and renames a fresh one into
//! place under the bucket's lock (the key-lock table's empty key, which no
//! object can have); DeleteBucket removes it, and CreateBucket removes one
//! left by a bucket deleted by hand.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::meta::{read_json, write_json_temp};
use super::{Ctx, blocking, ensure_bucket, io_error, is_missing};
use crate::{BackendResult, CannedAcl, TagSet};

/// The JSON of a bucket's metadata file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct BucketMeta {
    /// The canned ACL's name; absent for `private`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    /// The bucket's tags.
    #[serde(default, skip_serializing_if = "TagSet::is_empty")]
    pub tags: TagSet,
}

impl BucketMeta {
    /// The bucket's canned ACL (`private` when none, or an unknown name).
    pub fn acl(&self) -> CannedAcl {
        self.acl
            .as_deref()
            .and_then(CannedAcl::from_name)
            .unwrap_or_default()
    }
}

/// The metadata of `bucket`, after checking that it exists.
pub(super) async fn read(ctx: &Ctx, bucket: &str) -> BackendResult<BucketMeta> {
    let dir = ctx.shared.layout.bucket_dir(bucket)?;
    let path = ctx.shared.layout.bucket_meta(bucket)?;
    blocking(move || {
        ensure_bucket(&dir)?;
        Ok(read_json(&path).unwrap_or_default())
    })
    .await
}

/// Applies `change` to the metadata of `bucket`, under the bucket's lock.
pub(super) async fn update(
    ctx: &Ctx,
    bucket: &str,
    change: impl FnOnce(&mut BucketMeta) + Send + 'static,
) -> BackendResult<()> {
    let dir = ctx.shared.layout.bucket_dir(bucket)?;
    let path = ctx.shared.layout.bucket_meta(bucket)?;
    let _guard = ctx.shared.key_locks.lock(bucket, "").await;
    let ctx = ctx.clone();
    blocking(move || {
        ensure_bucket(&dir)?;
        let mut meta: BucketMeta = read_json(&path).unwrap_or_default();
        change(&mut meta);
        if meta == BucketMeta::default() {
            return remove(&path);
        }
        let mut temp = write_json_temp(&ctx, &meta)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("creating", parent, e))?;
        }
        temp.rename_to(&path)
            .map_err(|e| io_error("renaming into", &path, e))
    })
    .await
}

/// Removes a bucket's metadata file, if any.
pub(super) fn remove(path: &Path) -> BackendResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if is_missing(&e) => Ok(()),
        Err(e) => Err(io_error("removing", path, e)),
    }
}
