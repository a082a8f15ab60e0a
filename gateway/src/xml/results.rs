//! Single-result documents rendered from what a backend answered:
//! VersioningConfiguration, Tagging, CopyObjectResult, CopyPartResult and
//! GetObjectAttributesResponse.

use cedargate_backends::{CopyOutput, ObjectAttributes, ObjectChecksum, TagSet, VersioningStatus};
use cedargate_s3::xml::Doc;

/// Renders GetBucketVersioning's answer: no `Status` for a bucket whose
/// versioning was never enabled, as S3 answers.
pub fn versioning_configuration(status: VersioningStatus) -> String {
    let mut doc = Doc::new("VersioningConfiguration");
    match status {
        VersioningStatus::Unversioned => {}
        VersioningStatus::Enabled => {
            doc.text("Status", "Enabled");
        }
        VersioningStatus::Suspended => {
            doc.text("Status", "Suspended");
        }
    }
    doc.finish()
}

/// Renders GetObjectTagging's answer.
pub fn tagging(tags: &TagSet) -> String {
    let mut doc = Doc::new("Tagging");
    doc.open("TagSet");
    for (key, value) in tags {
        doc.open("Tag")
            .text("Key", key)
            .text("Value", value)
            .close("Tag");
    }
    doc.close("TagSet");
    doc.finish()
}

/// Renders CopyObjectResult.
pub fn copy_object_result(copy: &CopyOutput) -> String {
    copy_result("CopyObjectResult", copy)
}

/// Renders CopyPartResult (UploadPartCopy).
pub fn copy_part_result(copy: &CopyOutput) -> String {
    copy_result("CopyPartResult", copy)
}

fn copy_result(root: &'static str, copy: &CopyOutput) -> String {
    let mut doc = Doc::new(root);
    doc.time("LastModified", copy.last_modified)
        .etag(&copy.etag);
    checksum_element(&mut doc, copy.checksum.as_ref(), root == "CopyObjectResult");
    doc.finish()
}

/// Writes `<ChecksumCRC32>value</ChecksumCRC32>` (the digest, without a
/// COMPOSITE `-N`) and, when `with_type`, `<ChecksumType>`.
pub(super) fn checksum_element(doc: &mut Doc, checksum: Option<&ObjectChecksum>, with_type: bool) {
    let Some(checksum) = checksum else {
        return;
    };
    let Some(algorithm) = checksum.algorithm() else {
        return;
    };
    doc.text(
        &cedargate_s3::xml::checksum_element(algorithm.as_str()),
        checksum.digest(),
    );
    if with_type {
        doc.text("ChecksumType", checksum.checksum_type.as_str());
    }
}

/// Which attributes GetObjectAttributes was asked for
/// (`x-amz-object-attributes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttributeSelection {
    /// `ETag`.
    pub etag: bool,
    /// `Checksum`.
    pub checksum: bool,
    /// `ObjectParts`.
    pub object_parts: bool,
    /// `StorageClass`.
    pub storage_class: bool,
    /// `ObjectSize`.
    pub object_size: bool,
}

/// Renders GetObjectAttributesResponse with the selected attributes, in
/// S3's order. `max_parts` and `part_number_marker` are the request's.
pub fn object_attributes(
    attributes: &ObjectAttributes,
    selection: AttributeSelection,
    max_parts: usize,
    part_number_marker: u32,
) -> String {
    let meta = &attributes.meta;
    let mut doc = Doc::new("GetObjectAttributesResponse");
    if selection.etag {
        doc.text("ETag", &meta.etag);
    }
    if selection.checksum
        && let Some(checksum) = &meta.checksum
    {
        doc.open("Checksum");
        checksum_element(&mut doc, Some(checksum), true);
        doc.close("Checksum");
    }
    if selection.object_parts
        && let Some(parts) = &attributes.parts
    {
        doc.open("ObjectParts")
            .value("PartsCount", parts.total_parts_count)
            .value("PartNumberMarker", part_number_marker);
        if let Some(next) = parts.next_part_number_marker {
            doc.value("NextPartNumberMarker", next);
        }
        doc.value("MaxParts", max_parts)
            .value("IsTruncated", parts.is_truncated);
        for part in &parts.parts {
            doc.open("Part")
                .value("PartNumber", part.part_number)
                .value("Size", part.size);
            checksum_element(&mut doc, part.checksum.as_ref(), false);
            doc.close("Part");
        }
        doc.close("ObjectParts");
    }
    if selection.storage_class {
        let class = meta
            .headers
            .storage
            .get("x-amz-storage-class")
            .map_or("STANDARD", String::as_str);
        doc.text("StorageClass", class);
    }
    if selection.object_size {
        doc.value("ObjectSize", meta.size);
    }
    doc.finish()
}
