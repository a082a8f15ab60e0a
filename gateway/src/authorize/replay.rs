//! What an authorization question asked, kept so the console can put it to
//! another policy set: the principal (kind, name, groups; a session's role,
//! issuer, subject and claims), the action and the actions its headers
//! implied, bucket, key and the request context (auth mode, source ip,
//! ...). Never a secret, a signature, a query string or an object's content.

use std::collections::BTreeMap;

use cedargate_policies::{
    AuthzRequest, Decision, ImpliedAction, PolicySnapshot, PrincipalRef, RequestContext,
};

/// A principal as recorded for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordedPrincipal {
    /// A static credential. The access key id is kept for replay only
    /// (policies may read it) and never shown.
    Credential {
        /// The principal name.
        name: String,
        /// The access key id.
        access_key: String,
        /// Its groups.
        groups: Vec<String>,
    },
    /// An STS session.
    Session {
        /// The assumed role.
        role: String,
        /// The token issuer.
        issuer: String,
        /// The token subject.
        subject: String,
        /// The verified string claims.
        claims: BTreeMap<String, String>,
    },
    /// No credentials.
    Anonymous,
}

impl RecordedPrincipal {
    /// The principal in the form the policies take.
    pub fn as_ref(&self) -> PrincipalRef<'_> {
        match self {
            Self::Credential {
                name,
                access_key,
                groups,
            } => PrincipalRef::Credential {
                name,
                access_key,
                groups,
            },
            Self::Session {
                role,
                issuer,
                subject,
                claims,
            } => PrincipalRef::Session {
                role,
                issuer,
                subject,
                claims,
            },
            Self::Anonymous => PrincipalRef::Anonymous,
        }
    }

    /// `credential`, `session` or `anonymous`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Credential { .. } => "credential",
            Self::Session { .. } => "session",
            Self::Anonymous => "anonymous",
        }
    }

    /// The name shown: the principal, the session's `role/subject`, or
    /// `anonymous`.
    pub fn name(&self) -> String {
        match self {
            Self::Credential { name, .. } => name.clone(),
            Self::Session { role, subject, .. } => format!("{role}/{subject}"),
            Self::Anonymous => "anonymous".to_owned(),
        }
    }

    /// The groups (a credential's; none otherwise).
    pub fn groups(&self) -> &[String] {
        match self {
            Self::Credential { groups, .. } => groups,
            Self::Session { .. } | Self::Anonymous => &[],
        }
    }
}

/// One authorization question, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskedRequest {
    /// Who asked.
    pub principal: RecordedPrincipal,
    /// The Cedar action (`s3:GetObject`).
    pub action: String,
    /// The actions the request's headers implied, asked after `action`.
    pub implied: Vec<ImpliedAction>,
    /// The bucket.
    pub bucket: String,
    /// The key, for object operations.
    pub key: Option<String>,
    /// The request context (its `request_time` is the original one).
    pub context: RequestContext,
}

impl AskedRequest {
    /// Asks `snapshot` the same question again, naming every satisfied
    /// permit of an allow (an explanation, not the request path's answer);
    /// the first deny of the action or of an implied one decides.
    pub fn decide(&self, snapshot: &PolicySnapshot) -> Decision {
        self.decide_naming(snapshot).0
    }

    /// As [`Self::decide`], with the implied action that denied, if one did.
    pub fn decide_naming(&self, snapshot: &PolicySnapshot) -> (Decision, Option<&ImpliedAction>) {
        let request = AuthzRequest {
            principal: self.principal.as_ref(),
            action: &self.action,
            bucket: Some(&self.bucket),
            key: self.key.as_deref(),
            context: &self.context,
        };
        cedargate_policies::decide_with_implied(snapshot, &request, &self.implied)
    }
}
