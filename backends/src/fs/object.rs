//! Whole-object operations of the filesystem backend: put, get, head, copy
//! and delete, each a thin sequence of the layout, staging and commit steps.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use bytes::BytesMut;
use futures::StreamExt;
use tokio::io::AsyncReadExt;

use super::checksums::{self, StoredPart};
use super::install::install_sidecar;
use super::layout::ObjectPaths;
use super::meta::{Sidecar, load_meta, load_sidecar, write_json_temp};
use super::staging::{TempWriter, stage_body};
use super::versions;
use super::write::{
    NewObject, commit, current_meta, current_sidecar, delete_locked, open_data, precheck,
    prune_empty_dirs,
};
use super::{Ctx, blocking, ensure_bucket, io_error, read_work};
use crate::{
    AttributesOptions, BackendError, BackendResult, BodySource, ByteStream, ChecksumAlgorithm,
    Conditions, CopyOptions, CopyOutput, DeleteOutput, GetObjectOutput, GetOptions,
    MetadataDirective, ObjectAttributes, ObjectChecksum, ObjectIdentifier, ObjectMeta, ObjectPart,
    ObjectPartsPage, ObjectRef, PutOptions, PutOutput, TagSet, VersioningStatus,
};

/// Size of the chunks a read streams.
const CHUNK: usize = 64 * 1024;

/// Opens an object's data file, then reads its metadata and checks it
/// against the open file, so the pair stays consistent whatever renames
/// happen next.
pub(super) fn open_object(ctx: &Ctx, paths: &ObjectPaths) -> BackendResult<(File, ObjectMeta)> {
    let Some(mut file) = open_data(paths)? else {
        // Only a miss needs to tell a missing bucket from a missing key.
        ensure_bucket(&paths.bucket_dir)?;
        return Err(BackendError::NoSuchKey);
    };
    let meta = load_meta(ctx, paths, &mut file)?;
    Ok((file, meta))
}

/// The paths a read of `version_id` (the current version when `None`)
/// opens, and whether the bucket's versioning was ever enabled. A key
/// whose current version is a delete marker, or a version id naming one,
/// answers [`BackendError::DeleteMarker`]; an id the key does not have,
/// NoSuchVersion.
pub(super) fn version_paths(
    ctx: &Ctx,
    paths: &ObjectPaths,
    version_id: Option<&str>,
) -> BackendResult<(ObjectPaths, bool)> {
    if let Some(id) = version_id {
        versions::check_id(id)?;
    }
    let status = versions::state(ctx, &paths.bucket)?;
    if status == VersioningStatus::Unversioned {
        return match version_id {
            None | Some("null") => Ok((paths.clone(), false)),
            Some(_) => {
                ensure_bucket(&paths.bucket_dir)?;
                Err(BackendError::NoSuchVersion)
            }
        };
    }
    let Some(id) = version_id else {
        if open_data(paths)?.is_none()
            && let Some(newest) = versions::entries(paths)?.into_iter().next()
            && newest.sidecar.delete_marker
        {
            return Err(BackendError::DeleteMarker {
                version_id: Some(versions::public_id(&newest.sidecar)),
                named: false,
            });
        }
        return Ok((paths.clone(), true));
    };
    if let Some(current) = current_sidecar(ctx, paths)?
        && versions::public_id(&current) == id
    {
        return Ok((paths.clone(), true));
    }
    match versions::find(paths, id)? {
        Some(entry) if entry.sidecar.delete_marker => Err(BackendError::DeleteMarker {
            version_id: Some(id.to_owned()),
            named: true,
        }),
        Some(entry) => Ok((versions::entry_paths(paths, &entry.sort_key), true)),
        None => {
            ensure_bucket(&paths.bucket_dir)?;
            Err(BackendError::NoSuchVersion)
        }
    }
}

/// Reports the `null` version as such in a bucket whose versioning was
/// ever enabled.
fn with_null_id(mut meta: ObjectMeta, versioned: bool) -> ObjectMeta {
    if versioned && meta.version_id.is_none() {
        meta.version_id = Some("null".to_owned());
    }
    meta
}

/// The paths of a key to read or delete. A key the backend could never
/// have stored (too long, NUL, ...) names no object: after the bucket
/// check it answers `NoSuchKey`, not the `InvalidArgument` of a write.
pub(super) async fn stored_paths(ctx: &Ctx, bucket: &str, key: &str) -> BackendResult<ObjectPaths> {
    match ctx.shared.layout.object(bucket, key) {
        Err(BackendError::InvalidArgument { .. }) => {
            let dir = ctx.shared.layout.bucket_dir(bucket)?;
            read_work(ctx, move || ensure_bucket(&dir)).await?;
            Err(BackendError::NoSuchKey)
        }
        other => other,
    }
}

/// Checks the bucket, that nothing placed by hand blocks the key, and
/// (early, not yet authoritatively) the write's conditions, before any
/// body is read.
async fn check_write(ctx: &Ctx, paths: &ObjectPaths, conditions: &Conditions) -> BackendResult<()> {
    let (ctx, paths, conditions) = (ctx.clone(), paths.clone(), conditions.clone());
    blocking(move || {
        ensure_bucket(&paths.bucket_dir)?;
        precheck(&paths)?;
        if !conditions.is_empty() {
            conditions.evaluate_write(current_meta(&ctx, &paths)?.as_ref())?;
        }
        Ok(())
    })
    .await
}

pub(super) async fn put(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    body: &mut dyn BodySource,
    options: PutOptions,
    tags: TagSet,
) -> BackendResult<PutOutput> {
    let paths = ctx.shared.layout.object(bucket, key)?;
    check_write(ctx, &paths, &options.conditions).await?;
    let header = options.checksum.as_ref();
    let algorithm = header.and_then(ObjectChecksum::algorithm);
    let staged = stage_body(
        ctx,
        body,
        options.content_length,
        options.content_md5,
        algorithm,
    )
    .await?;
    let checksum = checksums::settle(&staged.checksums, header, body, None)?;
    let object = NewObject {
        etag: hex::encode(staged.md5),
        staged,
        headers: options.headers,
        user_metadata: options.user_metadata,
        parts_count: None,
        tags,
        conditions: options.conditions,
        checksum: Some(checksum),
        multipart: None,
    };
    commit(ctx, paths, object).await
}

pub(super) async fn head(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    options: GetOptions,
) -> BackendResult<ObjectMeta> {
    let paths = stored_paths(ctx, bucket, key).await?;
    let inner = ctx.clone();
    read_work(ctx, move || {
        let (paths, _file, sidecar, versioned) =
            open_version(&inner, &paths, options.version_id.as_deref())?;
        let meta = with_null_id(sidecar.clone().into_meta(&paths.key), versioned);
        options.conditions.evaluate(&meta, true)?;
        read_range(&options, &sidecar)?;
        Ok(meta)
    })
    .await
}

/// Opens the data file and sidecar of `version_id` (the current version
/// when `None`), as [`version_paths`] finds them. A write that moves the
/// named version aside between finding and opening it is seen (the opened
/// sidecar names another version) and the version looked up again, so a
/// read by version id never serves another version's data.
fn open_version(
    ctx: &Ctx,
    paths: &ObjectPaths,
    version_id: Option<&str>,
) -> BackendResult<(ObjectPaths, File, Sidecar, bool)> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let (found, versioned) = version_paths(ctx, paths, version_id)?;
        let (file, sidecar) = open_sidecar(ctx, &found)?;
        let named = version_id.filter(|_| versioned);
        if named.is_none_or(|id| versions::public_id(&sidecar) == id) {
            return Ok((found, file, sidecar, versioned));
        }
    }
    Err(BackendError::NoSuchVersion)
}

/// Opens an object's data file and its sidecar, as [`open_object`].
fn open_sidecar(ctx: &Ctx, paths: &ObjectPaths) -> BackendResult<(File, Sidecar)> {
    let Some(mut file) = open_data(paths)? else {
        ensure_bucket(&paths.bucket_dir)?;
        return Err(BackendError::NoSuchKey);
    };
    let sidecar = load_sidecar(ctx, paths, &mut file)?;
    Ok((file, sidecar))
}

/// The inclusive byte range a read serves: its `Range`, or the part its
/// `partNumber` names (by position among the object's parts; part 1 of an
/// object not made by a multipart upload is all of it).
fn read_range(options: &GetOptions, sidecar: &Sidecar) -> BackendResult<Option<(u64, u64)>> {
    let Some(number) = options.part_number else {
        return options.range.map(|r| r.resolve(sidecar.size)).transpose();
    };
    let index = usize::try_from(number).unwrap_or(usize::MAX);
    if sidecar.parts.is_empty() {
        return match number {
            1 if sidecar.size == 0 => Ok(None),
            1 => Ok(Some((0, sidecar.size - 1))),
            _ => Err(BackendError::InvalidPartNumber),
        };
    }
    if index == 0 || index > sidecar.parts.len() {
        return Err(BackendError::InvalidPartNumber);
    }
    let first: u64 = sidecar.parts[..index - 1].iter().map(|p| p.size).sum();
    let size = sidecar.parts[index - 1].size;
    Ok((size > 0).then(|| (first, first + size - 1)))
}

/// GetObjectAttributes: the metadata and a page of the parts.
pub(super) async fn attributes(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    options: AttributesOptions,
) -> BackendResult<ObjectAttributes> {
    let paths = stored_paths(ctx, bucket, key).await?;
    let inner = ctx.clone();
    read_work(ctx, move || {
        let (_file, sidecar) = open_sidecar(&inner, &paths)?;
        let parts = (!sidecar.parts.is_empty()).then(|| parts_page(&sidecar.parts, &options));
        Ok(ObjectAttributes {
            meta: sidecar.into_meta(&paths.key),
            parts,
        })
    })
    .await
}

fn parts_page(parts: &[StoredPart], options: &AttributesOptions) -> ObjectPartsPage {
    let after: Vec<&StoredPart> = parts
        .iter()
        .filter(|part| part.number > options.part_number_marker)
        .collect();
    let page: Vec<ObjectPart> = after
        .iter()
        .take(options.max_parts)
        .map(|part| ObjectPart {
            part_number: part.number,
            size: part.size,
            checksum: part.checksum.as_ref().map(ObjectChecksum::from),
        })
        .collect();
    let is_truncated = after.len() > page.len();
    ObjectPartsPage {
        total_parts_count: u32::try_from(parts.len()).unwrap_or(u32::MAX),
        next_part_number_marker: page
            .last()
            .map(|part| part.part_number)
            .filter(|_| is_truncated),
        parts: page,
        is_truncated,
    }
}

pub(super) async fn get(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    options: GetOptions,
) -> BackendResult<GetObjectOutput> {
    let paths = stored_paths(ctx, bucket, key).await?;
    let inner = ctx.clone();
    let (opened, meta, range) = read_work(ctx, move || {
        let (paths, mut file, sidecar, versioned) =
            open_version(&inner, &paths, options.version_id.as_deref())?;
        let range = read_range(&options, &sidecar);
        let meta = with_null_id(sidecar.into_meta(&paths.key), versioned);
        options.conditions.evaluate(&meta, true)?;
        let range = range?;
        let first = range.map_or(0, |(first, _)| first);
        file.seek(SeekFrom::Start(first))
            .map_err(|e| io_error("seeking", &paths.data, e))?;
        let len = range.map_or(meta.size, |(first, last)| last - first + 1);
        // A small body is read in the same call that opened the file: no
        // further hand-off to the blocking pool.
        let opened = if len <= INLINE_READ {
            let mut data = vec![0; usize::try_from(len).unwrap_or(0)];
            file.read_exact(&mut data)
                .map_err(|e| io_error("reading", &paths.data, e))?;
            Opened::Read(bytes::Bytes::from(data))
        } else {
            Opened::File(file, len)
        };
        Ok((opened, meta, range))
    })
    .await?;
    let body = match opened {
        Opened::Read(data) if data.is_empty() => futures::stream::empty().boxed(),
        Opened::Read(data) => futures::stream::once(async move { Ok(data) }).boxed(),
        Opened::File(file, len) => file_stream(tokio::fs::File::from_std(file), len),
    };
    Ok(GetObjectOutput { body, meta, range })
}

/// Bodies up to this size are read when the file is opened.
const INLINE_READ: u64 = CHUNK as u64;

/// An object opened for a read: its (small) body already read, or the
/// file positioned at the first byte to stream.
enum Opened {
    Read(bytes::Bytes),
    File(File, u64),
}

/// Streams `len` bytes of `file` from its current position in chunks.
fn file_stream(file: tokio::fs::File, len: u64) -> ByteStream {
    futures::stream::try_unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let want = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        let mut buf = BytesMut::with_capacity(want);
        while buf.len() < want {
            let limit = (want - buf.len()) as u64;
            if (&mut file).take(limit).read_buf(&mut buf).await? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the object's file ended early",
                ));
            }
        }
        Ok(Some((buf.freeze(), (file, left - want as u64))))
    })
    .boxed()
}

pub(super) async fn copy(
    ctx: &Ctx,
    source: ObjectRef<'_>,
    destination: ObjectRef<'_>,
    options: CopyOptions,
    replacement_tags: TagSet,
) -> BackendResult<CopyOutput> {
    let source = stored_paths(ctx, source.bucket, source.key).await?;
    let destination = ctx
        .shared
        .layout
        .object(destination.bucket, destination.key)?;
    let onto_itself = source.bucket == destination.bucket
        && source.key == destination.key
        && options.source_version_id.is_none();
    let directive = options.metadata_directive;
    let (staged, source) = {
        let (ctx, destination) = (ctx.clone(), destination.clone());
        let conditions = options.source_conditions;
        let source_version = options.source_version_id;
        blocking(move || {
            ensure_bucket(&source.bucket_dir)?;
            let source = match version_paths(&ctx, &source, source_version.as_deref()) {
                Ok((source, _)) => source,
                Err(BackendError::DeleteMarker { named: true, .. }) => {
                    return Err(BackendError::invalid_argument(
                        "the source of a copy request may not specifically refer to a delete marker by version id",
                    ));
                }
                Err(BackendError::DeleteMarker { .. }) => return Err(BackendError::NoSuchKey),
                Err(error) => return Err(error),
            };
            let mut file = open_data(&source)?.ok_or(BackendError::NoSuchKey)?;
            let sidecar = load_sidecar(&ctx, &source, &mut file)?;
            let meta = sidecar.clone().into_meta(&source.key);
            conditions.evaluate(&meta, false)?;
            if onto_itself && directive == MetadataDirective::Copy {
                return Err(BackendError::CopyOntoItself);
            }
            ensure_bucket(&destination.bucket_dir)?;
            precheck(&destination)?;
            let algorithm = sidecar
                .checksum
                .as_ref()
                .and_then(|c| ObjectChecksum::from(c).algorithm());
            let mut writer = TempWriter::create(&ctx.shared.layout, algorithm)?;
            writer.append(&mut file, 0, meta.size)?;
            Ok((writer.finish(ctx.durable)?, sidecar))
        })
        .await?
    };
    // The copy's ACL is the one the request sets (settled into its
    // headers), never the source's, whatever the directive.
    let acl = options.headers.storage.get(super::meta::ACL).cloned();
    let (mut headers, user_metadata) = match directive {
        MetadataDirective::Copy => (source.headers, source.user_metadata),
        MetadataDirective::Replace => (options.headers, options.user_metadata),
    };
    headers.storage.remove(super::meta::ACL);
    headers
        .storage
        .extend(acl.map(|acl| (super::meta::ACL.to_owned(), acl)));
    let tags = match options.tagging_directive {
        MetadataDirective::Copy => source.tags,
        MetadataDirective::Replace => replacement_tags,
    };
    let last_modified = staged.stamp.last_modified();
    // The copy keeps the source's algorithm, as a checksum of its content.
    let wanted = source
        .checksum
        .as_ref()
        .and_then(|c| ObjectChecksum::from(c).algorithm());
    let checksum = wanted
        .and_then(|algorithm| checksums::computed(&staged.checksums, algorithm))
        .or_else(|| checksums::computed(&staged.checksums, ChecksumAlgorithm::Crc64Nvme))
        .cloned();
    let object = NewObject {
        etag: hex::encode(staged.md5),
        staged,
        headers,
        user_metadata,
        parts_count: None,
        tags,
        conditions: Conditions::default(),
        checksum,
        multipart: None,
    };
    let output = commit(ctx, destination, object).await?;
    Ok(CopyOutput {
        etag: output.etag,
        last_modified,
        version_id: output.version_id,
        checksum: output.checksum,
    })
}

pub(super) async fn delete(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> BackendResult<DeleteOutput> {
    if let Some(id) = version_id {
        versions::check_id(id)?;
    }
    let paths = match stored_paths(ctx, bucket, key).await {
        Err(BackendError::NoSuchKey) => {
            return Ok(DeleteOutput {
                version_id: version_id.map(str::to_owned),
                delete_marker: false,
            });
        }
        other => other?,
    };
    let ctx = ctx.clone();
    let version_id = version_id.map(str::to_owned);
    // Its own task: a delete that has started finishes with its cleanup.
    let task = tokio::spawn(async move {
        let _guard = ctx.shared.key_locks.lock(&paths.bucket, &paths.key).await;
        blocking(move || {
            ensure_bucket(&paths.bucket_dir)?;
            delete_version_locked(&ctx, &paths, version_id.as_deref())
        })
        .await
    });
    task.await.map_err(BackendError::other)?
}

/// Deletes under the key's lock: the object (never versioned), a delete
/// marker (versioned, no version named), or the version named.
fn delete_version_locked(
    ctx: &Ctx,
    paths: &ObjectPaths,
    version_id: Option<&str>,
) -> BackendResult<DeleteOutput> {
    let status = versions::state(ctx, &paths.bucket)?;
    let done = |id: Option<String>, marker: bool| DeleteOutput {
        version_id: id,
        delete_marker: marker,
    };
    if status == VersioningStatus::Unversioned {
        return match version_id {
            None => delete_locked(paths).map(|()| done(None, false)),
            Some("null") => delete_locked(paths).map(|()| done(Some("null".to_owned()), false)),
            Some(id) => Ok(done(Some(id.to_owned()), false)),
        };
    }
    let current = current_sidecar(ctx, paths)?;
    let Some(id) = version_id else {
        let suspended = status == VersioningStatus::Suspended;
        versions::archive_current(ctx, paths, current.as_ref(), suspended)?;
        let marker = if suspended {
            versions::drop_null_entry(paths)?;
            None
        } else {
            Some(versions::new_version_id())
        };
        versions::add_marker(ctx, paths, marker.clone())?;
        return Ok(done(
            Some(marker.unwrap_or_else(|| "null".to_owned())),
            true,
        ));
    };
    let output = if current
        .as_ref()
        .is_some_and(|current| versions::public_id(current) == id)
    {
        delete_locked_keeping_dirs(paths)?;
        versions::promote(ctx, paths)?;
        done(Some(id.to_owned()), false)
    } else if let Some(entry) = versions::find(paths, id)? {
        versions::remove_entry(paths, &entry.sort_key)?;
        versions::promote(ctx, paths)?;
        done(Some(id.to_owned()), entry.sidecar.delete_marker)
    } else {
        done(Some(id.to_owned()), false)
    };
    versions::prune_versions_dir(paths);
    prune_empty_dirs(paths);
    Ok(output)
}

/// Removes the current version's files, leaving the directories.
fn delete_locked_keeping_dirs(paths: &ObjectPaths) -> BackendResult<()> {
    for path in [&paths.data, &paths.meta] {
        if let Err(e) = std::fs::remove_file(path)
            && !super::is_missing(&e)
        {
            return Err(io_error("removing", path, e));
        }
    }
    Ok(())
}

pub(super) async fn delete_many(
    ctx: &Ctx,
    bucket: &str,
    objects: &[ObjectIdentifier],
) -> BackendResult<Vec<BackendResult<DeleteOutput>>> {
    let bucket_dir = ctx.shared.layout.bucket_dir(bucket)?;
    blocking(move || ensure_bucket(&bucket_dir)).await?;
    // Built eagerly: a lazily mapped stream trips the `Send` check of the
    // `async_trait` future. A version id no version can have is that
    // object's error, as on DeleteObject, and nothing of it is deleted.
    let deletes: Vec<_> = objects
        .iter()
        .map(|object| delete(ctx, bucket, &object.key, object.version_id.as_deref()))
        .collect();
    let results = futures::stream::iter(deletes).buffered(16).collect().await;
    Ok(results)
}

/// Refuses a `versionId` other than `null`, the only version of an object
/// in a bucket without versioning.
pub(super) fn check_version(version_id: Option<&str>) -> BackendResult<()> {
    match version_id {
        None | Some("null") => Ok(()),
        Some(_) => Err(BackendError::invalid_argument(
            "invalid version id specified",
        )),
    }
}

pub(super) async fn get_tagging(
    ctx: &Ctx,
    object: ObjectRef<'_>,
    version_id: Option<&str>,
) -> BackendResult<TagSet> {
    let paths = stored_paths(ctx, object.bucket, object.key).await?;
    let ctx = ctx.clone();
    let version_id = version_id.map(str::to_owned);
    blocking(move || {
        ensure_bucket(&paths.bucket_dir)?;
        let (paths, _) = version_paths(&ctx, &paths, version_id.as_deref())?;
        let mut file = open_data(&paths)?.ok_or(BackendError::NoSuchKey)?;
        Ok(load_sidecar(&ctx, &paths, &mut file)?.tags)
    })
    .await
}

/// Replaces an object's tags: under the key's lock, a sidecar for the same
/// data file with the new tags takes the old one's place.
pub(super) async fn put_tagging(
    ctx: &Ctx,
    object: ObjectRef<'_>,
    version_id: Option<&str>,
    tags: TagSet,
) -> BackendResult<()> {
    let paths = stored_paths(ctx, object.bucket, object.key).await?;
    let ctx = ctx.clone();
    let version_id = version_id.map(str::to_owned);
    let task = tokio::spawn(async move {
        let _guard = ctx.shared.key_locks.lock(&paths.bucket, &paths.key).await;
        blocking(move || {
            ensure_bucket(&paths.bucket_dir)?;
            let (paths, _) = version_paths(&ctx, &paths, version_id.as_deref())?;
            let mut file = open_data(&paths)?.ok_or(BackendError::NoSuchKey)?;
            let mut sidecar = load_sidecar(&ctx, &paths, &mut file)?;
            sidecar.tags = tags;
            let temp = write_json_temp(&ctx, &sidecar)?;
            install_sidecar(&ctx, temp, &paths)
        })
        .await
    });
    task.await.map_err(BackendError::other)?
}
