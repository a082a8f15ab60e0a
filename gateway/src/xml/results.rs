//! Single-result documents rendered from what a backend answered:
//! VersioningConfiguration, Tagging, CopyObjectResult and CopyPartResult.

use cedargate_backends::{CopyOutput, TagSet, VersioningStatus};
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
    doc.finish()
}
