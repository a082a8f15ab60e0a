//! The S3 operations the gateway recognises, one variant per AWS operation.
//!
//! One table row per operation gives its name (the variant, spelled as in
//! AWS's API reference), its [`OperationClass`] and whether it changes
//! anything; the macro derives `name`, `cedar_action`, `class`, `is_write`
//! and `all` from it, so a name is written once. Each variant's doc is the
//! request shape that selects it (see [`super::classify`]).
//!
//! Classes (the Cedar action groups):
//!
//! - `read`: object content and object metadata reads (GetObject, HeadObject,
//!   GetObjectAcl/Tagging/Attributes/Retention/LegalHold/Torrent,
//!   SelectObjectContent);
//! - `list`: ListBuckets, ListObjects(V2), ListObjectVersions,
//!   ListMultipartUploads, ListParts, HeadBucket, GetBucketLocation;
//! - `write`: PutObject, PostObject, CopyObject, PutObjectAcl/Tagging/Retention/LegalHold,
//!   RestoreObject;
//! - `delete`: DeleteObject, DeleteObjects, DeleteObjectTagging;
//! - `multipart`: CreateMultipartUpload, UploadPart, UploadPartCopy,
//!   CompleteMultipartUpload, AbortMultipartUpload;
//! - `bucket-config`: every Get/Put/Delete/List of a bucket subresource
//!   (acl, policy, cors, lifecycle, versioning, ...);
//! - `admin`: CreateBucket, DeleteBucket.

use std::fmt;

/// The authorization class of an operation; also the Cedar action group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperationClass {
    /// Reads an object's content or metadata.
    Read,
    /// Creates or changes an object.
    Write,
    /// Lists buckets, objects, versions, uploads or parts; probes a bucket.
    List,
    /// Deletes objects or object tags.
    Delete,
    /// Creates, fills, completes or aborts a multipart upload.
    Multipart,
    /// Reads or changes a bucket's configuration subresources.
    BucketConfig,
    /// Creates or deletes buckets.
    Admin,
}

impl OperationClass {
    /// The class's name as used for the Cedar action group and in test
    /// tables: `read`, `write`, `list`, `delete`, `multipart`,
    /// `bucket-config`, `admin`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::List => "list",
            Self::Delete => "delete",
            Self::Multipart => "multipart",
            Self::BucketConfig => "bucket-config",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for OperationClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! s3_operations {
    ($( $op:ident => $class:ident, $effect:ident, $shape:literal; )*) => {
        /// One S3 operation, named exactly as AWS names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum S3Operation {
            $( #[doc = concat!("`", $shape, "`")] $op, )*
        }

        impl S3Operation {
            const ALL: &'static [S3Operation] = &[$( S3Operation::$op, )*];

            /// The AWS operation name, e.g. `GetObject`.
            pub fn name(self) -> &'static str {
                match self { $( Self::$op => stringify!($op), )* }
            }

            /// The Cedar action id, e.g. `s3:GetObject`: the action of
            /// [`Self::decided_as`].
            pub fn cedar_action(self) -> &'static str {
                match self.decided_as() { $( Self::$op => concat!("s3:", stringify!($op)), )* }
            }

            /// The operation's authorization class.
            pub fn class(self) -> OperationClass {
                match self { $( Self::$op => OperationClass::$class, )* }
            }

            /// Whether the operation creates, changes or deletes anything.
            pub fn is_write(self) -> bool {
                match self { $( Self::$op => s3_operations!(@effect $effect), )* }
            }
        }
    };
    (@effect reads) => { false };
    (@effect writes) => { true };
}

s3_operations! {
    // Object reads.
    GetObject => Read, reads, "GET /{bucket}/{key}";
    HeadObject => Read, reads, "HEAD /{bucket}/{key}";
    GetObjectAcl => Read, reads, "GET /{bucket}/{key}?acl";
    GetObjectTagging => Read, reads, "GET /{bucket}/{key}?tagging";
    GetObjectAttributes => Read, reads, "GET /{bucket}/{key}?attributes";
    GetObjectRetention => Read, reads, "GET /{bucket}/{key}?retention";
    GetObjectLegalHold => Read, reads, "GET /{bucket}/{key}?legal-hold";
    GetObjectTorrent => Read, reads, "GET /{bucket}/{key}?torrent";
    SelectObjectContent => Read, reads, "POST /{bucket}/{key}?select&select-type=2";
    // Object writes.
    PutObject => Write, writes, "PUT /{bucket}/{key}";
    PostObject => Write, writes, "POST /{bucket} with a multipart/form-data body";
    CopyObject => Write, writes, "PUT /{bucket}/{key} with x-amz-copy-source";
    PutObjectAcl => Write, writes, "PUT /{bucket}/{key}?acl";
    PutObjectTagging => Write, writes, "PUT /{bucket}/{key}?tagging";
    PutObjectRetention => Write, writes, "PUT /{bucket}/{key}?retention";
    PutObjectLegalHold => Write, writes, "PUT /{bucket}/{key}?legal-hold";
    RestoreObject => Write, writes, "POST /{bucket}/{key}?restore";
    // Deletes.
    DeleteObject => Delete, writes, "DELETE /{bucket}/{key}";
    DeleteObjects => Delete, writes, "POST /{bucket}?delete";
    DeleteObjectTagging => Delete, writes, "DELETE /{bucket}/{key}?tagging";
    // Multipart uploads.
    CreateMultipartUpload => Multipart, writes, "POST /{bucket}/{key}?uploads";
    UploadPart => Multipart, writes, "PUT /{bucket}/{key}?partNumber=N&uploadId=ID";
    UploadPartCopy => Multipart, writes, "PUT /{bucket}/{key}?partNumber=N&uploadId=ID with x-amz-copy-source";
    CompleteMultipartUpload => Multipart, writes, "POST /{bucket}/{key}?uploadId=ID";
    AbortMultipartUpload => Multipart, writes, "DELETE /{bucket}/{key}?uploadId=ID";
    // Listings and probes.
    ListBuckets => List, reads, "GET /";
    ListObjects => List, reads, "GET /{bucket}";
    ListObjectsV2 => List, reads, "GET /{bucket}?list-type=2";
    ListObjectVersions => List, reads, "GET /{bucket}?versions";
    ListMultipartUploads => List, reads, "GET /{bucket}?uploads";
    ListParts => List, reads, "GET /{bucket}/{key}?uploadId=ID";
    HeadBucket => List, reads, "HEAD /{bucket}";
    GetBucketLocation => List, reads, "GET /{bucket}?location";
    // Buckets.
    CreateBucket => Admin, writes, "PUT /{bucket}";
    DeleteBucket => Admin, writes, "DELETE /{bucket}";
    // Bucket subresources.
    GetBucketAcl => BucketConfig, reads, "GET /{bucket}?acl";
    PutBucketAcl => BucketConfig, writes, "PUT /{bucket}?acl";
    GetBucketPolicy => BucketConfig, reads, "GET /{bucket}?policy";
    PutBucketPolicy => BucketConfig, writes, "PUT /{bucket}?policy";
    DeleteBucketPolicy => BucketConfig, writes, "DELETE /{bucket}?policy";
    GetBucketPolicyStatus => BucketConfig, reads, "GET /{bucket}?policyStatus";
    GetBucketCors => BucketConfig, reads, "GET /{bucket}?cors";
    PutBucketCors => BucketConfig, writes, "PUT /{bucket}?cors";
    DeleteBucketCors => BucketConfig, writes, "DELETE /{bucket}?cors";
    GetBucketLifecycleConfiguration => BucketConfig, reads, "GET /{bucket}?lifecycle";
    PutBucketLifecycleConfiguration => BucketConfig, writes, "PUT /{bucket}?lifecycle";
    DeleteBucketLifecycle => BucketConfig, writes, "DELETE /{bucket}?lifecycle";
    GetBucketVersioning => BucketConfig, reads, "GET /{bucket}?versioning";
    PutBucketVersioning => BucketConfig, writes, "PUT /{bucket}?versioning";
    GetBucketTagging => BucketConfig, reads, "GET /{bucket}?tagging";
    PutBucketTagging => BucketConfig, writes, "PUT /{bucket}?tagging";
    DeleteBucketTagging => BucketConfig, writes, "DELETE /{bucket}?tagging";
    GetBucketWebsite => BucketConfig, reads, "GET /{bucket}?website";
    PutBucketWebsite => BucketConfig, writes, "PUT /{bucket}?website";
    DeleteBucketWebsite => BucketConfig, writes, "DELETE /{bucket}?website";
    GetBucketEncryption => BucketConfig, reads, "GET /{bucket}?encryption";
    PutBucketEncryption => BucketConfig, writes, "PUT /{bucket}?encryption";
    DeleteBucketEncryption => BucketConfig, writes, "DELETE /{bucket}?encryption";
    GetBucketLogging => BucketConfig, reads, "GET /{bucket}?logging";
    PutBucketLogging => BucketConfig, writes, "PUT /{bucket}?logging";
    GetBucketNotificationConfiguration => BucketConfig, reads, "GET /{bucket}?notification";
    PutBucketNotificationConfiguration => BucketConfig, writes, "PUT /{bucket}?notification";
    GetBucketReplication => BucketConfig, reads, "GET /{bucket}?replication";
    PutBucketReplication => BucketConfig, writes, "PUT /{bucket}?replication";
    DeleteBucketReplication => BucketConfig, writes, "DELETE /{bucket}?replication";
    GetBucketRequestPayment => BucketConfig, reads, "GET /{bucket}?requestPayment";
    PutBucketRequestPayment => BucketConfig, writes, "PUT /{bucket}?requestPayment";
    GetBucketAccelerateConfiguration => BucketConfig, reads, "GET /{bucket}?accelerate";
    PutBucketAccelerateConfiguration => BucketConfig, writes, "PUT /{bucket}?accelerate";
    GetBucketOwnershipControls => BucketConfig, reads, "GET /{bucket}?ownershipControls";
    PutBucketOwnershipControls => BucketConfig, writes, "PUT /{bucket}?ownershipControls";
    DeleteBucketOwnershipControls => BucketConfig, writes, "DELETE /{bucket}?ownershipControls";
    GetPublicAccessBlock => BucketConfig, reads, "GET /{bucket}?publicAccessBlock";
    PutPublicAccessBlock => BucketConfig, writes, "PUT /{bucket}?publicAccessBlock";
    DeletePublicAccessBlock => BucketConfig, writes, "DELETE /{bucket}?publicAccessBlock";
    GetObjectLockConfiguration => BucketConfig, reads, "GET /{bucket}?object-lock";
    PutObjectLockConfiguration => BucketConfig, writes, "PUT /{bucket}?object-lock";
    GetBucketAnalyticsConfiguration => BucketConfig, reads, "GET /{bucket}?analytics&id=ID";
    PutBucketAnalyticsConfiguration => BucketConfig, writes, "PUT /{bucket}?analytics&id=ID";
    DeleteBucketAnalyticsConfiguration => BucketConfig, writes, "DELETE /{bucket}?analytics&id=ID";
    ListBucketAnalyticsConfigurations => BucketConfig, reads, "GET /{bucket}?analytics";
    GetBucketInventoryConfiguration => BucketConfig, reads, "GET /{bucket}?inventory&id=ID";
    PutBucketInventoryConfiguration => BucketConfig, writes, "PUT /{bucket}?inventory&id=ID";
    DeleteBucketInventoryConfiguration => BucketConfig, writes, "DELETE /{bucket}?inventory&id=ID";
    ListBucketInventoryConfigurations => BucketConfig, reads, "GET /{bucket}?inventory";
    GetBucketMetricsConfiguration => BucketConfig, reads, "GET /{bucket}?metrics&id=ID";
    PutBucketMetricsConfiguration => BucketConfig, writes, "PUT /{bucket}?metrics&id=ID";
    DeleteBucketMetricsConfiguration => BucketConfig, writes, "DELETE /{bucket}?metrics&id=ID";
    ListBucketMetricsConfigurations => BucketConfig, reads, "GET /{bucket}?metrics";
    GetBucketIntelligentTieringConfiguration => BucketConfig, reads, "GET /{bucket}?intelligent-tiering&id=ID";
    PutBucketIntelligentTieringConfiguration => BucketConfig, writes, "PUT /{bucket}?intelligent-tiering&id=ID";
    DeleteBucketIntelligentTieringConfiguration => BucketConfig, writes, "DELETE /{bucket}?intelligent-tiering&id=ID";
    ListBucketIntelligentTieringConfigurations => BucketConfig, reads, "GET /{bucket}?intelligent-tiering";
}

impl S3Operation {
    /// The operation policies decide this one as: a POST upload is a
    /// PutObject to Cedar; every other operation is itself.
    pub fn decided_as(self) -> Self {
        match self {
            Self::PostObject => Self::PutObject,
            other => other,
        }
    }

    /// Every operation, in declaration order.
    pub fn all() -> &'static [S3Operation] {
        Self::ALL
    }

    /// The operation called `name` (`GetObject`), if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }
}

impl fmt::Display for S3Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl S3Operation {
    /// Whether the operation takes a `versionId` and, when it does, the
    /// IAM action that naming a version makes it (`GetObject` with a
    /// `versionId` is `s3:GetObjectVersion`): `None` for an operation that
    /// takes no version, `Some(None)` for one whose action stays its own.
    pub fn version_action(self) -> Option<Option<&'static str>> {
        VERSION_ACTIONS
            .iter()
            .find(|(operation, _)| *operation == self)
            .map(|(_, action)| *action)
    }
}

/// The operations that take a `versionId`, and the action naming a version
/// makes each (AWS's IAM actions, asked besides the operation's own).
const VERSION_ACTIONS: &[(S3Operation, Option<&str>)] = &[
    (S3Operation::GetObject, Some("GetObjectVersion")),
    (S3Operation::HeadObject, Some("GetObjectVersion")),
    (S3Operation::DeleteObject, Some("DeleteObjectVersion")),
    (S3Operation::GetObjectAcl, Some("GetObjectVersionAcl")),
    (S3Operation::PutObjectAcl, Some("PutObjectVersionAcl")),
    (
        S3Operation::GetObjectTagging,
        Some("GetObjectVersionTagging"),
    ),
    (
        S3Operation::PutObjectTagging,
        Some("PutObjectVersionTagging"),
    ),
    (
        S3Operation::DeleteObjectTagging,
        Some("DeleteObjectVersionTagging"),
    ),
    (
        S3Operation::GetObjectAttributes,
        Some("GetObjectVersionAttributes"),
    ),
    (S3Operation::GetObjectRetention, None),
    (S3Operation::PutObjectRetention, None),
    (S3Operation::GetObjectLegalHold, None),
    (S3Operation::PutObjectLegalHold, None),
    (S3Operation::RestoreObject, None),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_actions_and_lookup_agree() {
        let names: BTreeSet<_> = S3Operation::all().iter().map(|op| op.name()).collect();
        assert_eq!(names.len(), S3Operation::all().len());
        for &op in S3Operation::all() {
            assert_eq!(op.cedar_action(), format!("s3:{}", op.decided_as().name()));
            assert_eq!(S3Operation::from_name(op.name()), Some(op));
            assert_eq!(op.to_string(), op.name());
        }
        assert_eq!(S3Operation::from_name("getobject"), None);
        assert_eq!(S3Operation::GetObject.cedar_action(), "s3:GetObject");
        assert_eq!(S3Operation::PostObject.cedar_action(), "s3:PutObject");
    }

    #[test]
    fn write_flag_follows_class() {
        for &op in S3Operation::all() {
            let expected = match op.class() {
                OperationClass::Read | OperationClass::List => false,
                OperationClass::Write
                | OperationClass::Delete
                | OperationClass::Multipart
                | OperationClass::Admin => true,
                OperationClass::BucketConfig => {
                    !op.name().starts_with("Get") && !op.name().starts_with("List")
                }
            };
            assert_eq!(op.is_write(), expected, "{op}");
        }
    }
}
