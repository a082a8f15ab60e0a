//! Object metadata sidecars: the JSON file `%meta.json` kept beside each
//! data file `%object` in its key's directory, and how a reader turns an
//! open data file into an [`ObjectMeta`].
//!
//! A sidecar records the size and modification time (ns) of the data file
//! it describes. A reader opens the data file first, then trusts the
//! sidecar only when both match the open file; otherwise (no sidecar, a
//! stale one, or a corrupt one) the object is still served, with its MD5
//! computed from the open file and empty headers, and a fresh sidecar is
//! written on a best-effort basis.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::checksums::{StoredChecksum, StoredPart};
use super::install::install_sidecar;
use super::layout::ObjectPaths;
use super::staging::TempFile;
use super::stamp::{Stamp, ns_to_time};
use super::{Ctx, io_error};
use crate::{BackendResult, ObjectChecksum, ObjectHeaders, ObjectMeta, TagSet};

/// The read header that counts an object's tags; never stored.
pub(super) const TAGGING_COUNT: &str = "x-amz-tagging-count";

/// The storage header a sidecar keeps an object's canned ACL under (absent
/// for `private`); never returned with the object's headers, only by
/// GetObjectAcl.
pub(super) const ACL: &str = "x-amz-acl";

/// The JSON stored in a sidecar.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Sidecar {
    /// ETag without quotes.
    pub etag: String,
    /// Size of the data file this sidecar describes.
    pub size: u64,
    /// Modification time (ns) of the data file this sidecar describes.
    pub mtime_ns: i64,
    /// Standard headers.
    #[serde(default)]
    pub headers: ObjectHeaders,
    /// User metadata.
    #[serde(default)]
    pub user_metadata: BTreeMap<String, String>,
    /// Part count of multipart objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_count: Option<u32>,
    /// The object's tags.
    #[serde(default, skip_serializing_if = "TagSet::is_empty")]
    pub tags: TagSet,
    /// The version this is, in a bucket whose versioning was ever
    /// enabled; `None` is the `null` version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// A delete marker (no data file): a noncurrent-version entry only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    /// The object's checksum (FULL_OBJECT, or COMPOSITE for multipart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
    /// The parts of an object a multipart upload made, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<StoredPart>,
    /// The multipart upload that made the object: a repeated
    /// CompleteMultipartUpload of it answers again while this sidecar
    /// describes the current data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
}

impl Sidecar {
    /// The object's canned ACL.
    pub fn acl(&self) -> crate::CannedAcl {
        self.headers
            .storage
            .get(ACL)
            .and_then(|name| crate::CannedAcl::from_name(name))
            .unwrap_or_default()
    }

    /// Sets the object's canned ACL.
    pub fn set_acl(&mut self, acl: crate::CannedAcl) {
        if acl == crate::CannedAcl::Private {
            self.headers.storage.remove(ACL);
        } else {
            self.headers
                .storage
                .insert(ACL.to_owned(), acl.as_str().to_owned());
        }
    }

    /// True when the sidecar describes a file with this stamp.
    pub fn describes(&self, stamp: Stamp) -> bool {
        self.size == stamp.size && self.mtime_ns == stamp.mtime_ns
    }

    /// The object's metadata.
    pub fn into_meta(self, key: &str) -> ObjectMeta {
        let mut headers = self.headers;
        headers.storage.remove(ACL);
        if !self.tags.is_empty() {
            headers
                .storage
                .insert(TAGGING_COUNT.to_owned(), self.tags.len().to_string());
        }
        ObjectMeta {
            key: key.to_owned(),
            size: self.size,
            etag: self.etag,
            last_modified: ns_to_time(self.mtime_ns),
            headers,
            user_metadata: self.user_metadata,
            parts_count: self.parts_count,
            version_id: self.version_id,
            checksum: self.checksum.as_ref().map(ObjectChecksum::from),
        }
    }
}

/// Reads a JSON file; `None` when it is missing, unreadable or not valid.
pub(super) fn read_json<T: for<'de> Deserialize<'de>>(path: &std::path::Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `value` as JSON to a fresh temp file, ready to be installed.
pub(super) fn write_json_temp<T: Serialize>(ctx: &Ctx, value: &T) -> BackendResult<TempFile> {
    let bytes = serde_json::to_vec(value).map_err(crate::BackendError::other)?;
    let (temp, mut file) = TempFile::create_sync(&ctx.shared.layout)?;
    file.write_all(&bytes)
        .map_err(|e| io_error("writing", temp.path(), e))?;
    if ctx.durable {
        file.sync_all()
            .map_err(|e| io_error("syncing", temp.path(), e))?;
    }
    Ok(temp)
}

/// Lowercase hex MD5 of a whole open file (read from its start).
pub(super) fn md5_of_file(file: &mut File) -> std::io::Result<[u8; 16]> {
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buf)?;
        if read == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buf[..read]);
    }
}

/// The metadata of the object whose data file is open as `file`.
pub(super) fn load_meta(
    ctx: &Ctx,
    paths: &ObjectPaths,
    file: &mut File,
) -> BackendResult<ObjectMeta> {
    load_sidecar(ctx, paths, file).map(|sidecar| sidecar.into_meta(&paths.key))
}

/// The sidecar describing the open data file `file`, recomputed (and
/// stored again, best effort) when the stored one does not describe it.
pub(super) fn load_sidecar(
    ctx: &Ctx,
    paths: &ObjectPaths,
    file: &mut File,
) -> BackendResult<Sidecar> {
    let metadata = file
        .metadata()
        .map_err(|e| io_error("inspecting", &paths.data, e))?;
    let stamp = Stamp::of(&metadata).map_err(|e| io_error("inspecting", &paths.data, e))?;
    if let Some(sidecar) = read_json::<Sidecar>(&paths.meta)
        && sidecar.describes(stamp)
    {
        return Ok(sidecar);
    }
    let md5 = md5_of_file(file).map_err(|e| io_error("reading", &paths.data, e))?;
    let sidecar = Sidecar {
        etag: hex::encode(md5),
        size: stamp.size,
        mtime_ns: stamp.mtime_ns,
        headers: ObjectHeaders::default(),
        user_metadata: BTreeMap::new(),
        parts_count: None,
        tags: TagSet::new(),
        version_id: None,
        delete_marker: false,
        checksum: None,
        parts: Vec::new(),
        upload_id: None,
    };
    refresh_sidecar(ctx, paths, &sidecar);
    Ok(sidecar)
}

/// Best effort: stores a recomputed sidecar, unless a writer holds the key
/// or the data file changed since it was hashed.
fn refresh_sidecar(ctx: &Ctx, paths: &ObjectPaths, sidecar: &Sidecar) {
    let Some(_guard) = ctx.shared.key_locks.try_lock(&paths.bucket, &paths.key) else {
        return;
    };
    let current = std::fs::symlink_metadata(&paths.data)
        .ok()
        .and_then(|m| Stamp::of(&m).ok());
    if current
        != Some(Stamp {
            size: sidecar.size,
            mtime_ns: sidecar.mtime_ns,
        })
    {
        return;
    }
    let result = write_json_temp(ctx, sidecar).and_then(|temp| install_sidecar(ctx, temp, paths));
    if let Err(error) = result {
        tracing::debug!(key = %paths.key, %error, "could not refresh an object's metadata sidecar");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_keep_unknown_fields_optional() {
        let parsed: Sidecar =
            serde_json::from_str(r#"{"etag":"x","size":1,"mtime_ns":2}"#).unwrap();
        assert!(parsed.describes(Stamp {
            size: 1,
            mtime_ns: 2
        }));
        assert!(!parsed.describes(Stamp {
            size: 1,
            mtime_ns: 3
        }));
        assert_eq!(parsed.parts_count, None);
    }
}
