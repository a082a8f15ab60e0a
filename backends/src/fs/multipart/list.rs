//! Listings of multipart state: the parts stored for one upload
//! (ListParts) and the uploads in progress in a bucket
//! (ListMultipartUploads), read from the staging directories.

use super::super::list::{MAX_PAGE, rollup};
use super::super::meta::read_json;
use super::super::stamp::ns_to_time;
use super::super::{Ctx, blocking, ensure_bucket, io_error, is_missing};
use super::{
    PartRecord, UPLOAD_RECORD, Upload, UploadRecord, open_upload, parse_part_record, part_record,
};
use crate::{
    BackendResult, ListPartsOptions, ListPartsPage, ListUploadsOptions, ListUploadsPage,
    ObjectChecksum, PartSummary, UploadRef, UploadSummary,
};

pub(in crate::fs) async fn list_parts(
    ctx: &Ctx,
    upload: UploadRef<'_>,
    options: ListPartsOptions,
) -> BackendResult<ListPartsPage> {
    let (ctx, upload) = (ctx.clone(), Upload::from(upload));
    blocking(move || {
        let (dir, _) = open_upload(&ctx, &upload)?;
        let reader = std::fs::read_dir(&dir).map_err(|e| io_error("listing", &dir, e))?;
        let mut numbers: Vec<u32> = reader
            .flatten()
            .filter_map(|entry| entry.file_name().to_str().and_then(parse_part_record))
            .filter(|number| *number > options.part_number_marker)
            .collect();
        numbers.sort_unstable();
        let max = options.max_parts.min(MAX_PAGE);
        let mut page = ListPartsPage::default();
        for number in numbers.iter().copied().take(max) {
            if let Some(stored) = read_json::<PartRecord>(&part_record(&dir, number)) {
                page.parts.push(PartSummary {
                    part_number: number,
                    etag: stored.etag,
                    size: stored.size,
                    last_modified: ns_to_time(stored.mtime_ns),
                    checksum: stored.checksum.as_ref().map(ObjectChecksum::from),
                });
            }
        }
        if max > 0 && numbers.len() > max {
            page.is_truncated = true;
            page.next_part_number_marker = page.parts.last().map(|p| p.part_number);
        }
        Ok(page)
    })
    .await
}

pub(in crate::fs) async fn list_uploads(
    ctx: &Ctx,
    bucket: &str,
    options: ListUploadsOptions,
) -> BackendResult<ListUploadsPage> {
    let bucket_dir = ctx.shared.layout.bucket_dir(bucket)?;
    let uploads_dir = ctx.shared.layout.uploads_dir(bucket)?;
    blocking(move || {
        ensure_bucket(&bucket_dir)?;
        let mut uploads = Vec::new();
        match std::fs::read_dir(&uploads_dir) {
            Ok(reader) => {
                for entry in reader.flatten() {
                    let Ok(upload_id) = entry.file_name().into_string() else {
                        continue;
                    };
                    let record = read_json::<UploadRecord>(&entry.path().join(UPLOAD_RECORD));
                    if let Some(record) = record
                        && record.key.starts_with(&options.prefix)
                    {
                        uploads.push((record.key, upload_id, record.initiated_ns));
                    }
                }
            }
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(io_error("listing", &uploads_dir, e)),
        }
        uploads.sort_unstable();
        Ok(page_of_uploads(uploads, &options))
    })
    .await
}

/// One page of `(key, upload_id, initiated_ns)` triples sorted by key and id.
fn page_of_uploads(
    uploads: Vec<(String, String, i64)>,
    options: &ListUploadsOptions,
) -> ListUploadsPage {
    let delimiter = options.delimiter.as_deref().filter(|d| !d.is_empty());
    let key_marker = options.key_marker.as_deref();
    let max = options.max_uploads.min(MAX_PAGE);
    let mut page = ListUploadsPage::default();
    let mut count = 0;
    let mut last: Option<(String, Option<String>)> = None;
    for (key, upload_id, initiated_ns) in uploads {
        let after_marker = match key_marker {
            None => true,
            Some(marker) => match options.upload_id_marker.as_deref() {
                Some(id_marker) if key == marker => upload_id.as_str() > id_marker,
                _ => key.as_str() > marker,
            },
        };
        if !after_marker || max == 0 {
            continue;
        }
        let common = rollup(&options.prefix, delimiter, &key);
        if let Some(common) = &common
            && (key_marker.is_some_and(|marker| common.as_str() <= marker)
                || page.common_prefixes.last() == Some(common))
        {
            continue;
        }
        if count == max {
            page.is_truncated = true;
            break;
        }
        count += 1;
        match common {
            Some(common) => {
                last = Some((common.clone(), None));
                page.common_prefixes.push(common);
            }
            None => {
                last = Some((key.clone(), Some(upload_id.clone())));
                page.uploads.push(UploadSummary {
                    key,
                    upload_id,
                    initiated: ns_to_time(initiated_ns),
                });
            }
        }
    }
    if page.is_truncated
        && let Some((key, upload_id)) = last
    {
        page.next_key_marker = Some(key);
        page.next_upload_id_marker = upload_id;
    }
    page
}
