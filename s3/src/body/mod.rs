//! The request body's protocol: how an S3 body is framed and verified.
//!
//! - [`plan`]: [`BodyPlan`], decided from the headers and the signed payload
//!   hash before any body byte is read;
//! - [`chunked`]: the `aws-chunked` decoder and its chunk signatures;
//! - [`trailer`]: the trailers after the final chunk and their signature;
//! - [`checksum`]: the `x-amz-checksum-*` and `Content-MD5` verifiers;
//! - [`multipart_checksum`]: checksum types and the checksum of an object
//!   assembled from parts.
//!
//! Reading the bytes from a connection and handing them to storage is the
//! service's work.

pub mod checksum;
pub mod chunked;
pub mod multipart_checksum;
pub mod plan;
pub mod trailer;

pub use plan::{BodyPlan, stored_content_encoding};
