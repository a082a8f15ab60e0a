//! Committing writes in the filesystem backend: under the key's lock,
//! check the write's conditions, rename the staged data file into place,
//! then its sidecar; detect keys that conflict with existing objects; and
//! delete objects with the directories they leave empty.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::ErrorKind;
use std::path::Path;

use super::checksums::{StoredChecksum, StoredPart};
use super::install::{RETRIES, install_sidecar, sync_dir};
use super::layout::ObjectPaths;
use super::meta::{Sidecar, TAGGING_COUNT, load_meta, write_json_temp};
use super::staging::{Staged, TempFile};
use super::{Ctx, blocking, io_error, is_missing};
use crate::{
    BackendError, BackendResult, Conditions, ObjectChecksum, ObjectHeaders, ObjectMeta, PutOutput,
    TagSet,
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
    install_sidecar(ctx, sidecar_temp, paths, true)?;
    Ok(PutOutput {
        etag: object.etag,
        size: object.staged.size,
        version_id: None,
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

/// The current object at `paths`, if any.
pub(super) fn current_meta(ctx: &Ctx, paths: &ObjectPaths) -> BackendResult<Option<ObjectMeta>> {
    match open_data(paths)? {
        Some(mut file) => load_meta(ctx, paths, &mut file).map(Some),
        None => Ok(None),
    }
}

fn conflict_with_object(paths: &ObjectPaths, count: usize) -> BackendError {
    BackendError::invalid_argument(format!(
        "key `{}` conflicts with existing object `{}`: the filesystem backend cannot \
         store a key and keys under it",
        paths.key,
        paths.ancestor_key(count)
    ))
}

fn conflict_with_children(paths: &ObjectPaths) -> BackendError {
    BackendError::invalid_argument(format!(
        "key `{0}` conflicts with existing objects under `{0}/`: the filesystem backend \
         cannot store a key and keys under it",
        paths.key
    ))
}

/// The conflict when a data-file ancestor of `paths` is not a directory.
fn ancestor_conflict(paths: &ObjectPaths) -> Option<BackendError> {
    for (count, dir) in paths.data_ancestors() {
        match std::fs::symlink_metadata(dir) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => return Some(conflict_with_object(paths, count)),
            Err(_) => return None,
        }
    }
    None
}

/// True when the tree under `dir` holds anything but directories.
fn has_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| match entry.file_type() {
        Ok(kind) if kind.is_dir() => has_files(&entry.path()),
        _ => true,
    })
}

/// Removes `dir` if its whole tree is empty directories.
fn remove_empty_tree(dir: &Path) -> bool {
    !has_files(dir) && std::fs::remove_dir_all(dir).is_ok()
}

/// Fails fast, before a body is read, when `paths` conflicts with an
/// existing object.
pub(super) fn precheck(paths: &ObjectPaths) -> BackendResult<()> {
    if let Some(conflict) = ancestor_conflict(paths) {
        return Err(conflict);
    }
    match std::fs::symlink_metadata(&paths.data) {
        Ok(metadata) if metadata.is_dir() && has_files(&paths.data) => {
            Err(conflict_with_children(paths))
        }
        _ => Ok(()),
    }
}

/// Renames a staged data file into place.
fn place_data(ctx: &Ctx, mut temp: TempFile, paths: &ObjectPaths) -> BackendResult<()> {
    let parent = paths.data.parent().unwrap_or(&paths.bucket_dir);
    for _ in 0..RETRIES {
        if let Err(e) = std::fs::create_dir_all(parent) {
            if let Some(conflict) = ancestor_conflict(paths) {
                return Err(conflict);
            }
            if e.kind() == ErrorKind::NotFound {
                continue;
            }
            return Err(io_error("creating", parent, e));
        }
        let Err(e) = temp.rename_to(&paths.data) else {
            sync_dir(ctx, parent);
            return Ok(());
        };
        match e.kind() {
            ErrorKind::NotFound => {}
            ErrorKind::IsADirectory | ErrorKind::DirectoryNotEmpty | ErrorKind::AlreadyExists => {
                if !remove_empty_tree(&paths.data) {
                    return Err(conflict_with_children(paths));
                }
            }
            ErrorKind::NotADirectory => {
                if let Some(conflict) = ancestor_conflict(paths) {
                    return Err(conflict);
                }
            }
            ErrorKind::InvalidFilename => {
                return Err(BackendError::invalid_argument(
                    "the key is too long for the filesystem backend",
                ));
            }
            _ => return Err(io_error("renaming into", &paths.data, e)),
        }
    }
    Err(BackendError::other(format!(
        "placing {} kept racing with concurrent deletes",
        paths.data.display()
    )))
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
    prune_empty_dirs(&paths.data, &paths.bucket_dir);
    prune_empty_dirs(&paths.meta, &paths.meta_bucket_dir);
    Ok(())
}

/// Removes the empty ancestors of `path` up to (not including) `stop`.
pub(super) fn prune_empty_dirs(path: &Path, stop: &Path) {
    for dir in path.ancestors().skip(1) {
        if dir == stop || !dir.starts_with(stop) || std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}
