//! Renaming finished temp files into place in the filesystem backend: the
//! rename retried when a concurrent delete removes an empty parent
//! directory in between, and the directory synced after it when writes
//! are durable. Sidecars are installed here, by writers and by readers
//! refreshing a stale one.

use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;

use super::layout::ObjectPaths;
use super::staging::TempFile;
use super::{Ctx, io_error};
use crate::{BackendError, BackendResult};

/// How often a rename is retried when a concurrent delete removed an empty
/// parent directory in between.
pub(super) const RETRIES: usize = 8;

/// Renames a sidecar temp file into place. With `clear_stale`, sidecars in
/// the way (left by keys that the data tree proves gone) are removed; only
/// callers holding the key's lock right after placing its data may ask.
pub(super) fn install_sidecar(
    ctx: &Ctx,
    mut temp: TempFile,
    paths: &ObjectPaths,
    clear_stale: bool,
) -> BackendResult<()> {
    let parent = paths.meta.parent().unwrap_or(&paths.meta_bucket_dir);
    let mut last_error = None;
    for _ in 0..RETRIES {
        if let Err(e) = std::fs::create_dir_all(parent) {
            if clear_stale {
                clear_stale_ancestors(paths);
            }
            last_error = Some(e);
            continue;
        }
        let Err(e) = temp.rename_to(&paths.meta) else {
            sync_dir(ctx, parent);
            return Ok(());
        };
        match e.kind() {
            ErrorKind::IsADirectory | ErrorKind::DirectoryNotEmpty | ErrorKind::AlreadyExists
                if clear_stale =>
            {
                let _ = std::fs::remove_dir_all(&paths.meta);
            }
            ErrorKind::NotFound | ErrorKind::NotADirectory => {}
            _ => return Err(io_error("renaming into", &paths.meta, e)),
        }
        last_error = Some(e);
    }
    let detail = last_error.map(|e| e.to_string()).unwrap_or_default();
    Err(BackendError::other(format!(
        "could not install {}: {detail}",
        paths.meta.display()
    )))
}

fn clear_stale_ancestors(paths: &ObjectPaths) {
    for dir in paths
        .meta
        .ancestors()
        .skip(1)
        .take_while(|dir| *dir != paths.meta_bucket_dir)
    {
        if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
            let _ = std::fs::remove_file(dir);
        }
    }
}

/// Syncs a directory after a rename into it, when writes are durable.
pub(super) fn sync_dir(ctx: &Ctx, dir: &Path) {
    if ctx.durable
        && let Err(error) = File::open(dir).and_then(|d| d.sync_all())
    {
        tracing::warn!(dir = %dir.display(), %error, "could not sync a directory");
    }
}
