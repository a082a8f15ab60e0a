//! Multipart uploads for the filesystem backend.
//!
//! Each upload is staged in `<root>/.cedargate/uploads/<bucket>/<upload_id>/`:
//! `upload.json` (key, initiation time, the headers, metadata and write
//! conditions given at creation) and, per part, `part-00001` (the bytes)
//! and `part-00001.json` (ETag, size, mtime). Part writes and completion
//! hold the upload's lock, so a part and its record always match.
//! Completion concatenates the parts into a temp file and commits it like
//! any write; the staging directory then disappears with one rename.
//!
//! Upload ids are 16 hex digits of the initiation time (ns) followed by a
//! random UUID: unguessable, safe as a file name, and sorting by id sorts an
//! upload's key's uploads by initiation, so `upload_id_marker` pages by
//! S3's rule (ids greater than the marker) and initiation order at once.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use super::meta::{read_json, write_json_temp};
use super::object::{open_object, stored_paths};
use super::staging::{Staged, TempWriter, stage_body};
use super::stamp::{Stamp, ns_to_time, time_to_ns};
use super::write::{NewObject, commit, precheck};
use super::{Ctx, blocking, ensure_bucket, io_error};
use crate::{
    BackendError, BackendResult, BodySource, ByteRange, CompletedPart, Conditions, CopyOutput,
    ObjectHeaders, ObjectRef, PartCopyOptions, PartOptions, PartOutput, PutOptions, PutOutput,
    TagSet, UploadRef,
};

mod list;

pub(super) use list::{list_parts, list_uploads};

const UPLOAD_RECORD: &str = "upload.json";

/// `upload.json`.
#[derive(Debug, Serialize, Deserialize)]
struct UploadRecord {
    key: String,
    initiated_ns: i64,
    #[serde(default)]
    headers: ObjectHeaders,
    #[serde(default)]
    user_metadata: BTreeMap<String, String>,
    #[serde(default)]
    conditions: StoredConditions,
    #[serde(default, skip_serializing_if = "TagSet::is_empty")]
    tags: TagSet,
}

/// Write conditions given at creation, checked when the upload completes.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredConditions {
    if_match: Option<String>,
    if_none_match: Option<String>,
    if_modified_since_ns: Option<i64>,
    if_unmodified_since_ns: Option<i64>,
}

impl From<Conditions> for StoredConditions {
    fn from(c: Conditions) -> Self {
        Self {
            if_match: c.if_match,
            if_none_match: c.if_none_match,
            if_modified_since_ns: c.if_modified_since.map(time_to_ns),
            if_unmodified_since_ns: c.if_unmodified_since.map(time_to_ns),
        }
    }
}

impl From<StoredConditions> for Conditions {
    fn from(c: StoredConditions) -> Self {
        Self {
            if_match: c.if_match,
            if_none_match: c.if_none_match,
            if_modified_since: c.if_modified_since_ns.map(ns_to_time),
            if_unmodified_since: c.if_unmodified_since_ns.map(ns_to_time),
        }
    }
}

/// `part-NNNNN.json`.
#[derive(Debug, Serialize, Deserialize)]
struct PartRecord {
    etag: String,
    size: u64,
    mtime_ns: i64,
}

fn part_data(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("part-{number:05}"))
}

fn part_record(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("part-{number:05}.json"))
}

fn parse_part_record(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("part-")?.strip_suffix(".json")?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())?
}

/// An upload addressed with owned strings, for tasks.
#[derive(Debug, Clone)]
struct Upload {
    bucket: String,
    key: String,
    upload_id: String,
}

impl From<UploadRef<'_>> for Upload {
    fn from(upload: UploadRef<'_>) -> Self {
        Self {
            bucket: upload.bucket.to_owned(),
            key: upload.key.to_owned(),
            upload_id: upload.upload_id.to_owned(),
        }
    }
}

/// The staging directory and record of an upload of this bucket and key.
fn open_upload(ctx: &Ctx, upload: &Upload) -> BackendResult<(PathBuf, UploadRecord)> {
    let layout = &ctx.shared.layout;
    ensure_bucket(&layout.bucket_dir(&upload.bucket)?)?;
    let dir = layout.upload_dir(&upload.bucket, &upload.upload_id)?;
    let record: UploadRecord =
        read_json(&dir.join(UPLOAD_RECORD)).ok_or(BackendError::NoSuchUpload)?;
    if record.key != upload.key {
        return Err(BackendError::NoSuchUpload);
    }
    Ok((dir, record))
}

fn check_part_number(part_number: u32) -> BackendResult<()> {
    if (1..=10_000).contains(&part_number) {
        Ok(())
    } else {
        Err(BackendError::invalid_argument(
            "part number must be an integer between 1 and 10000, inclusive",
        ))
    }
}

pub(super) async fn create(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    options: PutOptions,
    tags: TagSet,
) -> BackendResult<String> {
    let paths = ctx.shared.layout.object(bucket, key)?;
    let now = time_to_ns(SystemTime::now());
    let upload_id = format!("{:016x}{}", now.max(0), uuid::Uuid::new_v4().simple());
    let dir = ctx.shared.layout.upload_dir(bucket, &upload_id)?;
    let record = UploadRecord {
        key: key.to_owned(),
        initiated_ns: now,
        headers: options.headers,
        user_metadata: options.user_metadata,
        conditions: options.conditions.into(),
        tags,
    };
    let ctx = ctx.clone();
    blocking(move || {
        ensure_bucket(&paths.bucket_dir)?;
        precheck(&paths)?;
        std::fs::create_dir_all(&dir).map_err(|e| io_error("creating", &dir, e))?;
        let result = write_json_temp(&ctx, &record).and_then(|mut temp| {
            let to = dir.join(UPLOAD_RECORD);
            temp.rename_to(&to)
                .map_err(|e| io_error("renaming into", &to, e))
        });
        if result.is_err() {
            let _ = std::fs::remove_dir(&dir);
        }
        result
    })
    .await?;
    Ok(upload_id)
}

/// Stores a staged part under the upload's lock, replacing any part with
/// the same number; returns the part's stamp.
async fn commit_part(
    ctx: &Ctx,
    upload: Upload,
    number: u32,
    staged: Staged,
) -> BackendResult<Stamp> {
    let ctx = ctx.clone();
    let task = tokio::spawn(async move {
        let _guard = ctx
            .shared
            .upload_locks
            .lock(&upload.bucket, &upload.upload_id)
            .await;
        blocking(move || {
            let (dir, _) = open_upload(&ctx, &upload)?;
            let record = PartRecord {
                etag: hex::encode(staged.md5),
                size: staged.size,
                mtime_ns: staged.stamp.mtime_ns,
            };
            let mut record_temp = write_json_temp(&ctx, &record)?;
            let (mut data_temp, data, json) = (
                staged.temp,
                part_data(&dir, number),
                part_record(&dir, number),
            );
            data_temp
                .rename_to(&data)
                .map_err(|e| io_error("renaming into", &data, e))?;
            record_temp
                .rename_to(&json)
                .map_err(|e| io_error("renaming into", &json, e))?;
            Ok(staged.stamp)
        })
        .await
    });
    task.await.map_err(BackendError::other)?
}

pub(super) async fn upload_part(
    ctx: &Ctx,
    upload: UploadRef<'_>,
    part_number: u32,
    body: &mut dyn BodySource,
    options: PartOptions,
) -> BackendResult<PartOutput> {
    check_part_number(part_number)?;
    let upload = Upload::from(upload);
    let (checked, inner) = (upload.clone(), ctx.clone());
    blocking(move || open_upload(&inner, &checked).map(drop)).await?;
    let staged = stage_body(ctx, body, options.content_length, options.content_md5).await?;
    let etag = hex::encode(staged.md5);
    commit_part(ctx, upload, part_number, staged).await?;
    Ok(PartOutput { etag })
}

/// `(first, len)` of a copy-source range. Unlike a GET, a range whose
/// explicit end lies past the source is refused, not shortened: the client
/// computed its part boundaries from it.
fn copy_range(range: Option<ByteRange>, size: u64) -> BackendResult<(u64, u64)> {
    let (first, last) = match range {
        None => return Ok((0, size)),
        Some(ByteRange::FromTo {
            last: Some(last), ..
        }) if last >= size => {
            return Err(BackendError::InvalidRange { size });
        }
        Some(range) => range.resolve(size)?,
    };
    Ok((first, last - first + 1))
}

pub(super) async fn upload_part_copy(
    ctx: &Ctx,
    upload: UploadRef<'_>,
    part_number: u32,
    source: ObjectRef<'_>,
    options: PartCopyOptions,
) -> BackendResult<CopyOutput> {
    check_part_number(part_number)?;
    let upload = Upload::from(upload);
    let source = stored_paths(ctx, source.bucket, source.key).await?;
    let (checked, inner) = (upload.clone(), ctx.clone());
    let staged = blocking(move || {
        open_upload(&inner, &checked)?;
        let (mut file, meta) = open_object(&inner, &source)?;
        options.source_conditions.evaluate(&meta, false)?;
        let (first, len) = copy_range(options.range, meta.size)?;
        let mut writer = TempWriter::create(&inner.shared.layout)?;
        writer.append(&mut file, first, len)?;
        writer.finish(inner.durable)
    })
    .await?;
    let etag = hex::encode(staged.md5);
    let stamp = commit_part(ctx, upload, part_number, staged).await?;
    Ok(CopyOutput {
        etag,
        last_modified: stamp.last_modified(),
        version_id: None,
        checksum: None,
    })
}

/// A completed upload's object, assembled and waiting for its commit.
struct Assembled {
    dir: PathBuf,
    record: UploadRecord,
    staged: Staged,
    etag: String,
}

fn assemble(ctx: &Ctx, upload: &Upload, parts: &[CompletedPart]) -> BackendResult<Assembled> {
    let (dir, record) = open_upload(ctx, upload)?;
    if parts
        .windows(2)
        .any(|pair| pair[1].part_number <= pair[0].part_number)
    {
        return Err(BackendError::InvalidPartOrder);
    }
    let mut records = Vec::with_capacity(parts.len());
    for part in parts {
        let invalid = BackendError::InvalidPart {
            part_number: part.part_number,
        };
        let stored: PartRecord = read_json(&part_record(&dir, part.part_number)).ok_or(invalid)?;
        if stored.etag != part.etag.trim_matches('"') {
            return Err(BackendError::InvalidPart {
                part_number: part.part_number,
            });
        }
        records.push(stored);
    }
    let last = parts.len() - 1;
    for (index, (part, stored)) in parts.iter().zip(&records).enumerate() {
        if index < last && stored.size < ctx.min_part_size {
            return Err(BackendError::EntityTooSmall {
                part_number: part.part_number,
            });
        }
    }
    precheck(&ctx.shared.layout.object(&upload.bucket, &upload.key)?)?;
    let mut writer = TempWriter::create(&ctx.shared.layout)?;
    let mut md5s = Md5::new();
    for (part, stored) in parts.iter().zip(&records) {
        let invalid = || BackendError::InvalidPart {
            part_number: part.part_number,
        };
        let path = part_data(&dir, part.part_number);
        let mut file = File::open(&path).map_err(|_| invalid())?;
        let stamp = file
            .metadata()
            .and_then(|m| Stamp::of(&m))
            .map_err(|e| io_error("inspecting", &path, e))?;
        if stamp.size != stored.size || stamp.mtime_ns != stored.mtime_ns {
            return Err(invalid());
        }
        md5s.update(hex::decode(&stored.etag).map_err(|_| invalid())?);
        writer.append(&mut file, 0, stored.size)?;
    }
    let etag = format!("{}-{}", hex::encode(md5s.finalize()), parts.len());
    let staged = writer.finish(ctx.durable)?;
    Ok(Assembled {
        dir,
        record,
        staged,
        etag,
    })
}

pub(super) async fn complete(
    ctx: &Ctx,
    upload: UploadRef<'_>,
    parts: &[CompletedPart],
) -> BackendResult<PutOutput> {
    if parts.is_empty() {
        return Err(BackendError::invalid_argument(
            "you must specify at least one part",
        ));
    }
    let parts_count =
        u32::try_from(parts.len()).map_err(|_| BackendError::invalid_argument("too many parts"))?;
    let (ctx, upload, parts) = (ctx.clone(), Upload::from(upload), parts.to_vec());
    // Its own task: once asked, a completion finishes even if the client
    // goes away, and the upload stays locked until it has.
    let task = tokio::spawn(async move {
        let _guard = ctx
            .shared
            .upload_locks
            .lock(&upload.bucket, &upload.upload_id)
            .await;
        let paths = ctx.shared.layout.object(&upload.bucket, &upload.key)?;
        let inner = ctx.clone();
        let assembled = blocking(move || assemble(&inner, &upload, &parts)).await?;
        let object = NewObject {
            staged: assembled.staged,
            etag: assembled.etag,
            headers: assembled.record.headers,
            user_metadata: assembled.record.user_metadata,
            parts_count: Some(parts_count),
            tags: assembled.record.tags,
            conditions: assembled.record.conditions.into(),
        };
        let output = commit(&ctx, paths, object).await?;
        let (inner, dir) = (ctx.clone(), assembled.dir);
        if let Err(error) = blocking(move || remove_upload(&inner, &dir)).await {
            tracing::error!(%error, "a completed upload's staging directory was not removed");
        }
        Ok(output)
    });
    task.await.map_err(BackendError::other)?
}

/// Makes an upload disappear with one rename, then frees its space.
fn remove_upload(ctx: &Ctx, dir: &Path) -> BackendResult<()> {
    let trash = ctx.shared.layout.temp_path(".upload");
    std::fs::rename(dir, &trash).map_err(|e| io_error("renaming", dir, e))?;
    if let Err(error) = std::fs::remove_dir_all(&trash) {
        tracing::warn!(path = %trash.display(), %error, "could not remove an upload's parts");
    }
    Ok(())
}

pub(super) async fn abort(ctx: &Ctx, upload: UploadRef<'_>) -> BackendResult<()> {
    let (ctx, upload) = (ctx.clone(), Upload::from(upload));
    let task = tokio::spawn(async move {
        let _guard = ctx
            .shared
            .upload_locks
            .lock(&upload.bucket, &upload.upload_id)
            .await;
        blocking(move || {
            let (dir, _) = open_upload(&ctx, &upload)?;
            remove_upload(&ctx, &dir)
        })
        .await
    });
    task.await.map_err(BackendError::other)?
}
