//! Multipart uploads for the filesystem backend.
//!
//! Each upload is staged in `<root>/.cedargate/uploads/<bucket>/<upload_id>/`:
//! `upload.json` (key, initiation time, the headers, metadata, write
//! conditions and checksum algorithm and type given at creation) and, per
//! part, `part-00001` (the bytes) and `part-00001.json` (ETag, size, mtime,
//! checksums). Part writes and completion hold the upload's lock, so a part
//! and its record always match; a part uploaded again replaces both.
//! Completion concatenates the parts into a temp file and commits it like
//! any write, with the object's checksum (COMPOSITE: the digest of the
//! part digests; FULL_OBJECT: the part CRCs combined; without an
//! algorithm, S3's default CRC64NVME combined the same way) and its parts
//! (number, ETag, size, checksum) and upload id in the sidecar; the
//! staging directory then disappears with one rename. A completion
//! repeated after success finds no staging directory, and answers the
//! same result again when the current object's sidecar names this upload
//! and the same parts.
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

use super::checksums::{self, StoredChecksum, StoredPart};
use super::meta::{load_sidecar, read_json, write_json_temp};
use super::object::{open_object, stored_paths};
use super::staging::{Staged, TempWriter, stage_body};
use super::stamp::{Stamp, ns_to_time, time_to_ns};
use super::write::{NewObject, commit, open_data, precheck};
use super::{Ctx, blocking, ensure_bucket, io_error};
use cedargate_s3::body::multipart_checksum;

use crate::{
    BackendError, BackendResult, BodySource, ByteRange, ChecksumAlgorithm, ChecksumType,
    CompleteOptions, CompletedPart, Conditions, CopyOutput, ObjectChecksum, ObjectHeaders,
    ObjectRef, PartCopyOptions, PartOptions, PartOutput, PutOptions, PutOutput, TagSet, UploadRef,
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
    /// `x-amz-checksum-algorithm` (uppercase, as S3 writes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<String>,
    /// `x-amz-checksum-type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum_type: Option<String>,
}

impl UploadRecord {
    /// The upload's checksum algorithm and type.
    fn checksum(&self) -> Option<(ChecksumAlgorithm, ChecksumType)> {
        let algorithm = ChecksumAlgorithm::from_name(self.checksum_algorithm.as_deref()?)?;
        let kind = self
            .checksum_type
            .as_deref()
            .and_then(ChecksumType::parse)
            .unwrap_or_else(|| ChecksumType::default_for(algorithm));
        Some((algorithm, kind))
    }
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
    /// The part's checksum: the client's, else the upload's algorithm's,
    /// else CRC64NVME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checksum: Option<StoredChecksum>,
    /// The part's CRC64NVME, for the default checksum of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
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
        checksum_algorithm: options
            .multipart_checksum
            .map(|(algorithm, _)| algorithm.as_str().to_owned()),
        checksum_type: options
            .multipart_checksum
            .map(|(_, kind)| kind.as_str().to_owned()),
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
    checksum: Option<ObjectChecksum>,
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
            let crc64nvme = checksums::computed(&staged.checksums, ChecksumAlgorithm::Crc64Nvme);
            let record = PartRecord {
                etag: hex::encode(staged.md5),
                size: staged.size,
                mtime_ns: staged.stamp.mtime_ns,
                checksum: checksum.as_ref().map(StoredChecksum::from),
                crc64nvme: crc64nvme.map(|c| c.value.clone()),
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
    let record = blocking(move || open_upload(&inner, &checked).map(|(_, record)| record)).await?;
    let wanted = record.checksum().map(|(algorithm, _)| algorithm);
    let header = options.checksum.as_ref();
    checksums::check_part_algorithm(wanted, header)?;
    let algorithm = header.and_then(ObjectChecksum::algorithm).or(wanted);
    let staged = stage_body(
        ctx,
        body,
        options.content_length,
        options.content_md5,
        algorithm,
    )
    .await?;
    checksums::check_part_algorithm(wanted, body.verified_checksum().as_ref())?;
    let checksum = checksums::settle(&staged.checksums, header, body, wanted)?;
    let etag = hex::encode(staged.md5);
    commit_part(ctx, upload, part_number, staged, Some(checksum.clone())).await?;
    Ok(PartOutput {
        etag,
        checksum: Some(checksum),
    })
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
    let (staged, wanted) = blocking(move || {
        let (_, record) = open_upload(&inner, &checked)?;
        let wanted = record.checksum().map(|(algorithm, _)| algorithm);
        let (mut file, meta) = open_object(&inner, &source)?;
        options.source_conditions.evaluate(&meta, false)?;
        let (first, len) = copy_range(options.range, meta.size)?;
        let mut writer = TempWriter::create(&inner.shared.layout, wanted)?;
        writer.append(&mut file, first, len)?;
        Ok((writer.finish(inner.durable)?, wanted))
    })
    .await?;
    let etag = hex::encode(staged.md5);
    let algorithm = wanted.unwrap_or(ChecksumAlgorithm::Crc64Nvme);
    let checksum = checksums::computed(&staged.checksums, algorithm).cloned();
    let stamp = commit_part(ctx, upload, part_number, staged, checksum.clone()).await?;
    Ok(CopyOutput {
        etag,
        last_modified: stamp.last_modified(),
        version_id: None,
        checksum,
    })
}

/// A completed upload's object, assembled and waiting for its commit.
struct Assembled {
    dir: PathBuf,
    record: UploadRecord,
    staged: Staged,
    etag: String,
    checksum: Option<ObjectChecksum>,
    parts: Vec<StoredPart>,
}

/// Checks the checksum a completion lists for a part against the part's
/// upload and stored checksum, as S3: missing when the upload has an
/// algorithm, or of another algorithm, is InvalidRequest; another value
/// is InvalidPart.
fn check_listed_checksum(
    settings: Option<(ChecksumAlgorithm, ChecksumType)>,
    part: &CompletedPart,
    stored: &PartRecord,
) -> BackendResult<()> {
    let wanted = settings.map(|(algorithm, _)| algorithm);
    let Some(listed) = &part.checksum else {
        return match wanted {
            None => Ok(()),
            Some(algorithm) => Err(BackendError::invalid_request(format!(
                "the upload was created using a {} checksum; the complete request must include \
                 the checksum for each part; it was missing for part {} in the request",
                algorithm.lowercase_name(),
                part.part_number
            ))),
        };
    };
    checksums::check_part_algorithm(wanted, Some(listed))?;
    let stored = stored.checksum.as_ref().map(ObjectChecksum::from);
    match stored {
        Some(stored)
            if stored.algorithm == listed.algorithm && stored.digest() != listed.digest() =>
        {
            Err(BackendError::InvalidPart {
                part_number: part.part_number,
            })
        }
        _ => Ok(()),
    }
}

/// The checksum of the assembled object, from its parts' checksums
/// (COMPOSITE, or FULL_OBJECT CRCs combined) or, for an upload without an
/// algorithm, the CRC64NVME computed while assembling.
fn object_checksum(
    settings: Option<(ChecksumAlgorithm, ChecksumType)>,
    parts: &[CompletedPart],
    records: &[PartRecord],
    staged: &Staged,
) -> BackendResult<Option<ObjectChecksum>> {
    let Some((algorithm, kind)) = settings else {
        return Ok(checksums::computed(&staged.checksums, ChecksumAlgorithm::Crc64Nvme).cloned());
    };
    let mut values = Vec::with_capacity(records.len());
    for (part, stored) in parts.iter().zip(records) {
        let checksum = stored
            .checksum
            .as_ref()
            .map(ObjectChecksum::from)
            .filter(|checksum| checksum.algorithm() == Some(algorithm))
            .ok_or(BackendError::InvalidPart {
                part_number: part.part_number,
            })?;
        values.push((checksum.value, stored.size));
    }
    let value = match kind {
        ChecksumType::Composite => {
            let digests: Vec<&str> = values.iter().map(|(value, _)| value.as_str()).collect();
            multipart_checksum::composite(algorithm, &digests)
        }
        ChecksumType::FullObject => {
            let crcs: Vec<(&str, u64)> = values.iter().map(|(v, n)| (v.as_str(), *n)).collect();
            multipart_checksum::full_object(algorithm, &crcs).map(Option::unwrap_or_default)
        }
    }
    .map_err(|_| BackendError::invalid_request("a part's stored checksum is not valid"))?;
    Ok(Some(ObjectChecksum {
        algorithm: algorithm.lowercase_name().to_owned(),
        value,
        checksum_type: kind,
    }))
}

fn assemble(
    ctx: &Ctx,
    upload: &Upload,
    parts: &[CompletedPart],
    expected: Option<&ObjectChecksum>,
) -> BackendResult<Assembled> {
    let (dir, record) = open_upload(ctx, upload)?;
    if parts
        .windows(2)
        .any(|pair| pair[1].part_number <= pair[0].part_number)
    {
        return Err(BackendError::InvalidPartOrder);
    }
    let settings = record.checksum();
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
        check_listed_checksum(settings, part, &stored)?;
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
    let mut writer = TempWriter::create(&ctx.shared.layout, None)?;
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
    let checksum = object_checksum(settings, parts, &records, &staged)?;
    if let Some(expected) = expected
        && checksum
            .as_ref()
            .is_none_or(|c| c.algorithm != expected.algorithm || c.digest() != expected.digest())
    {
        return Err(BackendError::BadDigest);
    }
    let parts = parts
        .iter()
        .zip(records)
        .map(|(part, stored)| StoredPart {
            number: part.part_number,
            etag: stored.etag,
            size: stored.size,
            checksum: stored.checksum,
        })
        .collect();
    Ok(Assembled {
        dir,
        record,
        staged,
        etag,
        checksum,
        parts,
    })
}

/// A completion repeated after it succeeded: the same answer while the
/// current object is the one this upload made from the same parts.
fn repeated(ctx: &Ctx, upload: &Upload, parts: &[CompletedPart]) -> BackendResult<PutOutput> {
    let paths = ctx.shared.layout.object(&upload.bucket, &upload.key)?;
    let mut file = open_data(&paths)?.ok_or(BackendError::NoSuchUpload)?;
    let sidecar = load_sidecar(ctx, &paths, &mut file)?;
    let same_parts = sidecar.parts.len() == parts.len()
        && sidecar.parts.iter().zip(parts).all(|(stored, part)| {
            stored.number == part.part_number && stored.etag == part.etag.trim_matches('"')
        });
    if sidecar.upload_id.as_deref() != Some(upload.upload_id.as_str()) || !same_parts {
        return Err(BackendError::NoSuchUpload);
    }
    Ok(PutOutput {
        etag: sidecar.etag,
        size: sidecar.size,
        version_id: None,
        checksum: sidecar.checksum.as_ref().map(ObjectChecksum::from),
    })
}

pub(super) async fn complete(
    ctx: &Ctx,
    upload: UploadRef<'_>,
    parts: &[CompletedPart],
    options: CompleteOptions,
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
        let (inner, task_upload, task_parts) = (ctx.clone(), upload.clone(), parts.clone());
        let expected = options.checksum.clone();
        let assembled =
            match blocking(move || assemble(&inner, &task_upload, &task_parts, expected.as_ref()))
                .await
            {
                Err(BackendError::NoSuchUpload) => {
                    let inner = ctx.clone();
                    return blocking(move || repeated(&inner, &upload, &parts)).await;
                }
                other => other?,
            };
        let stored: Conditions = assembled.record.conditions.into();
        let conditions = Conditions {
            if_match: options.conditions.if_match.or(stored.if_match),
            if_none_match: options.conditions.if_none_match.or(stored.if_none_match),
            ..stored
        };
        let object = NewObject {
            staged: assembled.staged,
            etag: assembled.etag,
            headers: assembled.record.headers,
            user_metadata: assembled.record.user_metadata,
            parts_count: Some(parts_count),
            tags: assembled.record.tags,
            conditions,
            checksum: assembled.checksum,
            multipart: Some((assembled.parts, upload.upload_id.clone())),
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
