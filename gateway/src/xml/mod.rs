//! S3 XML bodies: the protocol's documents ([`cedargate_s3::xml`]) and the
//! ones rendered from a backend's answer (listings, copy results,
//! versioning, tagging), written with its [`Doc`] builder.

mod list;
mod results;

#[cfg(test)]
mod tests;

pub use cedargate_s3::cors::cors_configuration;
pub use cedargate_s3::xml::*;
pub use list::{
    ListObjectsParams, ListObjectsV2Params, ListPartsParams, ListUploadsParams, ListVersionsParams,
    list_all_my_buckets_result, list_bucket_result_v1, list_bucket_result_v2,
    list_multipart_uploads_result, list_parts_result, list_versions_result,
};
pub use results::{copy_object_result, copy_part_result, tagging, versioning_configuration};
