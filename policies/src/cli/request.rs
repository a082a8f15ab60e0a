//! A request written down by a person: one `[[case]]` of a `tests.toml`
//! file, or the flags of `cedargate policy explain`. [`ExplainRequest`]
//! owns its data and turns into an [`AuthzRequest`] on demand.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::SystemTime;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::request::{AuthMode, AuthzRequest, PrincipalRef, RequestContext};

/// Who, what and where, as a person writes it.
///
/// Exactly one of `principal` (a credential's principal name, with
/// `groups`), `anonymous = true` or `session` says who asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    /// A static credential's principal name.
    pub principal: Option<String>,
    /// The credential's groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The credential's access key (default `AKIA` + name, uppercased).
    pub access_key: Option<String>,
    /// An unsigned request.
    #[serde(default)]
    pub anonymous: bool,
    /// An STS session.
    pub session: Option<SessionSpec>,
    /// The S3 operation (`GetObject`).
    pub action: String,
    /// The bucket.
    pub bucket: Option<String>,
    /// The key (object-level actions).
    pub key: Option<String>,
    /// Context facts; unset ones take defaults (see [`ContextOverrides`]).
    #[serde(default)]
    pub context: ContextOverrides,
    /// Request headers (name -> value) that imply further actions, e.g.
    /// `x-amz-tagging` on a PutObject (see [`crate::IMPLIED_ACTIONS`]).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// An STS session principal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    /// The assumed role.
    pub role: String,
    /// The token issuer.
    pub issuer: String,
    /// The token subject.
    pub subject: String,
    /// String claims (entity tags).
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
}

/// The `context.*` facts of a written request. Unset facts default to:
/// `auth_mode` from the principal (`signed`, `sts`, `anonymous`),
/// `source_ip` 127.0.0.1, `secure_transport` false, `request_time` now,
/// the rest absent (or 0 / false).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextOverrides {
    /// `signed`, `presigned`, `sts` or `anonymous`.
    pub auth_mode: Option<AuthMode>,
    /// The client address.
    pub source_ip: Option<IpAddr>,
    /// Whether the client used TLS.
    pub secure_transport: Option<bool>,
    /// RFC 3339, e.g. `2025-03-01T09:30:00Z`.
    pub request_time: Option<String>,
    /// Announced body length.
    pub content_length: Option<u64>,
    /// Bytes the request would add to the bucket.
    pub write_bytes: Option<u64>,
    /// The bucket's usage in bytes.
    pub bucket_usage: Option<u64>,
    /// Bytes reserved in the bucket by writes in flight.
    pub bucket_reserved: Option<u64>,
    /// The bucket's hard cap in bytes.
    pub bucket_hard_cap: Option<u64>,
    /// The list `prefix` parameter.
    pub list_prefix: Option<String>,
    /// The copy source.
    pub copy_source: Option<CopySource>,
    /// Whether `response-*` overrides are present.
    pub has_response_overrides: Option<bool>,
    /// The resource's canned ACL, `resource.acl` (default `private`).
    pub resource_acl: Option<String>,
}

/// A CopyObject / UploadPartCopy source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopySource {
    /// Source bucket.
    pub bucket: String,
    /// Source key.
    pub key: String,
}

impl FromStr for AuthMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "signed" => Ok(Self::Signed),
            "presigned" => Ok(Self::Presigned),
            "sts" => Ok(Self::Sts),
            "anonymous" => Ok(Self::Anonymous),
            other => Err(format!(
                "unknown auth mode `{other}`: expected signed, presigned, sts or anonymous"
            )),
        }
    }
}

impl ContextOverrides {
    /// These overrides with `defaults` filling the unset facts.
    pub fn or(&self, defaults: &ContextOverrides) -> ContextOverrides {
        ContextOverrides {
            auth_mode: self.auth_mode.or(defaults.auth_mode),
            source_ip: self.source_ip.or(defaults.source_ip),
            secure_transport: self.secure_transport.or(defaults.secure_transport),
            request_time: self
                .request_time
                .clone()
                .or_else(|| defaults.request_time.clone()),
            content_length: self.content_length.or(defaults.content_length),
            write_bytes: self.write_bytes.or(defaults.write_bytes),
            bucket_usage: self.bucket_usage.or(defaults.bucket_usage),
            bucket_reserved: self.bucket_reserved.or(defaults.bucket_reserved),
            bucket_hard_cap: self.bucket_hard_cap.or(defaults.bucket_hard_cap),
            list_prefix: self
                .list_prefix
                .clone()
                .or_else(|| defaults.list_prefix.clone()),
            copy_source: self
                .copy_source
                .clone()
                .or_else(|| defaults.copy_source.clone()),
            has_response_overrides: self
                .has_response_overrides
                .or(defaults.has_response_overrides),
            resource_acl: self
                .resource_acl
                .clone()
                .or_else(|| defaults.resource_acl.clone()),
        }
    }

    /// Sets one fact from `name=value` text (for `--context` flags);
    /// `copy_source` takes `bucket/key`.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let number = |value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("`{name}` takes a number of bytes, not `{value}`"))
        };
        let flag = |value: &str| {
            value
                .parse::<bool>()
                .map_err(|_| format!("`{name}` takes true or false, not `{value}`"))
        };
        match name {
            "auth_mode" => self.auth_mode = Some(value.parse()?),
            "source_ip" => {
                let ip = value
                    .parse()
                    .map_err(|_| format!("`source_ip` takes an ip address, not `{value}`"))?;
                self.source_ip = Some(ip);
            }
            "secure_transport" => self.secure_transport = Some(flag(value)?),
            "request_time" => {
                parse_time(value)?;
                self.request_time = Some(value.to_owned());
            }
            "content_length" => self.content_length = Some(number(value)?),
            "write_bytes" => self.write_bytes = Some(number(value)?),
            "bucket_usage" => self.bucket_usage = Some(number(value)?),
            "bucket_reserved" => self.bucket_reserved = Some(number(value)?),
            "bucket_hard_cap" => self.bucket_hard_cap = Some(number(value)?),
            "list_prefix" => self.list_prefix = Some(value.to_owned()),
            "copy_source" => {
                let (bucket, key) = value
                    .split_once('/')
                    .ok_or_else(|| format!("`copy_source` takes `bucket/key`, not `{value}`"))?;
                self.copy_source = Some(CopySource {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                });
            }
            "has_response_overrides" => self.has_response_overrides = Some(flag(value)?),
            "resource_acl" => self.resource_acl = Some(value.to_owned()),
            other => return Err(format!("unknown context fact `{other}`")),
        }
        Ok(())
    }

    fn apply(&self, default_mode: AuthMode) -> Result<RequestContext, String> {
        let source_ip = self.source_ip.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let mut context = RequestContext::new(self.auth_mode.unwrap_or(default_mode), source_ip);
        if let Some(text) = &self.request_time {
            context.request_time = parse_time(text)?;
        }
        context.secure_transport = self.secure_transport.unwrap_or(false);
        context.content_length = self.content_length;
        context.write_bytes = self.write_bytes;
        context.bucket_usage = self.bucket_usage;
        context.bucket_reserved = self.bucket_reserved;
        context.bucket_hard_cap = self.bucket_hard_cap;
        context.list_prefix = self.list_prefix.clone();
        context.copy_source = self
            .copy_source
            .as_ref()
            .map(|source| (source.bucket.clone(), source.key.clone()));
        context.has_response_overrides = self.has_response_overrides.unwrap_or(false);
        context.resource_acl = self.resource_acl.clone();
        Ok(context)
    }
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(SystemTime::from)
        .map_err(|error| format!("`request_time` `{text}` is not RFC 3339: {error}"))
}

/// An [`ExplainRequest`] with its context resolved, owning what an
/// [`AuthzRequest`] borrows.
#[derive(Debug, Clone)]
pub(crate) struct ResolvedRequest<'r> {
    spec: &'r ExplainRequest,
    access_key: String,
    context: RequestContext,
}

impl ExplainRequest {
    /// Checks the principal choice and resolves the context over `defaults`.
    pub(crate) fn resolve(
        &self,
        defaults: &ContextOverrides,
    ) -> Result<ResolvedRequest<'_>, String> {
        let chosen = [
            self.principal.is_some(),
            self.anonymous,
            self.session.is_some(),
        ];
        let default_mode = match chosen {
            [true, false, false] => AuthMode::Signed,
            [false, true, false] => AuthMode::Anonymous,
            [false, false, true] => AuthMode::Sts,
            _ => {
                return Err(
                    "say who asks with exactly one of `principal`, `anonymous = true` or `session`"
                        .into(),
                );
            }
        };
        let context = self.context.or(defaults).apply(default_mode)?;
        let access_key = self.access_key.clone().unwrap_or_else(|| {
            format!("AKIA{}", self.principal.as_deref().unwrap_or_default()).to_uppercase()
        });
        Ok(ResolvedRequest {
            spec: self,
            access_key,
            context,
        })
    }
}

impl ResolvedRequest<'_> {
    /// The actions the request's headers imply.
    pub(crate) fn implied(&self) -> Vec<crate::ImpliedAction> {
        let headers: Vec<(&str, &str)> = self
            .spec
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        crate::implied_actions(&self.spec.action, &headers)
    }

    /// The request to decide.
    pub(crate) fn authz(&self) -> AuthzRequest<'_> {
        let spec = self.spec;
        let principal = match (&spec.principal, &spec.session) {
            (Some(name), _) => PrincipalRef::Credential {
                name,
                access_key: &self.access_key,
                groups: &spec.groups,
            },
            (None, Some(session)) => PrincipalRef::Session {
                role: &session.role,
                issuer: &session.issuer,
                subject: &session.subject,
                claims: &session.claims,
            },
            (None, None) => PrincipalRef::Anonymous,
        };
        AuthzRequest {
            principal,
            action: &spec.action,
            bucket: spec.bucket.as_deref(),
            key: spec.key.as_deref(),
            context: &self.context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_flags_parse_and_merge_over_defaults() {
        let mut flags = ContextOverrides::default();
        flags.set("source_ip", "10.0.0.7").unwrap();
        flags.set("bucket_hard_cap", "100").unwrap();
        flags.set("copy_source", "src/a/b.txt").unwrap();
        flags.set("request_time", "2025-03-01T09:30:00Z").unwrap();
        let defaults = ContextOverrides {
            source_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            secure_transport: Some(true),
            ..ContextOverrides::default()
        };
        let merged = flags.or(&defaults);
        assert_eq!(merged.source_ip, flags.source_ip);
        assert_eq!(merged.secure_transport, Some(true));
        assert_eq!(merged.copy_source.as_ref().unwrap().key, "a/b.txt");
        let errors = [
            (
                "content_length",
                "lots",
                "`content_length` takes a number of bytes, not `lots`",
            ),
            (
                "auth_mode",
                "magic",
                "unknown auth mode `magic`: expected signed, presigned, sts or anonymous",
            ),
            ("colour", "red", "unknown context fact `colour`"),
        ];
        for (name, value, expected) in errors {
            assert_eq!(flags.set(name, value).unwrap_err(), expected);
        }
        assert!(
            flags
                .set("request_time", "yesterday")
                .unwrap_err()
                .contains("RFC 3339")
        );
    }

    #[test]
    fn exactly_one_principal() {
        let mut request = ExplainRequest {
            action: "GetObject".into(),
            ..ExplainRequest::default()
        };
        assert!(request.resolve(&ContextOverrides::default()).is_err());
        request.anonymous = true;
        let resolved = request.resolve(&ContextOverrides::default()).unwrap();
        assert!(matches!(
            resolved.authz().principal,
            PrincipalRef::Anonymous
        ));
        assert_eq!(resolved.authz().context.auth_mode, AuthMode::Anonymous);
        request.principal = Some("alice".into());
        assert!(request.resolve(&ContextOverrides::default()).is_err());
    }
}
