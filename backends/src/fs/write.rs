//! Committing writes in the filesystem backend: under the key's lock,
//! check the write's conditions, rename the staged data file into its key
//! directory, then its sidecar; and delete objects with the directories
//! they leave empty.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::ErrorKind;

use super::checksums::{StoredChecksum, StoredPart};
use super::install::{RETRIES, install_sidecar, sync_dir};
use super::layout::ObjectPaths;
use super::meta::{Sidecar, TAGGING_COUNT, load_meta, load_sidecar, write_json_temp};
use super::staging::{Staged, TempFile};
use super::versions;
use super::{Ctx, blocking, io_error, is_missing};
use crate::{
    BackendError, BackendResult, Conditions, ObjectChecksum, ObjectHeaders, ObjectMeta, PutOutput,
    TagSet, VersioningStatus,
};

/// What becomes of a staged file once committed.
#[derive(Debug)]
pub(super) struct NewObject {
    /// The data.
    pub staged: Staged,
    /// ETag to record.
    pub etag: String,
    /// Standard headers.
    pub headers: ObjectHeaders,
    /// User metadata.
    pub user_metadata: BTreeMap<String, String>,
    /// Part count, for multipart objects.
    pub parts_count: Option<u32>,
    /// Tags.
    pub tags: TagSet,
    /// Conditional-write preconditions, checked under the key's lock.
    pub conditions: Conditions,
    /// The checksum to store.
    pub checksum: Option<ObjectChecksum>,
    /// A multipart object's parts, and the upload that made it.
    pub multipart: Option<(Vec<StoredPart>, String)>,
}

/// Commits `object` at `paths`: takes the key's lock, checks the write's
/// conditions, renames the data, then the sidecar. Runs as its own task,
/// so a client going away cannot interrupt it halfway.
pub(super) async fn commit(
    ctx: &Ctx,
    paths: ObjectPaths,
    object: NewObject,
) -> BackendResult<PutOutput> {
    let ctx = ctx.clone();
    let task = tokio::spawn(async move {
        let _guard = ctx.shared.key_locks.lock(&paths.bucket, &paths.key).await;
        let locked = ctx.clone();
        blocking(move || commit_locked(&locked, &paths, object)).await
    });
    task.await.map_err(BackendError::other)?
}

fn commit_locked(ctx: &Ctx, paths: &ObjectPaths, object: NewObject) -> BackendResult<PutOutput> {
    if !object.conditions.is_empty() {
        let current = current_meta(ctx, paths)?;
        object.conditions.evaluate_write(current.as_ref())?;
    }
    // In a versioned bucket the current version is kept (Enabled) or the
    // `null` one replaced (Suspended), before the new data takes its place.
    let status = versions::state(ctx, &paths.bucket)?;
    let version_id = match status {
        VersioningStatus::Unversioned => None,
        VersioningStatus::Enabled => Some(versions::new_version_id()),
        VersioningStatus::Suspended => None,
    };
    if status != VersioningStatus::Unversioned {
        let current = current_sidecar(ctx, paths)?;
        let suspended = status == VersioningStatus::Suspended;
        versions::archive_current(ctx, paths, current.as_ref(), suspended)?;
        if suspended {
            versions::drop_null_entry(paths)?;
        }
    }
    let mut headers = object.headers;
    headers.storage.remove(TAGGING_COUNT);
    let sidecar = Sidecar {
        etag: object.etag.clone(),
        size: object.staged.size,
        mtime_ns: object.staged.stamp.mtime_ns,
        headers,
        user_metadata: object.user_metadata,
        parts_count: object.parts_count,
        tags: object.tags,
        version_id: version_id.clone(),
        delete_marker: false,
        checksum: object.checksum.as_ref().map(StoredChecksum::from),
        parts: Vec::new(),
        upload_id: None,
    };
    let (parts, upload_id) = object.multipart.unzip();
    let sidecar = Sidecar {
        parts: parts.unwrap_or_default(),
        upload_id,
        ..sidecar
    };
    let sidecar_temp = write_json_temp(ctx, &sidecar)?;
    place_data(ctx, object.staged.temp, paths)?;
    install_sidecar(ctx, sidecar_temp, paths)?;
    let version_id = match status {
        VersioningStatus::Unversioned => None,
        _ => Some(version_id.unwrap_or_else(|| "null".to_owned())),
    };
    Ok(PutOutput {
        etag: object.etag,
        size: object.staged.size,
        version_id,
        checksum: object.checksum,
    })
}

/// Opens the data file of `paths`, or `None` when there is no object (no
/// file, a directory, or a symbolic link, which the backend never serves).
pub(super) fn open_data(paths: &ObjectPaths) -> BackendResult<Option<File>> {
    match std::fs::symlink_metadata(&paths.data) {
        Ok(metadata) if metadata.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(io_error("inspecting", &paths.data, e)),
    }
    match File::open(&paths.data) {
        Ok(file) => Ok(Some(file)),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(io_error("opening", &paths.data, e)),
    }
}

/// The current version's sidecar at `paths`, if there is one.
pub(super) fn current_sidecar(ctx: &Ctx, paths: &ObjectPaths) -> BackendResult<Option<Sidecar>> {
    match open_data(paths)? {
        Some(mut file) => load_sidecar(ctx, paths, &mut file).map(Some),
        None => Ok(None),
    }
}

/// The current object at `paths`, if any.
pub(super) fn current_meta(ctx: &Ctx, paths: &ObjectPaths) -> BackendResult<Option<ObjectMeta>> {
    match open_data(paths)? {
        Some(mut file) => load_meta(ctx, paths, &mut file).map(Some),
        None => Ok(None),
    }
}

/// The refusal when something other than a directory (a file placed by
/// hand) stands where one of the key's directories belongs.
fn in_the_way(paths: &ObjectPaths) -> BackendError {
    BackendError::invalid_argument(format!(
        "key `{}` cannot be stored: a file that is not an object stands where its \
         directory belongs",
        paths.key
    ))
}

/// Fails fast, before a body is read, when a non-directory stands where
/// one of the key's directories belongs (only files placed by hand can).
pub(super) fn precheck(paths: &ObjectPaths) -> BackendResult<()> {
    for dir in paths.key_dirs() {
        match std::fs::symlink_metadata(dir) {
            Ok(metadata) if metadata.is_dir() => return Ok(()),
            Ok(_) => return Err(in_the_way(paths)),
            Err(_) => {}
        }
    }
    Ok(())
}

/// Renames a staged data file into place. A delete pruning the key's
/// (empty) directories may remove them between their creation and the
/// rename; the rename then fails and is retried, so no data is lost.
fn place_data(ctx: &Ctx, mut temp: TempFile, paths: &ObjectPaths) -> BackendResult<()> {
    for _ in 0..RETRIES {
        if let Err(e) = std::fs::create_dir_all(&paths.dir) {
            match e.kind() {
                ErrorKind::NotFound => continue,
                ErrorKind::NotADirectory | ErrorKind::AlreadyExists => {
                    return Err(in_the_way(paths));
                }
                ErrorKind::InvalidFilename => return Err(too_long()),
                _ => return Err(io_error("creating", &paths.dir, e)),
            }
        }
        let Err(e) = temp.rename_to(&paths.data) else {
            sync_dir(ctx, &paths.dir);
            return Ok(());
        };
        match e.kind() {
            ErrorKind::NotFound => {}
            ErrorKind::NotADirectory => return Err(in_the_way(paths)),
            ErrorKind::InvalidFilename => return Err(too_long()),
            _ => return Err(io_error("renaming into", &paths.data, e)),
        }
    }
    Err(BackendError::other(format!(
        "placing {} kept racing with concurrent deletes",
        paths.data.display()
    )))
}

fn too_long() -> BackendError {
    BackendError::invalid_argument("the key is too long for the filesystem backend")
}

/// Deletes the object at `paths` (the caller holds the key's lock), then
/// the directories its removal left empty.
pub(super) fn delete_locked(paths: &ObjectPaths) -> BackendResult<()> {
    match std::fs::symlink_metadata(&paths.data) {
        Ok(metadata) if metadata.is_file() => match std::fs::remove_file(&paths.data) {
            Ok(()) => {}
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(io_error("removing", &paths.data, e)),
        },
        Ok(_) => return Ok(()),
        Err(e) if is_missing(&e) => {}
        Err(e) => return Err(io_error("inspecting", &paths.data, e)),
    }
    if let Err(e) = std::fs::remove_file(&paths.meta)
        && !is_missing(&e)
    {
        tracing::warn!(path = %paths.meta.display(), error = %e, "could not remove a sidecar");
    }
    prune_empty_dirs(paths);
    Ok(())
}

/// Removes the key's directory and its ancestors below the bucket
/// directory while they are empty. `remove_dir` only ever removes an
/// empty directory, so a concurrent write that renamed its data in first
/// stops the pruning, and one whose directory is pruned first retries.
pub(super) fn prune_empty_dirs(paths: &ObjectPaths) {
    for dir in paths.key_dirs() {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}
