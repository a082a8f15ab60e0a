//! The XML documents exchanged with the upstream: response documents
//! parsed with quick-xml's serde support, and the two small request
//! documents (DeleteObjects, CompleteMultipartUpload) written by hand.

use std::time::SystemTime;

use quick_xml::events::Event;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::not_s3::not_s3;
use crate::{BackendResult, CompletedPart};

/// Parses a response document into `T`; anything else is a bad gateway.
pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> BackendResult<T> {
    let text = std::str::from_utf8(body).map_err(|_| not_s3("a response document is not UTF-8"))?;
    quick_xml::de::from_str(text).map_err(|error| not_s3(format!("unparseable document: {error}")))
}

/// The name of a document's root element, if it has one.
pub(super) fn root_name(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    for _ in 0..64 {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(start) | Event::Empty(start) => {
                return Some(start.local_name().into_inner().to_owned());
            }
            Event::Eof => return None,
            _ => buf.clear(),
        }
    }
    None
}

/// An ETag as S3 writes it (quoted, maybe weak), without the quotes.
pub(super) fn unquote_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// An ISO 8601 timestamp of a listing (`2009-10-12T17:50:30.000Z`).
pub(super) fn parse_timestamp(value: &str) -> BackendResult<SystemTime> {
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| not_s3("unparseable timestamp"))
}

/// `<Error>`: an S3 error document.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct ErrorDoc {
    /// The S3 error code.
    pub code: Option<String>,
    /// The human message (for logs only).
    pub message: Option<String>,
    /// The part concerned (InvalidPart, EntityTooSmall).
    pub part_number: Option<u32>,
    /// The object's size (InvalidRange).
    pub actual_object_size: Option<u64>,
    /// The request id (for logs only).
    pub request_id: Option<String>,
}

/// `<ListBucketResult>` of ListObjectsV2.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListBucketResult {
    /// Whether more entries follow.
    #[serde(default)]
    pub is_truncated: bool,
    /// The token of the next page.
    #[serde(default)]
    pub next_continuation_token: Option<String>,
    /// The objects.
    #[serde(default)]
    pub contents: Vec<Contents>,
    /// The common prefixes.
    #[serde(default)]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// `<Contents>`: one object of a listing.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Contents {
    /// The key.
    pub key: String,
    /// ISO 8601 modification time.
    pub last_modified: String,
    /// Quoted ETag.
    #[serde(rename = "ETag", default)]
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
}

/// `<CommonPrefixes>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CommonPrefix {
    /// The prefix.
    pub prefix: String,
}

/// `<InitiateMultipartUploadResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InitiateResult {
    /// The new upload's id.
    pub upload_id: String,
}

/// `<CompleteMultipartUploadResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CompleteResult {
    /// Quoted ETag of the new object.
    #[serde(rename = "ETag")]
    pub etag: String,
    // The object's checksum, when it has one.
    #[serde(rename = "ChecksumCRC32", default)]
    pub crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", default)]
    pub crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", default)]
    pub crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", default)]
    pub sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", default)]
    pub sha256: Option<String>,
    #[serde(rename = "ChecksumType", default)]
    pub checksum_type: Option<String>,
}

impl CompleteResult {
    /// The object's checksum.
    pub fn checksum(&self) -> Option<crate::ObjectChecksum> {
        checksum_of(
            [
                &self.crc32,
                &self.crc32c,
                &self.crc64nvme,
                &self.sha1,
                &self.sha256,
            ],
            self.checksum_type.as_deref(),
        )
    }
}

/// The checksum of `<ChecksumCRC32>`... `<ChecksumSHA256>` (in that order)
/// and `<ChecksumType>`.
fn checksum_of(values: [&Option<String>; 5], kind: Option<&str>) -> Option<crate::ObjectChecksum> {
    let (algorithm, value) = crate::ChecksumAlgorithm::ALL
        .into_iter()
        .zip(values)
        .find_map(|(algorithm, value)| Some((algorithm, value.as_ref()?.trim().to_owned())))?;
    Some(crate::ObjectChecksum {
        algorithm: algorithm.lowercase_name().to_owned(),
        value,
        checksum_type: kind
            .and_then(crate::ChecksumType::parse)
            .unwrap_or_default(),
    })
}

/// The XML element of a checksum (`ChecksumCRC32`).
pub(super) fn checksum_element(checksum: &crate::ObjectChecksum) -> Option<String> {
    Some(format!("Checksum{}", checksum.algorithm()?.as_str()))
}

/// `<CopyObjectResult>` and `<CopyPartResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CopyResult {
    /// Quoted ETag of the new object or part.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// ISO 8601 modification time (some servers leave it out).
    #[serde(default)]
    pub last_modified: Option<String>,
}

impl CopyResult {
    /// The new object's or part's modification time; the time of the
    /// answer when the upstream does not say.
    pub fn modified(&self) -> BackendResult<SystemTime> {
        match &self.last_modified {
            Some(value) => parse_timestamp(value),
            None => Ok(SystemTime::now()),
        }
    }
}

/// `<ListPartsResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListPartsResult {
    /// The key the upload is for.
    #[serde(default)]
    pub key: Option<String>,
    /// Whether more parts follow.
    #[serde(default)]
    pub is_truncated: bool,
    /// The marker of the next page.
    #[serde(default)]
    pub next_part_number_marker: Option<u32>,
    /// The parts.
    #[serde(default, rename = "Part")]
    pub parts: Vec<Part>,
}

/// `<Part>` of a ListParts answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Part {
    /// Part number.
    pub part_number: u32,
    /// ISO 8601 upload time.
    pub last_modified: String,
    /// Quoted ETag (some servers leave it out: then empty).
    #[serde(rename = "ETag", default)]
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    // The part's checksum, when it has one.
    #[serde(rename = "ChecksumCRC32", default)]
    pub crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", default)]
    pub crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", default)]
    pub crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", default)]
    pub sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", default)]
    pub sha256: Option<String>,
    #[serde(rename = "ChecksumType", default)]
    pub checksum_type: Option<String>,
}

impl Part {
    /// The part's checksum.
    pub fn checksum(&self) -> Option<crate::ObjectChecksum> {
        checksum_of(
            [
                &self.crc32,
                &self.crc32c,
                &self.crc64nvme,
                &self.sha1,
                &self.sha256,
            ],
            self.checksum_type.as_deref(),
        )
    }
}

/// `<ListMultipartUploadsResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListUploadsResult {
    /// Whether more entries follow.
    #[serde(default)]
    pub is_truncated: bool,
    /// Key marker of the next page.
    #[serde(default)]
    pub next_key_marker: Option<String>,
    /// Upload id marker of the next page.
    #[serde(default)]
    pub next_upload_id_marker: Option<String>,
    /// The uploads.
    #[serde(default, rename = "Upload")]
    pub uploads: Vec<Upload>,
    /// The common prefixes.
    #[serde(default)]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// `<Upload>` of a ListMultipartUploads answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Upload {
    /// The key.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// ISO 8601 initiation time.
    pub initiated: String,
}

/// `<DeleteResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteResult {
    /// Keys deleted.
    #[serde(default)]
    pub deleted: Vec<Deleted>,
    /// Keys that could not be deleted.
    #[serde(default, rename = "Error")]
    pub errors: Vec<DeleteError>,
}

/// `<Deleted>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Deleted {
    /// The key.
    pub key: String,
    /// The version deleted, when the request named one.
    #[serde(default)]
    pub version_id: Option<String>,
    /// Whether a delete marker was created or deleted.
    #[serde(default)]
    pub delete_marker: Option<bool>,
    /// The delete marker created.
    #[serde(default)]
    pub delete_marker_version_id: Option<String>,
}

/// `<Error>` inside a `<DeleteResult>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DeleteError {
    /// The key.
    pub key: String,
    /// The version named, when the request named one.
    #[serde(default)]
    pub version_id: Option<String>,
    /// The S3 error code.
    #[serde(default)]
    pub code: Option<String>,
}

/// `<ListAllMyBucketsResult>` of ListBuckets.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListAllMyBucketsResult {
    /// The buckets.
    #[serde(default)]
    pub buckets: BucketList,
}

/// `<Buckets>`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketList {
    /// One per bucket.
    #[serde(default)]
    pub bucket: Vec<BucketEntry>,
}

/// `<Bucket>` of a ListBuckets answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketEntry {
    /// The name.
    pub name: String,
    /// ISO 8601 creation time.
    #[serde(default)]
    pub creation_date: Option<String>,
}

/// `<VersioningConfiguration>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VersioningConfiguration {
    /// `Enabled` or `Suspended`; absent when never enabled.
    #[serde(default)]
    pub status: Option<String>,
}

/// `<ListVersionsResult>` of ListObjectVersions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListVersionsResult {
    /// Whether more entries follow.
    #[serde(default)]
    pub is_truncated: bool,
    /// Key marker of the next page.
    #[serde(default)]
    pub next_key_marker: Option<String>,
    /// Version id marker of the next page.
    #[serde(default)]
    pub next_version_id_marker: Option<String>,
    /// The versions.
    #[serde(default)]
    pub version: Vec<VersionDoc>,
    /// The delete markers.
    #[serde(default)]
    pub delete_marker: Vec<VersionDoc>,
    /// The common prefixes.
    #[serde(default)]
    pub common_prefixes: Vec<CommonPrefix>,
}

/// `<Version>` or `<DeleteMarker>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct VersionDoc {
    /// The key.
    pub key: String,
    /// The version id.
    pub version_id: String,
    /// Whether it is the key's current version.
    #[serde(default)]
    pub is_latest: bool,
    /// ISO 8601 time.
    pub last_modified: String,
    /// Quoted ETag (none for delete markers).
    #[serde(rename = "ETag", default)]
    pub etag: String,
    /// Size (none for delete markers).
    #[serde(default)]
    pub size: u64,
}

/// `<Tagging>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TaggingDoc {
    /// The tags.
    #[serde(default)]
    pub tag_set: TagSetDoc,
}

/// `<TagSet>`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagSetDoc {
    /// One per tag.
    #[serde(default)]
    pub tag: Vec<TagDoc>,
}

/// `<Tag>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagDoc {
    /// The tag key.
    pub key: String,
    /// The tag value.
    #[serde(default)]
    pub value: String,
}

/// `<Tagging>` for PutObjectTagging (every key and value must pass [`text`]).
pub(super) fn tagging_request(tags: &crate::TagSet) -> Option<String> {
    let mut out = String::from("<Tagging><TagSet>");
    for (key, value) in tags {
        out.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            text(key)?,
            text(value)?
        ));
    }
    out.push_str("</TagSet></Tagging>");
    Some(out)
}

/// Escapes text for an XML 1.0 element, or `None` when it holds a
/// character XML 1.0 cannot carry at all. `\t`, `\n` and `\r` are written
/// as character references so that no parser normalizes them.
pub(super) fn text(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// `<Delete>` for DeleteObjects (every key must pass [`text`]).
pub(super) fn delete_request<'a>(
    objects: impl Iterator<Item = &'a crate::ObjectIdentifier>,
) -> Option<String> {
    let mut out = String::from("<Delete><Quiet>false</Quiet>");
    for object in objects {
        out.push_str("<Object><Key>");
        out.push_str(&text(&object.key)?);
        out.push_str("</Key>");
        if let Some(version_id) = &object.version_id {
            out.push_str("<VersionId>");
            out.push_str(&text(version_id)?);
            out.push_str("</VersionId>");
        }
        out.push_str("</Object>");
    }
    out.push_str("</Delete>");
    Some(out)
}

/// `<CompleteMultipartUpload>` naming `parts` with quoted ETags.
pub(super) fn complete_request(parts: &[CompletedPart]) -> Option<String> {
    let mut out = String::from("<CompleteMultipartUpload>");
    for part in parts {
        let etag = text(&format!("\"{}\"", unquote_etag(&part.etag)))?;
        let checksum = match &part.checksum {
            Some(checksum) => {
                let element = checksum_element(checksum)?;
                format!("<{element}>{}</{element}>", text(checksum.digest())?)
            }
            None => String::new(),
        };
        out.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag>{checksum}</Part>",
            part.part_number
        ));
    }
    out.push_str("</CompleteMultipartUpload>");
    Some(out)
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
