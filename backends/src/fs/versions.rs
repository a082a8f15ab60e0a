//! Object versions in the filesystem backend: the bucket's versioning
//! state, version ids, and the noncurrent versions and delete markers kept
//! in each key's `%versions` directory (see the [module docs](super)).
//!
//! Every function that changes a key's versions runs with the key's lock
//! held by its caller.

use std::path::PathBuf;

use super::install::{install_sidecar, sync_dir};
use super::layout::{DATA_FILE, ObjectPaths, SIDECAR_FILE};
use super::meta::{Sidecar, read_json, write_json_temp};
use super::{Ctx, io_error, is_missing};
use crate::{BackendError, BackendResult, VersioningStatus};

/// The directory of a key's noncurrent versions and delete markers.
pub(super) const VERSIONS_DIR: &str = "%versions";

/// `<root>/.cedargate/versioning/<bucket>`: the bucket's state, `Enabled`
/// or `Suspended`; absent while versioning was never enabled.
pub(super) fn state_path(ctx: &Ctx, bucket: &str) -> PathBuf {
    ctx.shared
        .layout
        .root
        .join(".cedargate")
        .join("versioning")
        .join(bucket)
}

/// The bucket's versioning state (the bucket is not checked).
pub(super) fn state(ctx: &Ctx, bucket: &str) -> BackendResult<VersioningStatus> {
    ctx.shared.layout.bucket_dir(bucket)?;
    let path = state_path(ctx, bucket);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(match text.trim().trim_matches('"') {
            "Enabled" => VersioningStatus::Enabled,
            _ => VersioningStatus::Suspended,
        }),
        Err(e) if is_missing(&e) => Ok(VersioningStatus::Unversioned),
        Err(e) => Err(io_error("reading", &path, e)),
    }
}

/// Records the bucket's versioning state (write, fsync, rename).
pub(super) fn set_state(ctx: &Ctx, bucket: &str, status: VersioningStatus) -> BackendResult<()> {
    ctx.shared.layout.bucket_dir(bucket)?;
    let text = status.as_str().ok_or_else(|| {
        BackendError::invalid_argument("versioning can only be enabled or suspended")
    })?;
    let path = state_path(ctx, bucket);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, e))?;
    }
    let mut temp = write_json_temp(ctx, &text)?;
    temp.rename_to(&path)
        .map_err(|e| io_error("renaming into", &path, e))?;
    if let Some(dir) = path.parent() {
        sync_dir(ctx, dir);
    }
    Ok(())
}

/// Forgets the bucket's state (DeleteBucket).
pub(super) fn forget_state(ctx: &Ctx, bucket: &str) {
    let path = state_path(ctx, bucket);
    if let Err(e) = std::fs::remove_file(&path)
        && !is_missing(&e)
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove a versioning state");
    }
}

/// A version id that sorts before every older one: the time in ns,
/// inverted, then random bits, 24 lowercase hex digits.
pub(super) fn new_version_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let salt = uuid::Uuid::new_v4().as_u128() as u32;
    sort_key(now, salt)
}

fn sort_key(ns: u64, salt: u32) -> String {
    format!("{:016x}{salt:08x}", u64::MAX - ns)
}

/// The sort key of a version written at `mtime_ns` that has no id of its
/// own (the `null` version).
fn null_sort_key(mtime_ns: i64) -> String {
    sort_key(u64::try_from(mtime_ns).unwrap_or(0), 0)
}

/// Whether `id` is a version id this backend could have given.
pub(super) fn is_version_id(id: &str) -> bool {
    id.len() == 24
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Refuses a version id no version can have (InvalidArgument, as S3).
pub(super) fn check_id(id: &str) -> BackendResult<()> {
    if id == "null" || is_version_id(id) {
        Ok(())
    } else {
        Err(BackendError::invalid_argument(
            "invalid version id specified",
        ))
    }
}

/// The public id of a sidecar's version.
pub(super) fn public_id(sidecar: &Sidecar) -> String {
    sidecar
        .version_id
        .clone()
        .unwrap_or_else(|| "null".to_owned())
}

/// The paths of the entry `sort_key` of `paths`' versions.
pub(super) fn entry_paths(paths: &ObjectPaths, sort_key: &str) -> ObjectPaths {
    let dir = paths.dir.join(VERSIONS_DIR).join(sort_key);
    ObjectPaths {
        data: dir.join(DATA_FILE),
        meta: dir.join(SIDECAR_FILE),
        dir,
        ..paths.clone()
    }
}

/// One noncurrent version or delete marker.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// Its directory's name under `%versions` (newest sorts first).
    pub sort_key: String,
    /// Its sidecar.
    pub sidecar: Sidecar,
}

/// The key's noncurrent versions and delete markers, newest first.
pub(super) fn entries(paths: &ObjectPaths) -> BackendResult<Vec<Entry>> {
    let dir = paths.dir.join(VERSIONS_DIR);
    let reader = match std::fs::read_dir(&dir) {
        Ok(reader) => reader,
        Err(e) if is_missing(&e) => return Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(Vec::new()),
        Err(e) => return Err(io_error("listing", &dir, e)),
    };
    let mut out = Vec::new();
    for entry in reader.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(sidecar) = read_json::<Sidecar>(&entry.path().join(SIDECAR_FILE)) {
            out.push(Entry {
                sort_key: name,
                sidecar,
            });
        }
    }
    out.sort_by(|a, b| a.sort_key.cmp(&b.sort_key));
    Ok(out)
}

/// The entry holding version `id` (`null` included), if any.
pub(super) fn find(paths: &ObjectPaths, id: &str) -> BackendResult<Option<Entry>> {
    Ok(entries(paths)?
        .into_iter()
        .find(|entry| public_id(&entry.sidecar) == id))
}

/// Moves the current version into `%versions` (kept under its id, or its
/// time for the `null` version), or removes it when `drop_null` and it is
/// the `null` version. Nothing when there is no current version.
pub(super) fn archive_current(
    ctx: &Ctx,
    paths: &ObjectPaths,
    current: Option<&Sidecar>,
    drop_null: bool,
) -> BackendResult<()> {
    let Some(current) = current else {
        return Ok(());
    };
    if drop_null && current.version_id.is_none() {
        return remove_current(paths);
    }
    let key = current
        .version_id
        .clone()
        .unwrap_or_else(|| null_sort_key(current.mtime_ns));
    let entry = entry_paths(paths, &key);
    std::fs::create_dir_all(&entry.dir).map_err(|e| io_error("creating", &entry.dir, e))?;
    std::fs::rename(&paths.meta, &entry.meta).or_else(|e| {
        // A sidecar lost: write the one read instead.
        if is_missing(&e) {
            let temp = write_json_temp(ctx, current)?;
            install_sidecar(ctx, temp, &entry)
        } else {
            Err(io_error("renaming", &paths.meta, e))
        }
    })?;
    std::fs::rename(&paths.data, &entry.data).map_err(|e| io_error("renaming", &paths.data, e))?;
    sync_dir(ctx, &entry.dir);
    sync_dir(ctx, &paths.dir);
    Ok(())
}

/// Removes the current version's files.
fn remove_current(paths: &ObjectPaths) -> BackendResult<()> {
    for path in [&paths.data, &paths.meta] {
        if let Err(e) = std::fs::remove_file(path)
            && !is_missing(&e)
        {
            return Err(io_error("removing", path, e));
        }
    }
    Ok(())
}

/// Removes the `null` version or marker from `%versions`, if there.
pub(super) fn drop_null_entry(paths: &ObjectPaths) -> BackendResult<()> {
    if let Some(entry) = find(paths, "null")? {
        remove_entry(paths, &entry.sort_key)?;
    }
    Ok(())
}

/// Removes one entry's directory.
pub(super) fn remove_entry(paths: &ObjectPaths, sort_key: &str) -> BackendResult<()> {
    let entry = entry_paths(paths, sort_key);
    match std::fs::remove_dir_all(&entry.dir) {
        Ok(()) => Ok(()),
        Err(e) if is_missing(&e) => Ok(()),
        Err(e) => Err(io_error("removing", &entry.dir, e)),
    }
}

/// Adds a delete marker `id` (`None`: the `null` one) written now.
pub(super) fn add_marker(ctx: &Ctx, paths: &ObjectPaths, id: Option<String>) -> BackendResult<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let key = id.clone().unwrap_or_else(|| null_sort_key(now));
    let entry = entry_paths(paths, &key);
    std::fs::create_dir_all(&entry.dir).map_err(|e| io_error("creating", &entry.dir, e))?;
    let marker = Sidecar {
        etag: String::new(),
        size: 0,
        mtime_ns: now,
        headers: crate::ObjectHeaders::default(),
        user_metadata: std::collections::BTreeMap::new(),
        parts_count: None,
        tags: crate::TagSet::new(),
        version_id: id,
        delete_marker: true,
        checksum: None,
        parts: Vec::new(),
        upload_id: None,
    };
    let temp = write_json_temp(ctx, &marker)?;
    install_sidecar(ctx, temp, &entry)
}

/// With no current version, makes the newest entry current again when it
/// is a version (not a delete marker).
pub(super) fn promote(ctx: &Ctx, paths: &ObjectPaths) -> BackendResult<()> {
    if std::fs::symlink_metadata(&paths.data).is_ok() {
        return Ok(());
    }
    let Some(newest) = entries(paths)?.into_iter().next() else {
        return Ok(());
    };
    if newest.sidecar.delete_marker {
        return Ok(());
    }
    let entry = entry_paths(paths, &newest.sort_key);
    std::fs::rename(&entry.data, &paths.data).map_err(|e| io_error("renaming", &entry.data, e))?;
    std::fs::rename(&entry.meta, &paths.meta).map_err(|e| io_error("renaming", &entry.meta, e))?;
    sync_dir(ctx, &paths.dir);
    remove_entry(paths, &newest.sort_key)
}

/// Removes the key's `%versions` directory once it is empty.
pub(super) fn prune_versions_dir(paths: &ObjectPaths) {
    let _ = std::fs::remove_dir(paths.dir.join(VERSIONS_DIR));
}
