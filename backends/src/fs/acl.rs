//! Object ACLs of the filesystem backend: an object's canned ACL is kept in
//! its sidecar (absent for `private`), set by the write that created the
//! object (`x-amz-acl`) or by PutObjectAcl, which replaces the sidecar
//! under the key's lock as PutObjectTagging does.

use super::install::install_sidecar;
use super::meta::{load_sidecar, write_json_temp};
use super::object::stored_paths;
use super::write::open_data;
use super::{Ctx, blocking, ensure_bucket};
use crate::{BackendError, BackendResult, CannedAcl, ObjectRef};

pub(super) async fn get(ctx: &Ctx, object: ObjectRef<'_>) -> BackendResult<CannedAcl> {
    let paths = stored_paths(ctx, object.bucket, object.key).await?;
    let ctx = ctx.clone();
    blocking(move || {
        ensure_bucket(&paths.bucket_dir)?;
        let mut file = open_data(&paths)?.ok_or(BackendError::NoSuchKey)?;
        Ok(load_sidecar(&ctx, &paths, &mut file)?.acl())
    })
    .await
}

/// Replaces an object's canned ACL: under the key's lock, a sidecar for the
/// same data file with the new ACL takes the old one's place.
pub(super) async fn put(ctx: &Ctx, object: ObjectRef<'_>, acl: CannedAcl) -> BackendResult<()> {
    let paths = stored_paths(ctx, object.bucket, object.key).await?;
    let ctx = ctx.clone();
    let task = tokio::spawn(async move {
        let _guard = ctx.shared.key_locks.lock(&paths.bucket, &paths.key).await;
        blocking(move || {
            ensure_bucket(&paths.bucket_dir)?;
            let mut file = open_data(&paths)?.ok_or(BackendError::NoSuchKey)?;
            let mut sidecar = load_sidecar(&ctx, &paths, &mut file)?;
            sidecar.set_acl(acl);
            let temp = write_json_temp(&ctx, &sidecar)?;
            install_sidecar(&ctx, temp, &paths)
        })
        .await
    });
    task.await.map_err(BackendError::other)?
}
