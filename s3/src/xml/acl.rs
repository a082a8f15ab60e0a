//! Canned ACLs: the names S3 takes in `x-amz-acl`, the grants each stands
//! for, the `<AccessControlPolicy>` document GetObjectAcl / GetBucketAcl
//! answer for one, and which canned ACL (if any) a list of grants is
//! exactly equivalent to.
//!
//! Every bucket and object has one owner here, so the grants S3 gives a
//! bucket owner distinct from the object's owner (`bucket-owner-read`,
//! `bucket-owner-full-control`) and Amazon EC2's READ (`aws-exec-read`)
//! collapse into the owner's FULL_CONTROL: those ACLs read back as the
//! `private` document.

use super::Owner;
use super::parse::AclGrant;
use super::write::Doc;

/// The `AllUsers` group: anyone, signed or not.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The `AuthenticatedUsers` group: any signed request.
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
/// The `LogDelivery` group: S3's server access logging.
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// A canned ACL (`x-amz-acl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CannedAcl {
    /// Owner FULL_CONTROL only (the default).
    #[default]
    Private,
    /// Owner FULL_CONTROL; AllUsers READ.
    PublicRead,
    /// Owner FULL_CONTROL; AllUsers READ and WRITE.
    PublicReadWrite,
    /// Owner FULL_CONTROL; AuthenticatedUsers READ.
    AuthenticatedRead,
    /// Owner FULL_CONTROL; Amazon EC2 READ.
    AwsExecRead,
    /// Object owner FULL_CONTROL; bucket owner READ (objects only).
    BucketOwnerRead,
    /// Object and bucket owners FULL_CONTROL (objects only).
    BucketOwnerFullControl,
    /// Owner FULL_CONTROL; LogDelivery WRITE and READ_ACP (buckets only).
    LogDeliveryWrite,
}

/// What an ACL is set on: some canned ACLs mean something only on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclSubject {
    /// A bucket.
    Bucket,
    /// An object.
    Object,
}

impl CannedAcl {
    /// Every canned ACL, `private` first.
    pub const ALL: [Self; 8] = [
        Self::Private,
        Self::PublicRead,
        Self::PublicReadWrite,
        Self::AuthenticatedRead,
        Self::AwsExecRead,
        Self::BucketOwnerRead,
        Self::BucketOwnerFullControl,
        Self::LogDeliveryWrite,
    ];

    /// The name as sent in `x-amz-acl` (`public-read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::PublicRead => "public-read",
            Self::PublicReadWrite => "public-read-write",
            Self::AuthenticatedRead => "authenticated-read",
            Self::AwsExecRead => "aws-exec-read",
            Self::BucketOwnerRead => "bucket-owner-read",
            Self::BucketOwnerFullControl => "bucket-owner-full-control",
            Self::LogDeliveryWrite => "log-delivery-write",
        }
    }

    /// The canned ACL named exactly `name` (names are case-sensitive, as
    /// in S3).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|acl| acl.as_str() == name)
    }

    /// The canned ACL `x-amz-acl: name` sets on `subject`: S3 keeps
    /// `bucket-owner-*` on a bucket as `private` (it ignores them there)
    /// and takes `log-delivery-write` only on a bucket. An unknown name,
    /// or one the subject cannot take, is S3's InvalidArgument.
    pub fn for_subject(name: &str, subject: AclSubject) -> Result<Self, InvalidCannedAcl> {
        let invalid = || InvalidCannedAcl(name.to_owned());
        let acl = Self::from_name(name).ok_or_else(invalid)?;
        match (acl, subject) {
            (Self::BucketOwnerRead | Self::BucketOwnerFullControl, AclSubject::Bucket) => {
                Ok(Self::Private)
            }
            (Self::LogDeliveryWrite, AclSubject::Object) => Err(invalid()),
            _ => Ok(acl),
        }
    }

    /// The grants beyond the owner's FULL_CONTROL: (group URI, permission).
    fn group_grants(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Private
            | Self::AwsExecRead
            | Self::BucketOwnerRead
            | Self::BucketOwnerFullControl => &[],
            Self::PublicRead => &[(ALL_USERS, "READ")],
            Self::PublicReadWrite => &[(ALL_USERS, "READ"), (ALL_USERS, "WRITE")],
            Self::AuthenticatedRead => &[(AUTHENTICATED_USERS, "READ")],
            Self::LogDeliveryWrite => &[(LOG_DELIVERY, "WRITE"), (LOG_DELIVERY, "READ_ACP")],
        }
    }

    /// Renders GetBucketAcl / GetObjectAcl's `<AccessControlPolicy>` for
    /// this ACL: `owner` with FULL_CONTROL, then each group grant, as S3
    /// writes them.
    pub fn to_policy_xml(self, owner: &Owner) -> String {
        let mut doc = Doc::new("AccessControlPolicy");
        doc.owner("Owner", owner)
            .open("AccessControlList")
            .open("Grant")
            .open_with(
                "Grantee",
                "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"",
            )
            .text("ID", &owner.id)
            .text_opt("DisplayName", owner.display_name.as_deref())
            .close("Grantee")
            .text("Permission", "FULL_CONTROL")
            .close("Grant");
        for (uri, permission) in self.group_grants() {
            doc.open("Grant")
                .open_with(
                    "Grantee",
                    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"",
                )
                .text("URI", uri)
                .close("Grantee")
                .text("Permission", permission)
                .close("Grant");
        }
        doc.close("AccessControlList");
        doc.finish()
    }

    /// The canned ACL `grants` are exactly equivalent to, if any: FULL_CONTROL
    /// for the owner (`owner`, or when `None` the one canonical user the
    /// grants name) and the canned ACL's group grants, each once or
    /// repeated, in any order, and nothing else. An e-mail grantee, another
    /// canonical user, another group or permission match none. Equivalent
    /// ACLs read as the first of [`Self::ALL`] (`private` before
    /// `aws-exec-read`).
    pub fn from_grants(grants: &[AclGrant], owner: Option<&str>) -> Option<Self> {
        let mut owner = owner.map(str::to_owned);
        let mut owner_full_control = false;
        let mut groups: Vec<(&str, &str)> = Vec::new();
        for grant in grants {
            match (&grant.canonical_id, &grant.group_uri) {
                (Some(id), None) => {
                    let owner = owner.get_or_insert_with(|| id.clone());
                    if id != owner || grant.permission != "FULL_CONTROL" {
                        return None;
                    }
                    owner_full_control = true;
                }
                (None, Some(uri)) => {
                    let pair = (uri.as_str(), grant.permission.as_str());
                    if !groups.contains(&pair) {
                        groups.push(pair);
                    }
                }
                _ => return None,
            }
        }
        if !owner_full_control {
            return None;
        }
        Self::ALL.into_iter().find(|acl| {
            let expected = acl.group_grants();
            expected.len() == groups.len() && expected.iter().all(|pair| groups.contains(pair))
        })
    }
}

impl std::fmt::Display for CannedAcl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `x-amz-acl` value that is no canned ACL of its subject (S3's
/// InvalidArgument).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a canned ACL this resource takes: one of private, public-read, \
     public-read-write, authenticated-read, aws-exec-read, bucket-owner-read and \
     bucket-owner-full-control (objects), log-delivery-write (buckets)"
)]
pub struct InvalidCannedAcl(pub String);

#[cfg(test)]
#[path = "acl_tests.rs"]
mod tests;
