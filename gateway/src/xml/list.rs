//! Listing documents: ListAllMyBucketsResult, ListBucketResult (V1 and V2),
//! ListPartsResult, ListMultipartUploadsResult and ListVersionsResult.

use std::time::SystemTime;

use cedargate_backends::{ListPage, ListPartsPage, ListUploadsPage, ListVersionsPage};

use cedargate_s3::xml::{Doc, Owner};

/// The request parameters echoed by both ListBucketResult versions.
#[derive(Debug, Clone, Copy)]
pub struct ListObjectsParams<'a> {
    /// The client-facing bucket name.
    pub bucket: &'a str,
    /// `prefix` as requested (empty when absent).
    pub prefix: &'a str,
    /// `delimiter` as requested; an empty delimiter is not echoed.
    pub delimiter: Option<&'a str>,
    /// The effective `max-keys`.
    pub max_keys: usize,
    /// `encoding-type=url` was requested.
    pub encoding_type_url: bool,
    /// Written as each object's `Owner` when given: always for V1, only
    /// with `fetch-owner=true` for V2.
    pub owner: Option<&'a Owner>,
}

/// The ListObjectsV2-only parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListObjectsV2Params<'a> {
    /// `continuation-token` as the client sent it (opaque).
    pub continuation_token: Option<&'a str>,
    /// The token for the next page (opaque, made by the caller); written
    /// only when the page is truncated.
    pub next_continuation_token: Option<&'a str>,
    /// `start-after` as requested.
    pub start_after: Option<&'a str>,
}

/// One page of ListBuckets.
#[derive(Debug, Clone, Copy)]
pub struct BucketsPage<'a> {
    /// The page's buckets, by name, with their creation dates.
    pub buckets: &'a [(String, Option<SystemTime>)],
    /// Written as each bucket's `BucketRegion`.
    pub region: &'a str,
    /// `prefix` as requested; echoed when given.
    pub prefix: Option<&'a str>,
    /// The token for the next page, written when more buckets remain.
    pub continuation_token: Option<&'a str>,
}

/// Renders ListAllMyBucketsResult (ListBuckets). A bucket whose creation
/// date is unknown shows the Unix epoch: several clients (s3cmd among them)
/// fail on a bucket without `CreationDate`.
pub fn list_all_my_buckets_result(owner: &Owner, page: &BucketsPage<'_>) -> String {
    let mut doc = Doc::new("ListAllMyBucketsResult");
    doc.owner("Owner", owner).open("Buckets");
    for (name, created) in page.buckets {
        doc.open("Bucket")
            .text("Name", name)
            .time("CreationDate", created.unwrap_or(SystemTime::UNIX_EPOCH))
            .text("BucketRegion", page.region)
            .close("Bucket");
    }
    doc.close("Buckets");
    if let Some(token) = page.continuation_token {
        doc.text("ContinuationToken", token);
    }
    if let Some(prefix) = page.prefix {
        doc.text("Prefix", prefix);
    }
    doc.finish()
}

/// Renders ListBucketResult for ListObjects (V1). `marker` is the request's
/// `marker` (empty when absent); `NextMarker` is written only when a
/// delimiter was given and the page is truncated, as S3 does.
pub fn list_bucket_result_v1(
    params: &ListObjectsParams<'_>,
    marker: &str,
    page: &ListPage,
) -> String {
    let url = params.encoding_type_url;
    let delimiter = params.delimiter.filter(|d| !d.is_empty());
    let mut doc = Doc::new("ListBucketResult");
    // V1 writes `Prefix` as sent even under `encoding-type=url`, as S3
    // does (SDKs decode only Delimiter, Marker, NextMarker and keys).
    doc.text("Name", params.bucket)
        .text("Prefix", params.prefix)
        .key("Marker", marker, url);
    if let (Some(_), true, Some(next)) = (delimiter, page.is_truncated, &page.next_start_after) {
        doc.key("NextMarker", next, url);
    }
    doc.value("MaxKeys", params.max_keys);
    listing_tail(&mut doc, params, delimiter, page);
    doc.finish()
}

/// Renders ListBucketResult for ListObjectsV2. `KeyCount` counts objects
/// and common prefixes, as S3 does.
pub fn list_bucket_result_v2(
    params: &ListObjectsParams<'_>,
    v2: &ListObjectsV2Params<'_>,
    page: &ListPage,
) -> String {
    let url = params.encoding_type_url;
    let delimiter = params.delimiter.filter(|d| !d.is_empty());
    let mut doc = Doc::new("ListBucketResult");
    doc.text("Name", params.bucket)
        .key("Prefix", params.prefix, url)
        .text_opt("ContinuationToken", v2.continuation_token)
        .text_opt(
            "NextContinuationToken",
            v2.next_continuation_token.filter(|_| page.is_truncated),
        );
    if let Some(start_after) = v2.start_after {
        doc.key("StartAfter", start_after, url);
    }
    doc.value("KeyCount", page.objects.len() + page.common_prefixes.len())
        .value("MaxKeys", params.max_keys);
    listing_tail(&mut doc, params, delimiter, page);
    doc.finish()
}

/// Delimiter, EncodingType, IsTruncated, Contents and CommonPrefixes,
/// shared by both versions.
fn listing_tail(
    doc: &mut Doc,
    params: &ListObjectsParams<'_>,
    delimiter: Option<&str>,
    page: &ListPage,
) {
    let url = params.encoding_type_url;
    if let Some(delimiter) = delimiter {
        doc.key("Delimiter", delimiter, url);
    }
    if url {
        doc.text("EncodingType", "url");
    }
    doc.value("IsTruncated", page.is_truncated);
    for object in &page.objects {
        doc.open("Contents")
            .key("Key", &object.key, url)
            .time("LastModified", object.last_modified)
            .etag(&object.etag)
            .value("Size", object.size);
        if let Some(owner) = params.owner {
            doc.owner("Owner", owner);
        }
        doc.text("StorageClass", "STANDARD").close("Contents");
    }
    common_prefixes(doc, &page.common_prefixes, url);
}

fn common_prefixes(doc: &mut Doc, prefixes: &[String], url: bool) {
    for prefix in prefixes {
        doc.open("CommonPrefixes")
            .key("Prefix", prefix, url)
            .close("CommonPrefixes");
    }
}

/// The request parameters echoed by ListPartsResult.
#[derive(Debug, Clone, Copy)]
pub struct ListPartsParams<'a> {
    /// The client-facing bucket name.
    pub bucket: &'a str,
    /// The upload's key.
    pub key: &'a str,
    /// The upload id.
    pub upload_id: &'a str,
    /// `part-number-marker` as requested (0 when absent).
    pub part_number_marker: u32,
    /// The effective `max-parts`.
    pub max_parts: usize,
    /// Written as `Initiator` and `Owner` when given.
    pub owner: Option<&'a Owner>,
}

/// Renders ListPartsResult.
pub fn list_parts_result(params: &ListPartsParams<'_>, page: &ListPartsPage) -> String {
    let mut doc = Doc::new("ListPartsResult");
    doc.text("Bucket", params.bucket)
        .text("Key", params.key)
        .text("UploadId", params.upload_id);
    if let Some(owner) = params.owner {
        doc.owner("Initiator", owner).owner("Owner", owner);
    }
    doc.text("StorageClass", "STANDARD")
        .value("PartNumberMarker", params.part_number_marker);
    if let Some(next) = page.next_part_number_marker {
        doc.value("NextPartNumberMarker", next);
    }
    doc.value("MaxParts", params.max_parts)
        .value("IsTruncated", page.is_truncated);
    for part in &page.parts {
        doc.open("Part")
            .value("PartNumber", part.part_number)
            .time("LastModified", part.last_modified)
            .etag(&part.etag)
            .value("Size", part.size);
        super::results::checksum_element(&mut doc, part.checksum.as_ref(), false);
        doc.close("Part");
    }
    doc.finish()
}

/// The request parameters echoed by ListMultipartUploadsResult.
#[derive(Debug, Clone, Copy)]
pub struct ListUploadsParams<'a> {
    /// The client-facing bucket name.
    pub bucket: &'a str,
    /// `prefix` as requested (empty when absent).
    pub prefix: &'a str,
    /// `delimiter` as requested; an empty delimiter is not echoed.
    pub delimiter: Option<&'a str>,
    /// `key-marker` as requested (empty when absent).
    pub key_marker: &'a str,
    /// `upload-id-marker` as requested (empty when absent).
    pub upload_id_marker: &'a str,
    /// The effective `max-uploads`.
    pub max_uploads: usize,
    /// `encoding-type=url` was requested.
    pub encoding_type_url: bool,
    /// Written as each upload's `Initiator` and `Owner` when given.
    pub owner: Option<&'a Owner>,
}

/// Renders ListMultipartUploadsResult. `NextKeyMarker` and
/// `NextUploadIdMarker` are always written (empty when the page has none),
/// as S3 does.
pub fn list_multipart_uploads_result(
    params: &ListUploadsParams<'_>,
    page: &ListUploadsPage,
) -> String {
    let url = params.encoding_type_url;
    let mut doc = Doc::new("ListMultipartUploadsResult");
    doc.text("Bucket", params.bucket)
        .key("KeyMarker", params.key_marker, url)
        .text("UploadIdMarker", params.upload_id_marker)
        .key(
            "NextKeyMarker",
            page.next_key_marker.as_deref().unwrap_or(""),
            url,
        )
        .text(
            "NextUploadIdMarker",
            page.next_upload_id_marker.as_deref().unwrap_or(""),
        );
    if let Some(delimiter) = params.delimiter.filter(|d| !d.is_empty()) {
        doc.key("Delimiter", delimiter, url);
    }
    doc.key("Prefix", params.prefix, url);
    if url {
        doc.text("EncodingType", "url");
    }
    doc.value("MaxUploads", params.max_uploads)
        .value("IsTruncated", page.is_truncated);
    for upload in &page.uploads {
        doc.open("Upload")
            .key("Key", &upload.key, url)
            .text("UploadId", &upload.upload_id);
        if let Some(owner) = params.owner {
            doc.owner("Initiator", owner).owner("Owner", owner);
        }
        doc.text("StorageClass", "STANDARD")
            .time("Initiated", upload.initiated)
            .close("Upload");
    }
    common_prefixes(&mut doc, &page.common_prefixes, url);
    doc.finish()
}

/// The request parameters echoed by ListVersionsResult.
#[derive(Debug, Clone, Copy)]
pub struct ListVersionsParams<'a> {
    /// The client-facing bucket name.
    pub bucket: &'a str,
    /// `prefix` as requested (empty when absent).
    pub prefix: &'a str,
    /// `delimiter` as requested; an empty delimiter is not echoed.
    pub delimiter: Option<&'a str>,
    /// `key-marker` as requested (empty when absent).
    pub key_marker: &'a str,
    /// `version-id-marker` as requested (empty when absent).
    pub version_id_marker: &'a str,
    /// The effective `max-keys`.
    pub max_keys: usize,
    /// `encoding-type=url` was requested.
    pub encoding_type_url: bool,
    /// Each version's `Owner`.
    pub owner: &'a Owner,
}

/// Renders ListVersionsResult (ListObjectVersions): versions and delete
/// markers in the page's order, then the common prefixes.
pub fn list_versions_result(params: &ListVersionsParams<'_>, page: &ListVersionsPage) -> String {
    let url = params.encoding_type_url;
    let mut doc = Doc::new("ListVersionsResult");
    doc.text("Name", params.bucket)
        .key("Prefix", params.prefix, url)
        .key("KeyMarker", params.key_marker, url)
        .text("VersionIdMarker", params.version_id_marker);
    if page.is_truncated {
        doc.key(
            "NextKeyMarker",
            page.next_key_marker.as_deref().unwrap_or(""),
            url,
        )
        .text_opt(
            "NextVersionIdMarker",
            page.next_version_id_marker.as_deref(),
        );
    }
    doc.value("MaxKeys", params.max_keys);
    if let Some(delimiter) = params.delimiter.filter(|d| !d.is_empty()) {
        doc.key("Delimiter", delimiter, url);
    }
    if url {
        doc.text("EncodingType", "url");
    }
    doc.value("IsTruncated", page.is_truncated);
    for version in &page.versions {
        let element = if version.is_delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        };
        doc.open(element)
            .key("Key", &version.key, url)
            .text("VersionId", &version.version_id)
            .value("IsLatest", version.is_latest)
            .time("LastModified", version.last_modified);
        if !version.is_delete_marker {
            doc.etag(&version.etag)
                .value("Size", version.size)
                .text("StorageClass", "STANDARD");
        }
        doc.owner("Owner", params.owner).close(element);
    }
    common_prefixes(&mut doc, &page.common_prefixes, url);
    doc.finish()
}
