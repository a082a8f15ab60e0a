//! The tables classification reads: which query parameters exist, which
//! of them are subresources, and which operation each subresource and
//! method select. Adding an S3 operation means a variant in
//! [`super::S3Operation`], a row here (or a case in `super::classify`) and a
//! row in tests/data/classify.toml.

use super::S3Operation as Op;

/// A subresource and the operations its GET, PUT and DELETE select.
pub(super) type MethodRow = (&'static str, Option<Op>, Option<Op>, Option<Op>);

/// Subresources: parameters that select the operation. At most one per
/// request.
#[rustfmt::skip]
pub(super) const SUBRESOURCES: &[&str] = &[
    "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
    "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "list-type", "location",
    "logging", "metrics", "notification", "object-lock", "ownershipControls", "policy",
    "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore",
    "retention", "select", "tagging", "torrent", "uploadId", "uploads", "versioning",
    "versions", "website",
];

/// Parameters of the operations (and of query authentication) that do not
/// change which operation a request is.
#[rustfmt::skip]
pub(super) const PARAMETERS: &[&str] = &[
    // Object reads and writes.
    "versionId", "partNumber", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-content-type",
    "response-expires", "select-type",
    // Listings.
    "prefix", "delimiter", "marker", "max-keys", "encoding-type", "continuation-token",
    "fetch-owner", "start-after", "key-marker", "version-id-marker", "upload-id-marker",
    "max-uploads", "max-parts", "part-number-marker", "max-buckets", "bucket-region",
    // Analytics, inventory, metrics and intelligent-tiering configuration ids.
    "id",
    // The operation-name hint newer AWS SDKs add (`x-id=GetObject`).
    "x-id",
    // SigV2 query authentication (refused later by authentication, not here).
    "AWSAccessKeyId", "Signature", "Expires",
];

/// Bucket subresources answered by Get/Put/Delete.
pub(super) const BUCKET_CONFIG: &[MethodRow] = &[
    ("acl", Some(Op::GetBucketAcl), Some(Op::PutBucketAcl), None),
    (
        "policy",
        Some(Op::GetBucketPolicy),
        Some(Op::PutBucketPolicy),
        Some(Op::DeleteBucketPolicy),
    ),
    ("policyStatus", Some(Op::GetBucketPolicyStatus), None, None),
    (
        "cors",
        Some(Op::GetBucketCors),
        Some(Op::PutBucketCors),
        Some(Op::DeleteBucketCors),
    ),
    (
        "lifecycle",
        Some(Op::GetBucketLifecycleConfiguration),
        Some(Op::PutBucketLifecycleConfiguration),
        Some(Op::DeleteBucketLifecycle),
    ),
    (
        "versioning",
        Some(Op::GetBucketVersioning),
        Some(Op::PutBucketVersioning),
        None,
    ),
    (
        "tagging",
        Some(Op::GetBucketTagging),
        Some(Op::PutBucketTagging),
        Some(Op::DeleteBucketTagging),
    ),
    (
        "website",
        Some(Op::GetBucketWebsite),
        Some(Op::PutBucketWebsite),
        Some(Op::DeleteBucketWebsite),
    ),
    (
        "encryption",
        Some(Op::GetBucketEncryption),
        Some(Op::PutBucketEncryption),
        Some(Op::DeleteBucketEncryption),
    ),
    (
        "logging",
        Some(Op::GetBucketLogging),
        Some(Op::PutBucketLogging),
        None,
    ),
    (
        "notification",
        Some(Op::GetBucketNotificationConfiguration),
        Some(Op::PutBucketNotificationConfiguration),
        None,
    ),
    (
        "replication",
        Some(Op::GetBucketReplication),
        Some(Op::PutBucketReplication),
        Some(Op::DeleteBucketReplication),
    ),
    (
        "requestPayment",
        Some(Op::GetBucketRequestPayment),
        Some(Op::PutBucketRequestPayment),
        None,
    ),
    (
        "accelerate",
        Some(Op::GetBucketAccelerateConfiguration),
        Some(Op::PutBucketAccelerateConfiguration),
        None,
    ),
    (
        "ownershipControls",
        Some(Op::GetBucketOwnershipControls),
        Some(Op::PutBucketOwnershipControls),
        Some(Op::DeleteBucketOwnershipControls),
    ),
    (
        "publicAccessBlock",
        Some(Op::GetPublicAccessBlock),
        Some(Op::PutPublicAccessBlock),
        Some(Op::DeletePublicAccessBlock),
    ),
    (
        "object-lock",
        Some(Op::GetObjectLockConfiguration),
        Some(Op::PutObjectLockConfiguration),
        None,
    ),
];

/// Bucket configurations addressed by `id`: Get, Put, Delete, and List
/// (a GET without `id`).
pub(super) const BUCKET_CONFIG_BY_ID: &[(&str, Op, Op, Op, Op)] = &[
    (
        "analytics",
        Op::GetBucketAnalyticsConfiguration,
        Op::PutBucketAnalyticsConfiguration,
        Op::DeleteBucketAnalyticsConfiguration,
        Op::ListBucketAnalyticsConfigurations,
    ),
    (
        "inventory",
        Op::GetBucketInventoryConfiguration,
        Op::PutBucketInventoryConfiguration,
        Op::DeleteBucketInventoryConfiguration,
        Op::ListBucketInventoryConfigurations,
    ),
    (
        "metrics",
        Op::GetBucketMetricsConfiguration,
        Op::PutBucketMetricsConfiguration,
        Op::DeleteBucketMetricsConfiguration,
        Op::ListBucketMetricsConfigurations,
    ),
    (
        "intelligent-tiering",
        Op::GetBucketIntelligentTieringConfiguration,
        Op::PutBucketIntelligentTieringConfiguration,
        Op::DeleteBucketIntelligentTieringConfiguration,
        Op::ListBucketIntelligentTieringConfigurations,
    ),
];

/// Object subresources answered by Get/Put/Delete.
pub(super) const OBJECT_CONFIG: &[MethodRow] = &[
    ("acl", Some(Op::GetObjectAcl), Some(Op::PutObjectAcl), None),
    (
        "tagging",
        Some(Op::GetObjectTagging),
        Some(Op::PutObjectTagging),
        Some(Op::DeleteObjectTagging),
    ),
    ("attributes", Some(Op::GetObjectAttributes), None, None),
    (
        "retention",
        Some(Op::GetObjectRetention),
        Some(Op::PutObjectRetention),
        None,
    ),
    (
        "legal-hold",
        Some(Op::GetObjectLegalHold),
        Some(Op::PutObjectLegalHold),
        None,
    ),
    ("torrent", Some(Op::GetObjectTorrent), None, None),
];

/// Object subresources that are not in [`OBJECT_CONFIG`].
pub(super) const OBJECT_ONLY: &[&str] = &["uploadId", "uploads", "restore", "select"];
