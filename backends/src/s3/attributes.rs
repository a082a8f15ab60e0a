//! GetObjectAttributes on the upstream (`GET /bucket/key?attributes`),
//! asked for every attribute and parsed into [`ObjectAttributes`].

use std::sync::Arc;

use http::Method;
use serde::Deserialize;

use super::client::Client;
use super::error::{Op, Target};
use super::headers;
use super::not_s3::not_s3;
use super::objects::document;
use super::request::{Payload, Request};
use super::xml::{self, Part};
use crate::{
    AttributesOptions, BackendError, BackendResult, ObjectAttributes, ObjectHeaders, ObjectMeta,
    ObjectPart, ObjectPartsPage,
};

const GET_ATTRIBUTES: Op = Op::new("GetObjectAttributes", Target::Object);

/// `<GetObjectAttributesResponse>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributesResponse {
    #[serde(rename = "ETag", default)]
    etag: Option<String>,
    #[serde(default)]
    checksum: Option<Checksum>,
    #[serde(default)]
    object_parts: Option<ObjectParts>,
    #[serde(default)]
    storage_class: Option<String>,
    #[serde(default)]
    object_size: Option<u64>,
}

/// `<Checksum>`: the same elements as a part's.
#[derive(Debug, Deserialize)]
struct Checksum {
    #[serde(rename = "ChecksumCRC32", default)]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", default)]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", default)]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", default)]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", default)]
    sha256: Option<String>,
    #[serde(rename = "ChecksumType", default)]
    checksum_type: Option<String>,
}

/// `<ObjectParts>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ObjectParts {
    /// `PartsCount` on the wire (`TotalPartsCount` in the SDKs).
    #[serde(default)]
    parts_count: Option<u32>,
    #[serde(default)]
    next_part_number_marker: Option<u32>,
    #[serde(default)]
    is_truncated: bool,
    #[serde(default, rename = "Part")]
    parts: Vec<AttributesPart>,
}

/// One `<Part>` of `<ObjectParts>`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributesPart {
    part_number: u32,
    #[serde(default)]
    size: u64,
    #[serde(rename = "ChecksumCRC32", default)]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", default)]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", default)]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", default)]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", default)]
    sha256: Option<String>,
}

/// The checksum of a part or an object, through the listing part's parser.
fn checksum_of(values: [Option<String>; 5], kind: Option<String>) -> Option<crate::ObjectChecksum> {
    let [crc32, crc32c, crc64nvme, sha1, sha256] = values;
    Part {
        part_number: 0,
        last_modified: String::new(),
        etag: String::new(),
        size: 0,
        crc32,
        crc32c,
        crc64nvme,
        sha1,
        sha256,
        checksum_type: kind,
    }
    .checksum()
}

pub(super) async fn get(
    client: &Arc<Client>,
    bucket: &str,
    key: &str,
    options: AttributesOptions,
) -> BackendResult<ObjectAttributes> {
    if key.is_empty() {
        return Err(BackendError::NoSuchKey);
    }
    let mut request =
        Request::new(Method::GET, GET_ATTRIBUTES, bucket, Some(key)).param("attributes", "");
    if let Some(version_id) = &options.get.version_id {
        request = request.param("versionId", version_id.clone());
    }
    request.headers.sse_customer(&options.get.sse_customer)?;
    request.headers.add(
        "x-amz-object-attributes",
        "ETag,Checksum,ObjectParts,StorageClass,ObjectSize",
    )?;
    request
        .headers
        .add("x-amz-max-parts", &options.max_parts.to_string())?;
    if options.part_number_marker > 0 {
        request.headers.add(
            "x-amz-part-number-marker",
            &options.part_number_marker.to_string(),
        )?;
    }
    let response = client
        .send(request, Payload::Empty)
        .await?
        .check(&[200])
        .await?;
    let last_modified = headers::last_modified(&response.headers)
        .ok_or_else(|| not_s3("a GetObjectAttributes answer has no Last-Modified"))?;
    let body = document(response, GET_ATTRIBUTES).await?;
    let answer: AttributesResponse = xml::parse(&body)?;
    let checksum = answer.checksum.and_then(|c| {
        checksum_of(
            [c.crc32, c.crc32c, c.crc64nvme, c.sha1, c.sha256],
            c.checksum_type,
        )
    });
    let mut object_headers = ObjectHeaders::default();
    if let Some(class) = answer.storage_class {
        object_headers
            .storage
            .insert("x-amz-storage-class".to_owned(), class);
    }
    let parts = answer.object_parts.map(|parts| ObjectPartsPage {
        total_parts_count: parts.parts_count.unwrap_or(0),
        next_part_number_marker: parts.next_part_number_marker.filter(|_| parts.is_truncated),
        is_truncated: parts.is_truncated,
        parts: parts
            .parts
            .into_iter()
            .map(|part| ObjectPart {
                part_number: part.part_number,
                size: part.size,
                checksum: checksum_of(
                    [
                        part.crc32,
                        part.crc32c,
                        part.crc64nvme,
                        part.sha1,
                        part.sha256,
                    ],
                    None,
                ),
            })
            .collect(),
    });
    let parts_count = parts.as_ref().map(|page| page.total_parts_count);
    Ok(ObjectAttributes {
        meta: ObjectMeta {
            key: key.to_owned(),
            size: answer.object_size.unwrap_or(0),
            etag: xml::unquote_etag(answer.etag.as_deref().unwrap_or_default()),
            last_modified,
            headers: object_headers,
            user_metadata: Default::default(),
            parts_count,
            version_id: None,
            checksum,
        },
        parts,
    })
}
