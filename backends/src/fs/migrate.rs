//! Bringing a data directory to the current layout when the backend
//! starts.
//!
//! Version 1 (no marker) kept key `a/b` as the file `<bucket>/a/b` and its
//! sidecar as `.cedargate/meta/<bucket>/a/b`. Version 2 keeps it as
//! `<bucket>/a/b/%object` with `<bucket>/a/b/%meta.json` beside it. The
//! migration moves every version-1 data file into its own key directory,
//! then every sidecar next to its data file, removes the emptied
//! `.cedargate/meta` tree, and writes the marker `.cedargate/layout` last.
//!
//! Every step is a rename within one directory tree, so data is never
//! copied, and a migration interrupted at any point resumes on the next
//! start: moving the file `d/n` into `d/n/` takes three renames (`d/n` to
//! `d/%migrating-data`, a new directory `d/n`, then `d/n/%object`), and a
//! journal `d/%migrating` naming `n`, synced before the first rename and
//! removed after the last, tells a resumed migration where the held file
//! goes. A renamed file keeps its modification time, so its sidecar still
//! describes it.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::Path;

use super::io_error;
use super::layout::{DATA_FILE, Layout, SIDECAR_FILE, decode_segment, is_valid_bucket};
use crate::{BackendError, BackendResult};

/// The layout this backend reads and writes.
pub(super) const LAYOUT_VERSION: u32 = 2;

/// The journal of a file being moved into its key directory.
const JOURNAL: &str = "%migrating";
/// The file being moved, while its key directory is created.
const HELD: &str = "%migrating-data";

/// Migrates the tree under `layout.root` to [`LAYOUT_VERSION`] unless its
/// marker says it is there already; refuses a version it does not know.
pub(super) fn ensure_current(layout: &Layout) -> BackendResult<()> {
    match std::fs::read_to_string(&layout.marker) {
        Ok(text) => {
            return match text.trim().parse::<u32>() {
                Ok(LAYOUT_VERSION) => Ok(()),
                _ => Err(BackendError::other(format!(
                    "the data directory `{}` has layout version `{}`, which this cedargate \
                     does not know (it reads and writes version {LAYOUT_VERSION}); \
                     run the cedargate release that wrote it",
                    layout.root.display(),
                    text.trim()
                ))),
            };
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("reading", &layout.marker, e)),
    }
    let mut moved = 0;
    for bucket_dir in bucket_dirs(&layout.root)? {
        moved += migrate_data(&bucket_dir)?;
    }
    for meta_dir in bucket_dirs(&layout.legacy_meta)? {
        if let Some(bucket) = meta_dir.file_name() {
            migrate_sidecars(&meta_dir, &layout.root.join(bucket))?;
        }
    }
    match std::fs::remove_dir_all(&layout.legacy_meta) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("removing", &layout.legacy_meta, e)),
    }
    write_marker(layout)?;
    if moved > 0 {
        tracing::info!(
            root = %layout.root.display(),
            objects = moved,
            version = LAYOUT_VERSION,
            "migrated the data directory to the current layout"
        );
    }
    Ok(())
}

/// The directories under `dir` named like buckets.
fn bucket_dirs(dir: &Path) -> BackendResult<Vec<std::path::PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("listing", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("listing", dir, e))?;
        let named = entry.file_name().to_str().is_some_and(is_valid_bucket);
        // A bucket directory, never a symbolic link to one: the migration
        // only renames what lies inside the data directory.
        let directory = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if named && directory {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// Moves every version-1 data file under `dir` into its key directory;
/// answers how many were moved.
fn migrate_data(dir: &Path) -> BackendResult<usize> {
    resume(dir)?;
    let entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io_error("listing", dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io_error("listing", dir, e))?;
    let mut moved = 0;
    for entry in entries {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if decode_segment(&name).is_none() {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_file() => {
                move_into_key_dir(dir, &name)?;
                moved += 1;
            }
            Ok(kind) if kind.is_dir() => moved += migrate_data(&entry.path())?,
            _ => {}
        }
    }
    Ok(moved)
}

/// Finishes a move an interrupted migration left in `dir`, if any.
fn resume(dir: &Path) -> BackendResult<()> {
    let journal = dir.join(JOURNAL);
    let name = match std::fs::read_to_string(&journal) {
        Ok(name) => name,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("reading", &journal, e)),
    };
    // Without a held file the journal was written but nothing moved yet
    // (or everything already had): the walk handles the file where it is.
    if dir.join(HELD).is_file() && decode_segment(&name).is_some() {
        place_held(dir, &name)?;
    }
    std::fs::remove_file(&journal).map_err(|e| io_error("removing", &journal, e))?;
    sync(dir)
}

/// Moves the data file `dir/name` to `dir/name/%object`.
fn move_into_key_dir(dir: &Path, name: &str) -> BackendResult<()> {
    let journal = dir.join(JOURNAL);
    let mut file = File::create(&journal).map_err(|e| io_error("creating", &journal, e))?;
    file.write_all(name.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("writing", &journal, e))?;
    sync(dir)?;
    let (data, held) = (dir.join(name), dir.join(HELD));
    std::fs::rename(&data, &held).map_err(|e| io_error("renaming", &data, e))?;
    place_held(dir, name)?;
    std::fs::remove_file(&journal).map_err(|e| io_error("removing", &journal, e))
}

/// Creates the key directory `dir/name` and renames the held file into it.
fn place_held(dir: &Path, name: &str) -> BackendResult<()> {
    let key_dir = dir.join(name);
    std::fs::create_dir_all(&key_dir).map_err(|e| io_error("creating", &key_dir, e))?;
    let (held, data) = (dir.join(HELD), key_dir.join(DATA_FILE));
    std::fs::rename(&held, &data).map_err(|e| io_error("renaming", &held, e))?;
    sync(&key_dir)?;
    sync(dir)
}

/// Moves the version-1 sidecars under `meta_dir` next to their data files
/// under `data_dir`; sidecars of data files that are gone stay behind, to
/// be removed with the old tree.
fn migrate_sidecars(meta_dir: &Path, data_dir: &Path) -> BackendResult<()> {
    let entries = std::fs::read_dir(meta_dir).map_err(|e| io_error("listing", meta_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error("listing", meta_dir, e))?;
        let name = entry.file_name();
        if name.to_str().and_then(decode_segment).is_none() {
            continue;
        }
        let key_dir = data_dir.join(&name);
        match entry.file_type() {
            Ok(kind) if kind.is_file() => {
                let sidecar = key_dir.join(SIDECAR_FILE);
                if key_dir.join(DATA_FILE).is_file() && !sidecar.exists() {
                    std::fs::rename(entry.path(), &sidecar)
                        .map_err(|e| io_error("renaming", &entry.path(), e))?;
                    sync(&key_dir)?;
                }
            }
            Ok(kind) if kind.is_dir() => migrate_sidecars(&entry.path(), &key_dir)?,
            _ => {}
        }
    }
    Ok(())
}

/// Writes the marker: a temp file, synced, renamed into place.
fn write_marker(layout: &Layout) -> BackendResult<()> {
    let temp = layout.temp_path(".layout");
    let mut file = File::create(&temp).map_err(|e| io_error("creating", &temp, e))?;
    file.write_all(format!("{LAYOUT_VERSION}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("writing", &temp, e))?;
    std::fs::rename(&temp, &layout.marker).map_err(|e| io_error("renaming", &temp, e))?;
    if let Some(internal) = layout.marker.parent() {
        sync(internal)?;
    }
    Ok(())
}

fn sync(dir: &Path) -> BackendResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("syncing", dir, e))
}
