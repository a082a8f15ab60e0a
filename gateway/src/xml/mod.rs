//! S3 XML documents rendered from a backend's answer (listings, copy
//! results, versioning, tagging), written with the protocol crate's
//! [`cedargate_s3::xml::Doc`] builder; the protocol's own documents are
//! [`cedargate_s3::xml`]'s.

mod list;
mod results;

#[cfg(test)]
mod tests;

pub use list::{
    BucketsPage, ListObjectsParams, ListObjectsV2Params, ListPartsParams, ListUploadsParams,
    ListVersionsParams, list_all_my_buckets_result, list_bucket_result_v1, list_bucket_result_v2,
    list_multipart_uploads_result, list_parts_result, list_versions_result,
};
pub use results::{
    AttributeSelection, copy_object_result, copy_part_result, object_attributes, tagging,
    versioning_configuration,
};
