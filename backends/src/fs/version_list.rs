//! ListObjectVersions for a bucket whose versioning was ever enabled: every
//! key with a current version or kept versions, in ascending byte order,
//! each key's versions newest first (the current one, then `%versions` in
//! id order), rolled up to common prefixes at the delimiter, paged with the
//! key and version id markers as S3 pages them.

use std::path::Path;

use super::layout::{DATA_FILE, decode_segment};
use super::list::{MAX_PAGE, rollup};
use super::versions::{self, VERSIONS_DIR};
use super::write::current_sidecar;
use super::{Ctx, blocking, ensure_bucket};
use crate::{BackendResult, ListVersionsOptions, ListVersionsPage, ObjectVersion};

pub(super) async fn list(
    ctx: &Ctx,
    bucket: &str,
    options: ListVersionsOptions,
) -> BackendResult<ListVersionsPage> {
    let bucket_dir = ctx.shared.layout.bucket_dir(bucket)?;
    let ctx = ctx.clone();
    let bucket = bucket.to_owned();
    blocking(move || {
        ensure_bucket(&bucket_dir)?;
        let mut keys = Vec::new();
        collect_keys(&bucket_dir, "", &options.prefix, &mut keys);
        keys.sort();
        page(&ctx, &bucket, keys, &options)
    })
    .await
}

/// Every key under `dir` (whose keys start with `dir_key`) that has a
/// current version or kept versions and may start with `prefix`.
fn collect_keys(dir: &Path, dir_key: &str, prefix: &str, keys: &mut Vec<String>) {
    let Ok(reader) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in reader.flatten() {
        if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let Some(segment) = entry.file_name().to_str().and_then(decode_segment) else {
            continue;
        };
        let key = format!("{dir_key}{segment}");
        if !(key.starts_with(prefix) || prefix.starts_with(&key)) {
            continue;
        }
        let path = entry.path();
        if key.starts_with(prefix)
            && (path.join(DATA_FILE).is_file() || path.join(VERSIONS_DIR).is_dir())
        {
            keys.push(key.clone());
        }
        collect_keys(&path, &format!("{key}/"), prefix, keys);
    }
}

/// A key's versions, newest first.
fn versions_of(ctx: &Ctx, bucket: &str, key: &str) -> BackendResult<Vec<ObjectVersion>> {
    let paths = ctx.shared.layout.object(bucket, key)?;
    let mut out = Vec::new();
    let current = current_sidecar(ctx, &paths)?;
    let has_current = current.is_some();
    if let Some(current) = current {
        out.push(version(key, &current, true));
    }
    for (index, entry) in versions::entries(&paths)?.into_iter().enumerate() {
        out.push(version(key, &entry.sidecar, !has_current && index == 0));
    }
    Ok(out)
}

fn version(key: &str, sidecar: &super::meta::Sidecar, is_latest: bool) -> ObjectVersion {
    ObjectVersion {
        key: key.to_owned(),
        version_id: versions::public_id(sidecar),
        is_latest,
        is_delete_marker: sidecar.delete_marker,
        size: sidecar.size,
        etag: sidecar.etag.clone(),
        last_modified: super::stamp::ns_to_time(sidecar.mtime_ns),
    }
}

/// One page from the sorted `keys`.
fn page(
    ctx: &Ctx,
    bucket: &str,
    keys: Vec<String>,
    options: &ListVersionsOptions,
) -> BackendResult<ListVersionsPage> {
    let max = options.max_keys.min(MAX_PAGE);
    let mut out = ListVersionsPage::default();
    let key_marker = options.key_marker.as_deref().filter(|m| !m.is_empty());
    let mut count = 0usize;
    let mut last_prefix: Option<String> = None;
    for key in keys {
        if let Some(marker) = key_marker {
            if key.as_str() < marker {
                continue;
            }
            if key == marker && options.version_id_marker.is_none() {
                continue;
            }
        }
        if let Some(common) = rollup(&options.prefix, options.delimiter.as_deref(), &key) {
            if last_prefix.as_deref() == Some(common.as_str())
                || key_marker.is_some_and(|marker| marker >= common.as_str())
            {
                continue;
            }
            if count == max {
                out.is_truncated = true;
                break;
            }
            out.common_prefixes.push(common.clone());
            out.next_key_marker = Some(common.clone());
            out.next_version_id_marker = None;
            last_prefix = Some(common);
            count += 1;
            continue;
        }
        let mut listed = versions_of(ctx, bucket, &key)?;
        if key_marker == Some(key.as_str())
            && let Some(after) = options.version_id_marker.as_deref()
        {
            match listed.iter().position(|v| v.version_id == after) {
                Some(at) => {
                    listed.drain(..=at);
                }
                None => listed.clear(),
            }
        }
        for version in listed {
            if count == max {
                out.is_truncated = true;
                break;
            }
            out.next_key_marker = Some(version.key.clone());
            out.next_version_id_marker = Some(version.version_id.clone());
            out.versions.push(version);
            count += 1;
        }
        if out.is_truncated {
            break;
        }
    }
    if !out.is_truncated {
        out.next_key_marker = None;
        out.next_version_id_marker = None;
    }
    Ok(out)
}
