//! Staging for the filesystem backend's writes: temp files under
//! `<root>/.cedargate/tmp` that vanish on any error or cancellation, filled
//! from a request body or from byte ranges of other files while hashing.
//! A staged file is complete and hashed, waiting to be committed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;

use super::checksums::Digests;
use super::layout::Layout;
use super::stamp::Stamp;
use super::{Ctx, blocking, io_error};
use crate::{BackendError, BackendResult, BodySource, ChecksumAlgorithm, ObjectChecksum};

/// A file under `<root>/.cedargate/tmp` that is removed when this guard is
/// dropped, unless it was renamed into place first.
#[derive(Debug)]
pub(super) struct TempFile {
    path: PathBuf,
    /// Set on drop; a creation still in flight checks it and cleans up.
    dropped: Arc<AtomicBool>,
    armed: bool,
}

impl TempFile {
    fn new(layout: &Layout) -> Self {
        Self {
            path: layout.temp_path(".tmp"),
            dropped: Arc::new(AtomicBool::new(false)),
            armed: true,
        }
    }

    /// Creates a temp file from blocking code.
    pub fn create_sync(layout: &Layout) -> BackendResult<(Self, File)> {
        let guard = Self::new(layout);
        let file = create_new(&guard.path)?;
        Ok((guard, file))
    }

    /// Creates a temp file; if this future is dropped while the creation
    /// runs on the blocking pool, the file is still removed.
    pub async fn create(layout: &Layout) -> BackendResult<(Self, File)> {
        let guard = Self::new(layout);
        let (path, dropped) = (guard.path.clone(), guard.dropped.clone());
        let file = blocking(move || {
            let file = create_new(&path)?;
            // Pairs with the store in `drop`: either the guard sees the
            // file, or this sees the flag.
            if dropped.load(Ordering::SeqCst) {
                let _ = std::fs::remove_file(&path);
            }
            Ok(file)
        })
        .await?;
        Ok((guard, file))
    }

    /// The temp file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temp file to `to`; on success the guard is spent.
    pub fn rename_to(&mut self, to: &Path) -> std::io::Result<()> {
        std::fs::rename(&self.path, to)?;
        self.armed = false;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            self.dropped.store(true, Ordering::SeqCst);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn create_new(path: &Path) -> BackendResult<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io_error("creating", path, e))
}

/// A complete temp file, hashed, waiting to be renamed into place.
#[derive(Debug)]
pub(super) struct Staged {
    /// The file.
    pub temp: TempFile,
    /// Its length.
    pub size: u64,
    /// MD5 of its content.
    pub md5: [u8; 16],
    /// Its stamp, as the sidecar will record it.
    pub stamp: Stamp,
    /// Its CRC64NVME and the checksum of the algorithm asked for, if any.
    pub checksums: Vec<ObjectChecksum>,
}

/// Gives the file a fresh modification time (with full ns precision, so
/// two writes of a key never share a stamp), syncs it if asked, and
/// returns its stamp.
fn finish_file(file: &File, durable: bool, path: &Path) -> BackendResult<Stamp> {
    file.set_modified(SystemTime::now())
        .map_err(|e| io_error("touching", path, e))?;
    if durable {
        file.sync_all().map_err(|e| io_error("syncing", path, e))?;
    }
    let metadata = file
        .metadata()
        .map_err(|e| io_error("inspecting", path, e))?;
    Stamp::of(&metadata).map_err(|e| io_error("inspecting", path, e))
}

/// Streams `body` into a temp file, checking the declared length and MD5,
/// and computing the checksum of `algorithm` besides the CRC64NVME.
pub(super) async fn stage_body(
    ctx: &Ctx,
    body: &mut dyn BodySource,
    content_length: Option<u64>,
    content_md5: Option<[u8; 16]>,
    algorithm: Option<ChecksumAlgorithm>,
) -> BackendResult<Staged> {
    let (temp, file) = TempFile::create(&ctx.shared.layout).await?;
    let mut file = tokio::fs::File::from_std(file);
    let mut hasher = Md5::new();
    let mut digests = Digests::new(algorithm);
    let mut size: u64 = 0;
    while let Some(chunk) = body.next_chunk().await.map_err(BackendError::Body)? {
        size += chunk.len() as u64;
        if content_length.is_some_and(|declared| size > declared) {
            return Err(BackendError::IncompleteBody);
        }
        hasher.update(&chunk);
        digests.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error("writing", temp.path(), e))?;
    }
    file.flush()
        .await
        .map_err(|e| io_error("writing", temp.path(), e))?;
    if content_length.is_some_and(|declared| size != declared) {
        return Err(BackendError::IncompleteBody);
    }
    let md5: [u8; 16] = hasher.finalize().into();
    if content_md5.is_some_and(|declared| declared != md5) {
        return Err(BackendError::BadDigest);
    }
    let file = file.into_std().await;
    let (durable, path) = (ctx.durable, temp.path().to_owned());
    let stamp = blocking(move || finish_file(&file, durable, &path)).await?;
    Ok(Staged {
        temp,
        size,
        md5,
        stamp,
        checksums: digests.finish(),
    })
}

/// Builds a temp file from byte ranges of other files (copies and
/// multipart assembly); blocking code only.
#[derive(Debug)]
pub(super) struct TempWriter {
    temp: TempFile,
    file: File,
    hasher: Md5,
    digests: Digests,
    size: u64,
}

impl TempWriter {
    /// A new, empty temp file, whose content's CRC64NVME and `algorithm`
    /// checksum are computed as it is written.
    pub fn create(layout: &Layout, algorithm: Option<ChecksumAlgorithm>) -> BackendResult<Self> {
        let (temp, file) = TempFile::create_sync(layout)?;
        Ok(Self {
            temp,
            file,
            hasher: Md5::new(),
            digests: Digests::new(algorithm),
            size: 0,
        })
    }

    /// Appends `len` bytes of `source` starting at `first`.
    pub fn append(&mut self, source: &mut File, first: u64, len: u64) -> BackendResult<()> {
        let read_error = |e| BackendError::other(format!("reading a source file: {e}"));
        source.seek(SeekFrom::Start(first)).map_err(read_error)?;
        let mut buf = vec![0; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let read = source.read(&mut buf[..want]).map_err(read_error)?;
            if read == 0 {
                return Err(BackendError::other("a source file ended early"));
            }
            self.hasher.update(&buf[..read]);
            self.digests.update(&buf[..read]);
            self.file
                .write_all(&buf[..read])
                .map_err(|e| io_error("writing", self.temp.path(), e))?;
            left -= read as u64;
        }
        self.size += len;
        Ok(())
    }

    /// Finishes the file.
    pub fn finish(self, durable: bool) -> BackendResult<Staged> {
        let stamp = finish_file(&self.file, durable, self.temp.path())?;
        Ok(Staged {
            temp: self.temp,
            size: self.size,
            md5: self.hasher.finalize().into(),
            stamp,
            checksums: self.digests.finish(),
        })
    }
}
