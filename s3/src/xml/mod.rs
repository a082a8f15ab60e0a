//! S3 XML bodies: the documents the gateway writes and the four it reads.
//!
//! Used by **dispatch** (result documents for the operations the gateway
//! answers itself or re-renders from a backend) and **respond** (the
//! `<Error>` document of docs/errors.md). The documents rendered from a
//! backend's answer (listings, copy results, versioning, tagging) are
//! written with this module's [`Doc`] by the gateway. Every document is
//! what AWS S3 sends and the SDKs parse:
//!
//! - the declaration `<?xml version="1.0" encoding="UTF-8"?>`, a newline,
//!   then the document on one line (no indentation), as AWS sends it;
//! - `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"` on every result root
//!   (not on `<Error>`, which AWS sends without a namespace);
//! - every value escaped by [`escape`]: the five XML entities, and `\r`,
//!   `\n` and other control characters as numeric references, as AWS
//!   documents for keys ("XML related object key constraints"). Keys with
//!   control characters other than tab, CR and LF cannot be represented in
//!   XML 1.0 at all: like AWS, the gateway still writes them as references,
//!   and such keys need `encoding-type=url` (which botocore always sends);
//! - timestamps as ISO 8601 UTC with milliseconds (`2009-10-12T17:50:30.000Z`),
//!   ETags quoted (`&quot;...&quot;`), storage class `STANDARD`.
//!
//! Writing is a small string builder rather than quick-xml's `Writer`: the
//! documents are flat lists of text elements, the builder cannot fail, and
//! it gives exact control over the bytes. Reading ([`parse_delete`],
//! [`parse_complete_multipart_upload`], [`parse_tagging`],
//! [`parse_access_control_policy`]) uses quick-xml's pull parser with
//! limits on size, depth and item counts; namespaced and un-namespaced
//! roots are both accepted, DTDs are refused.
//!
//! With `encoding-type=url`, listing documents URL-encode the key-like
//! values as S3 does (everything but `A-Z a-z 0-9 - _ . * /` as `%XX`, a
//! space as `%20`), which botocore's `unquote_plus` and the Go and Java
//! SDKs' query-unescaping turn back into the original value; see
//! [`url_encode`].

mod acl;
mod parse;
mod results;
mod write;

pub use acl::{
    ALL_USERS, AUTHENTICATED_USERS, AclSubject, CannedAcl, InvalidCannedAcl, LOG_DELIVERY,
};
pub use parse::{
    AclGrant, CompleteMultipartUpload, CompletedPart, DeleteRequest, MAX_ACL_BODY_BYTES,
    MAX_COMPLETE_BODY_BYTES, MAX_DELETE_BODY_BYTES, MAX_DELETE_OBJECTS, MAX_PARTS,
    MAX_TAGGING_BODY_BYTES, MAX_VERSIONING_BODY_BYTES, ObjectToDelete, VersioningConfiguration,
    XmlError, parse_access_control_policy, parse_complete_multipart_upload, parse_delete,
    parse_tagging, parse_versioning,
};
pub use results::{
    DeleteFailure, DeleteOutcome, checksum_element, complete_multipart_upload_result,
    delete_result, error_document, initiate_multipart_upload_result, location_constraint,
};
pub use write::{Doc, escape, timestamp, url_encode};

/// The XML declaration that opens every document.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The S3 namespace, on the root of every result document.
pub const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// The owner (or initiator) shown in listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The canonical user id.
    pub id: String,
    /// The display name; AWS has stopped sending it in most regions, so it
    /// is written only when given.
    pub display_name: Option<String>,
}
