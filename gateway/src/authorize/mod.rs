//! The *authorize* stage: puts each request to the current Cedar policy
//! snapshot and turns a deny into the S3 error its deciding policy names.
//!
//! An [`Authorizer`] is built once per request (principal, request facts,
//! the snapshot loaded at that moment) so every question a request raises —
//! the operation itself, the source of a copy, each key of a
//! DeleteObjects, each bucket of a ListBuckets — is answered by the same
//! policy generation.
//!
//! A request whose headers make it perform further actions (tags, an ACL or
//! object lock on a PutObject, a governance bypass on a DeleteObject: the
//! table is [`cedargate_policies::IMPLIED_ACTIONS`]) is allowed only when
//! each of those implied actions is allowed too, asked with the same
//! principal, resource and context; the first deny decides and names the
//! implied action and its header.
//!
//! [`replay`] keeps the question a decision answered, so the console can
//! put it to another policy set.

pub mod replay;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use cedargate_policies::{
    AuthMode, AuthzRequest, Decision, ImpliedAction, PolicySnapshot, PrincipalRef, RequestContext,
};

use crate::auth::Credential;
use crate::limits::CallerKey;
use crate::metrics::Metrics;
use crate::request::S3Request;
use crate::state::Usage;
use crate::sts::StsSession;
use cedargate_s3::error::{S3Error, S3ErrorCode};
use cedargate_s3::xml::CannedAcl;
use replay::{AskedRequest, RecordedPrincipal};

/// Who is asking, once authenticated.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A verified credential, by header or presigned URL.
    Credential {
        /// The credential.
        credential: Arc<Credential>,
        /// How it signed.
        mode: AuthMode,
    },
    /// An STS session (`x-amz-security-token`).
    Session {
        /// The credential the session signs with (access key, principal name).
        credential: Arc<Credential>,
        /// The session: role, issuer, subject and claims.
        session: Arc<StsSession>,
    },
    /// No credentials.
    Anonymous,
}

/// The key a caller's per-credential rate limit counts under: the access
/// key of a static credential, the identity of a session.
impl<'a> From<&'a Caller> for CallerKey<'a> {
    fn from(caller: &'a Caller) -> Self {
        match caller {
            Caller::Credential { credential, .. } => Self::AccessKey(&credential.access_key),
            Caller::Session { session, .. } => Self::Session {
                role_arn: &session.role_arn,
                issuer: &session.issuer,
                subject: &session.subject,
            },
            Caller::Anonymous => Self::Anonymous,
        }
    }
}

impl Caller {
    fn principal(&self) -> PrincipalRef<'_> {
        match self {
            Self::Credential { credential, .. } => PrincipalRef::Credential {
                name: &credential.principal,
                access_key: &credential.access_key,
                groups: &credential.groups,
            },
            Self::Session { session, .. } => PrincipalRef::Session {
                role: session.role_name(),
                issuer: &session.issuer,
                subject: &session.subject,
                claims: &session.claims,
            },
            Self::Anonymous => PrincipalRef::Anonymous,
        }
    }

    /// The signing credential, unless anonymous.
    pub fn credential(&self) -> Option<&Arc<Credential>> {
        match self {
            Self::Credential { credential, .. } | Self::Session { credential, .. } => {
                Some(credential)
            }
            Self::Anonymous => None,
        }
    }

    /// The principal as the console records it for replay.
    pub fn recorded(&self) -> RecordedPrincipal {
        match self {
            Self::Credential { credential, .. } => RecordedPrincipal::Credential {
                name: credential.principal.clone(),
                access_key: credential.access_key.clone(),
                groups: credential.groups.clone(),
            },
            Self::Session { session, .. } => RecordedPrincipal::Session {
                role: session.role_name().to_owned(),
                issuer: session.issuer.clone(),
                subject: session.subject.clone(),
                claims: session.claims.clone(),
            },
            Self::Anonymous => RecordedPrincipal::Anonymous,
        }
    }

    /// Whether the caller is anonymous.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
    }
}

/// Answers authorization questions for one request.
#[derive(Debug)]
pub struct Authorizer<'a> {
    snapshot: Arc<PolicySnapshot>,
    caller: Caller,
    context: RequestContext,
    metrics: &'a Metrics,
    outcome: std::sync::Mutex<Option<Kept>>,
    /// (bucket, key, tags) of the request's own object, when policies read tags.
    target_tags: Option<(String, String, BTreeMap<String, String>)>,
    /// The tags of a copy's source, for its read check.
    source_tags: Option<BTreeMap<String, String>>,
    /// (bucket, key, canned ACL) of the request's own bucket (no key) or
    /// object, when policies read ACLs.
    target_acl: Option<(String, Option<String>, String)>,
    /// The canned ACL of a copy's source, for its read check.
    source_acl: Option<String>,
    /// Whether [`Self::outcome`] carries the question asked (for the
    /// console's replays); off, a decision costs no copy of the request.
    keeps_questions: bool,
    /// The operation's name (`PutObject`).
    operation: &'static str,
    /// The actions the request's headers imply, asked after the operation.
    implied: Vec<ImpliedAction>,
}

/// What the access log says of a request's authorization: its first
/// decision, or the first deny that followed it (a copy's source, a key
/// of a DeleteObjects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    /// Allowed or denied.
    pub allowed: bool,
    /// The deciding policy ids.
    pub policies: Vec<String>,
    /// What was asked, so the console can ask another policy set.
    pub asked: Option<Box<AskedRequest>>,
}

/// The decision kept for the access log, with the question it answered.
#[derive(Debug, Clone)]
struct Kept {
    allowed: bool,
    policies: Vec<String>,
    action: String,
    bucket: String,
    key: Option<String>,
}

/// The connection facts the request context needs.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    /// The client's address.
    pub source_ip: IpAddr,
    /// Whether it connected over TLS.
    pub secure_transport: bool,
}

impl<'a> Authorizer<'a> {
    /// An authorizer for `request` by `caller`.
    pub fn new(
        snapshot: Arc<PolicySnapshot>,
        caller: Caller,
        request: &S3Request,
        connection: Connection,
        metrics: &'a Metrics,
    ) -> Self {
        let mode = match &caller {
            Caller::Credential { mode, .. } => *mode,
            Caller::Session { .. } => AuthMode::Sts,
            Caller::Anonymous => AuthMode::Anonymous,
        };
        let mut context = RequestContext::new(mode, connection.source_ip);
        context.secure_transport = connection.secure_transport;
        context.request_time = SystemTime::now();
        // A body without a declared length counts as the largest one taken.
        context.content_length = request.content_length().ok().flatten().or_else(|| {
            crate::body::has_undeclared_length(&request.headers)
                .then_some(crate::body::MAX_UNDECLARED_BODY)
        });
        if matches!(
            request.operation,
            cedargate_s3::classify::S3Operation::PutObject
                | cedargate_s3::classify::S3Operation::UploadPart
        ) {
            context.write_bytes = context.content_length;
        }
        context.list_prefix = request.query.get("prefix").map(str::to_owned);
        context.has_response_overrides = request
            .query
            .iter()
            .any(|(n, _)| n.starts_with("response-"));
        // A value that is not visible ASCII still counts as sent.
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap_or_default()))
            .collect();
        let implied = cedargate_policies::implied_actions(request.operation.name(), &headers);
        Self {
            snapshot,
            caller,
            context,
            metrics,
            outcome: std::sync::Mutex::new(None),
            target_tags: None,
            source_tags: None,
            target_acl: None,
            source_acl: None,
            keeps_questions: false,
            operation: request.operation.name(),
            implied,
        }
    }

    /// The actions the request's headers imply.
    pub fn implied(&self) -> &[ImpliedAction] {
        &self.implied
    }

    /// Keeps the question of the recorded decision, for replays.
    #[must_use]
    pub fn keeping_questions(mut self, keep: bool) -> Self {
        self.keeps_questions = keep;
        self
    }

    /// Whether the policies read objects' tags (so they must be fetched).
    pub fn reads_object_tags(&self) -> bool {
        self.snapshot.reads_object_tags()
    }

    /// Records the tags policies see on the request's object `bucket` / `key`.
    pub fn set_object_tags(&mut self, bucket: &str, key: &str, tags: BTreeMap<String, String>) {
        self.target_tags = Some((bucket.to_owned(), key.to_owned(), tags));
    }

    /// Whether the policies read the resource's canned ACL (`resource.acl`,
    /// so it must be looked up).
    pub fn reads_acl(&self) -> bool {
        self.snapshot.reads_acl()
    }

    /// Records the canned ACL policies see on the request's bucket (`key`
    /// `None`) or object.
    pub fn set_resource_acl(&mut self, bucket: &str, key: Option<&str>, acl: CannedAcl) {
        self.target_acl = Some((
            bucket.to_owned(),
            key.map(str::to_owned),
            acl.as_str().to_owned(),
        ));
    }

    /// Records the canned ACL of a copy's source, which its read check sees.
    pub fn set_copy_source_acl(&mut self, acl: CannedAcl) {
        self.source_acl = Some(acl.as_str().to_owned());
    }

    /// Records the tags of a copy's source, which its read check sees
    /// (even when the copy is onto the source itself with new tags).
    pub fn set_copy_source_tags(&mut self, tags: BTreeMap<String, String>) {
        self.source_tags = Some(tags);
    }

    /// The decision the access log reports, once one was made.
    pub fn outcome(&self) -> Option<DecisionRecord> {
        let kept = self
            .outcome
            .lock()
            .ok()
            .and_then(|outcome| outcome.clone())?;
        let asked = self.keeps_questions.then(|| {
            // A decision on the operation or on one of its implied actions
            // replays as the operation with every implied action.
            let (action, implied) = if kept.action == self.operation
                || self.implied.iter().any(|i| i.action == kept.action)
            {
                (self.operation.to_owned(), self.implied.clone())
            } else {
                (kept.action, Vec::new())
            };
            Box::new(AskedRequest {
                principal: self.caller.recorded(),
                action,
                implied,
                bucket: kept.bucket,
                key: kept.key,
                context: self.context.clone(),
            })
        });
        Some(DecisionRecord {
            allowed: kept.allowed,
            policies: kept.policies,
            asked,
        })
    }

    fn record(&self, decision: &Decision, action: &str, bucket: &str, key: Option<&str>) {
        if let Ok(mut outcome) = self.outcome.lock() {
            let keep = outcome
                .as_ref()
                .is_some_and(|kept| !kept.allowed || decision.allowed);
            if !keep {
                *outcome = Some(Kept {
                    allowed: decision.allowed,
                    policies: decision.policies.clone(),
                    action: action.to_owned(),
                    bucket: bucket.to_owned(),
                    key: key.map(str::to_owned),
                });
            }
        }
    }

    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Records the copy source, which policies read as `context.copy_source`.
    pub fn set_copy_source(&mut self, bucket: &str, key: &str) {
        self.context.copy_source = Some((bucket.to_owned(), key.to_owned()));
    }

    /// Records a capped bucket's figures, which policies read as
    /// `context.bucket_usage`, `bucket_reserved`, `bucket_hard_cap` and
    /// `write_bytes`.
    pub fn set_quota(
        &mut self,
        usage: Option<Usage>,
        hard_cap: Option<u64>,
        write_bytes: Option<u64>,
    ) {
        self.context.bucket_usage = usage.map(|u| u.used);
        self.context.bucket_reserved = usage.map(|u| u.reserved);
        self.context.bucket_hard_cap = hard_cap;
        if write_bytes.is_some() {
            self.context.write_bytes = write_bytes;
        }
    }

    /// Sets `context.write_bytes`: the bytes a copy writes.
    pub fn set_write_bytes(&mut self, bytes: u64) {
        self.context.write_bytes = Some(bytes);
    }

    /// `context.write_bytes` as the policies saw it, when set.
    pub fn write_bytes(&self) -> Option<u64> {
        self.context.write_bytes
    }

    /// Asks the policies whether `action` is allowed on `bucket` / `key`.
    pub fn decide(&self, action: &str, bucket: &str, key: Option<&str>) -> Decision {
        self.decide_as(action, bucket, key, &self.seen(bucket, key))
    }

    /// What the policies see of `bucket` / `key`: the tags and ACL recorded
    /// for the request's own resource, when that is it.
    fn seen(&self, bucket: &str, key: Option<&str>) -> Seen {
        let tags = match (&self.target_tags, key) {
            (Some((b, k, tags)), Some(key)) if b == bucket && k == key => Some(tags.clone()),
            _ => None,
        };
        let acl = match &self.target_acl {
            Some((b, k, acl)) if b == bucket && k.as_deref() == key => Some(acl.clone()),
            _ => None,
        };
        Seen { tags, acl }
    }

    /// As [`Self::decide`], the bucket or object seen as `seen` says
    /// (DeleteObjects' keys and ListBuckets' buckets, whose tags and ACL
    /// their handlers fetch).
    pub fn decide_with(
        &self,
        action: &str,
        bucket: &str,
        key: Option<&str>,
        seen: &Seen,
    ) -> Decision {
        self.decide_as(action, bucket, key, seen)
    }

    /// The read check of a copy's source, seen with the source's tags and
    /// ACL: `s3:GetObject`, and `s3:GetObjectVersion` too when the source
    /// names a version.
    pub fn require_copy_source(
        &self,
        bucket: &str,
        key: &str,
        names_version: bool,
    ) -> Result<Decision, S3Error> {
        let seen = Seen {
            tags: self.source_tags.clone(),
            acl: self.source_acl.clone(),
        };
        let actions: &[&str] = if names_version {
            &["GetObjectVersion", "GetObject"]
        } else {
            &["GetObject"]
        };
        let mut allowed = None;
        for action in actions {
            let decision = self.decide_as(action, bucket, Some(key), &seen);
            if !decision.allowed {
                return Err(self.refuse(&decision, action));
            }
            allowed = Some(decision);
        }
        allowed.ok_or_else(|| S3Error::internal("no action was asked"))
    }

    fn decide_as(&self, action: &str, bucket: &str, key: Option<&str>, seen: &Seen) -> Decision {
        let started = Instant::now();
        let with_seen;
        let context = if seen.tags.is_some() || seen.acl.is_some() {
            let mut context = self.context.clone();
            context.object_tags.clone_from(&seen.tags);
            context.resource_acl.clone_from(&seen.acl);
            with_seen = context;
            &with_seen
        } else {
            &self.context
        };
        let decision = self.snapshot.decide(&AuthzRequest {
            principal: self.caller.principal(),
            action,
            bucket: Some(bucket),
            key,
            context,
        });
        self.metrics
            .record_decision(started.elapsed().as_secs_f64());
        self.record(&decision, action, bucket, key);
        if !decision.errors.is_empty() {
            tracing::warn!(action, bucket, errors = ?decision.errors, "policy evaluation errors");
        }
        decision
    }

    /// Asks each action the request's headers imply on `bucket` / `key`
    /// (after its operation was allowed), the object seen as `seen` says
    /// when given, else as [`Self::decide`] sees it: the S3 error of the
    /// first deny, naming the implied action and its header.
    pub fn implied_refusal(
        &self,
        bucket: &str,
        key: Option<&str>,
        seen: Option<&Seen>,
    ) -> Option<S3Error> {
        self.implied.iter().find_map(|implied| {
            let decision = match seen {
                Some(seen) => self.decide_as(implied.action, bucket, key, seen),
                None => self.decide(implied.action, bucket, key),
            };
            (!decision.allowed).then(|| {
                let what = format!(
                    "`{}` (implied by the `{}` header)",
                    implied.action, implied.header
                );
                self.refuse_described(&decision, &what)
            })
        })
    }

    /// The operation `action` on `bucket` / `key`, then each action its
    /// headers imply: the S3 error of the first deny.
    pub fn require_with_implied(
        &self,
        action: &str,
        bucket: &str,
        key: Option<&str>,
    ) -> Result<Decision, S3Error> {
        let decision = self.require(action, bucket, key)?;
        match self.implied_refusal(bucket, key, None) {
            Some(error) => Err(error),
            None => Ok(decision),
        }
    }

    /// Like [`Self::decide`], answering a deny with its S3 error and
    /// counting it (scope violation or anonymous reject).
    pub fn require(
        &self,
        action: &str,
        bucket: &str,
        key: Option<&str>,
    ) -> Result<Decision, S3Error> {
        let decision = self.decide(action, bucket, key);
        if decision.allowed {
            Ok(decision)
        } else {
            Err(self.refuse(&decision, action))
        }
    }

    /// The S3 error for a deny, after counting it.
    pub fn refuse(&self, decision: &Decision, action: &str) -> S3Error {
        self.refuse_described(decision, &format!("`{action}`"))
    }

    /// As [`Self::refuse`], the action described by `what` (in backticks).
    fn refuse_described(&self, decision: &Decision, what: &str) -> S3Error {
        let reason = decision.reason.as_deref().unwrap_or("forbidden");
        if self.caller.is_anonymous() {
            let counted = match reason {
                "operation_not_allowed" => "operation_not_allowed",
                _ => "no_binding",
            };
            self.metrics.record_anonymous_reject(counted);
        } else if decision.is_no_permit() {
            self.metrics.record_scope_violation();
        }
        let code = decision
            .error_code
            .as_deref()
            .and_then(deny_code)
            .unwrap_or(S3ErrorCode::AccessDenied);
        if code == S3ErrorCode::EntityTooLarge {
            self.metrics.record_quota_reject();
        }
        let message = match (&self.caller, decision.is_no_permit()) {
            (Caller::Anonymous, _) => format!("anonymous {what} is not allowed here"),
            (Caller::Credential { credential, .. } | Caller::Session { credential, .. }, true) => {
                format!(
                    "principal `{}` is not authorised for {what} on this resource",
                    credential.principal
                )
            }
            (Caller::Credential { .. } | Caller::Session { .. }, false) => {
                format!("{what} was refused by policy (`{reason}`)")
            }
        };
        S3Error::new(code, message)
    }
}

/// What policies see of an object besides its name: its tags (entity
/// tags) and canned ACL (`resource.acl`); `None` is none known (no tags,
/// `private`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// The object's tags.
    pub tags: Option<BTreeMap<String, String>>,
    /// The canned ACL's name.
    pub acl: Option<String>,
}

/// The S3 error a policy's `@error` annotation names.
fn deny_code(code: &str) -> Option<S3ErrorCode> {
    S3ErrorCode::ALL
        .iter()
        .copied()
        .find(|candidate| candidate.as_str() == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_annotation_code_policies_may_use_is_an_s3_error() {
        for code in cedargate_policies::DENY_ERROR_CODES {
            assert!(deny_code(code).is_some(), "`{code}` has no S3ErrorCode");
        }
        assert_eq!(
            deny_code("EntityTooLarge"),
            Some(S3ErrorCode::EntityTooLarge)
        );
        assert_eq!(deny_code("NoSuchCode"), None);
    }
}
