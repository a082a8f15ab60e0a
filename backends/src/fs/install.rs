//! Renaming finished sidecars into place in the filesystem backend, and
//! syncing a directory after a rename when writes are durable. Sidecars
//! are installed here, by writers and by readers refreshing a stale one.

use std::fs::File;
use std::path::Path;

use super::layout::ObjectPaths;
use super::staging::TempFile;
use super::{Ctx, io_error};
use crate::BackendResult;

/// How often a rename is retried when a concurrent delete removed an empty
/// parent directory in between.
pub(super) const RETRIES: usize = 8;

/// Renames a sidecar temp file into place, next to its data file. Every
/// caller holds the key's lock and has seen the data file, so the key's
/// directory exists: it holds that file, and pruning never removes a
/// directory that is not empty.
pub(super) fn install_sidecar(
    ctx: &Ctx,
    mut temp: TempFile,
    paths: &ObjectPaths,
) -> BackendResult<()> {
    temp.rename_to(&paths.meta)
        .map_err(|e| io_error("renaming into", &paths.meta, e))?;
    sync_dir(ctx, &paths.dir);
    Ok(())
}

/// Syncs a directory after a rename into it, when writes are durable.
pub(super) fn sync_dir(ctx: &Ctx, dir: &Path) {
    if ctx.durable
        && let Err(error) = File::open(dir).and_then(|d| d.sync_all())
    {
        tracing::warn!(dir = %dir.display(), %error, "could not sync a directory");
    }
}
