//! What the gateway's *authorize* stage asks about ([`AuthzRequest`]) and
//! how it becomes a Cedar request: principal, action, resource entities
//! and the context record. Action uids and entities come pre-built from
//! [`crate::schema`]; only the per-request parts are built here.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::SystemTime;

use cedar_policy::{Context, Entities, Entity, EntityUid, Request, RestrictedExpression};

use crate::cache::PrincipalRefKey;
use crate::schema::{EntityTypes, Model, ResourceKind};
use crate::usage::PolicyUsage;

/// How the request authenticated; `context.auth_mode` in policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// SigV4 `Authorization` header.
    Signed,
    /// SigV4 query parameters (presigned URL).
    Presigned,
    /// An STS session token.
    Sts,
    /// No credentials.
    Anonymous,
}

impl AuthMode {
    /// `signed`, `presigned`, `sts` or `anonymous`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
            Self::Presigned => "presigned",
            Self::Sts => "sts",
            Self::Anonymous => "anonymous",
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy)]
pub enum PrincipalRef<'a> {
    /// A static credential: `Credential::"<name>"`, member of
    /// `Group::"<g>"` for each of its groups.
    Credential {
        /// The principal name.
        name: &'a str,
        /// The access key id.
        access_key: &'a str,
        /// The groups it belongs to.
        groups: &'a [String],
    },
    /// An STS session: `Session::"<issuer>#<subject>"`, its verified JWT
    /// claims as entity tags.
    Session {
        /// The assumed role.
        role: &'a str,
        /// The token issuer.
        issuer: &'a str,
        /// The token subject.
        subject: &'a str,
        /// The verified string claims.
        claims: &'a BTreeMap<String, String>,
    },
    /// An unsigned request: `Anonymous::"anonymous"`.
    Anonymous,
}

/// The request facts policies read as `context.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// How the request authenticated.
    pub auth_mode: AuthMode,
    /// The client address (after trusted-proxy resolution).
    pub source_ip: IpAddr,
    /// Whether the client connected over TLS.
    pub secure_transport: bool,
    /// When the request arrived; policies see it truncated to the second.
    pub request_time: SystemTime,
    /// Announced body length; `None` becomes 0.
    pub content_length: Option<u64>,
    /// Bytes the request would add to the bucket; `None` becomes 0.
    pub write_bytes: Option<u64>,
    /// The bucket's current usage in bytes; `None` becomes 0.
    pub bucket_usage: Option<u64>,
    /// Bytes reserved in the bucket by writes in flight; `None` becomes 0.
    pub bucket_reserved: Option<u64>,
    /// The bucket's hard cap; `None` leaves `context.bucket_hard_cap` absent.
    pub bucket_hard_cap: Option<u64>,
    /// The list `prefix` parameter; `None` leaves `context.list_prefix` and
    /// `context.list_segments` absent.
    pub list_prefix: Option<String>,
    /// CopyObject / UploadPartCopy source as (bucket, key).
    pub copy_source: Option<(String, String)>,
    /// Whether the query carries `response-*` overrides.
    pub has_response_overrides: bool,
    /// The tags of the object the request is about, which policies read as
    /// the Object's entity tags: the stored ones, or for a write that sets
    /// tags (`x-amz-tagging`), the ones it sets. `None` is no tags.
    pub object_tags: Option<BTreeMap<String, String>>,
    /// The canned ACL of the bucket or object the request is about, which
    /// policies read as `resource.acl`: the stored one, or for a request
    /// that creates its resource with `x-amz-acl`, the one it sets. `None`
    /// is `private`.
    pub resource_acl: Option<String>,
}

impl RequestContext {
    /// A context with every optional fact absent, arriving now.
    pub fn new(auth_mode: AuthMode, source_ip: IpAddr) -> Self {
        Self {
            auth_mode,
            source_ip,
            secure_transport: false,
            request_time: SystemTime::now(),
            content_length: None,
            write_bytes: None,
            bucket_usage: None,
            bucket_reserved: None,
            bucket_hard_cap: None,
            list_prefix: None,
            copy_source: None,
            has_response_overrides: false,
            object_tags: None,
            resource_acl: None,
        }
    }
}

/// One authorization question.
#[derive(Debug, Clone, Copy)]
pub struct AuthzRequest<'a> {
    /// Who.
    pub principal: PrincipalRef<'a>,
    /// The S3 operation name without the `s3:` prefix (`GetObject`); the
    /// prefixed form is accepted too.
    pub action: &'a str,
    /// The bucket (every action needs one; ListBuckets is asked per bucket).
    pub bucket: Option<&'a str>,
    /// The key (object-level actions).
    pub key: Option<&'a str>,
    /// The request facts.
    pub context: &'a RequestContext,
}

/// A Cedar request with its entities, plus what slicing needs to know.
#[derive(Debug)]
pub(crate) struct BuiltRequest {
    pub(crate) request: Request,
    pub(crate) entities: Entities,
    pub(crate) principal: EntityUid,
    pub(crate) groups: Vec<String>,
    pub(crate) bucket: String,
}

/// Longs are clamped to this so that a sum of up to four of them
/// (`usage + reserved + write_bytes`) never overflows.
const MAX_LONG: u64 = (i64::MAX / 4) as u64;

/// Builds the Cedar request for `request`, or says why it cannot be built.
pub(crate) fn build(
    model: &'static Model,
    usage: &PolicyUsage,
    request: &AuthzRequest<'_>,
) -> Result<BuiltRequest, String> {
    // Attributes and context fields no policy names are left out: they
    // cannot change the decision, and building them is most of its cost.
    let needed = |(name, _): &(String, RestrictedExpression)| usage.needs(name);
    let (action_name, action) = model
        .named_action(request.action)
        .ok_or_else(|| format!("unknown action `{}`", request.action))?;
    let types = &model.types;
    let bucket = request
        .bucket
        .ok_or_else(|| format!("action `{}` needs a bucket", request.action))?;
    if bucket.contains('/') {
        // Object ids are `<bucket>/<key>`; slicing relies on that split.
        return Err(format!("`{bucket}` is not a bucket name"));
    }
    let bucket_uid = EntityTypes::uid(&types.bucket, bucket);
    // An object's bucket is only its parent: no policy can read a bucket's
    // attributes through an object, so the bucket entity is left out.
    let (resource_uid, resource_entity) = match action.resource {
        ResourceKind::Bucket => {
            let attrs = [
                ("name".to_owned(), string(bucket)),
                ("acl".to_owned(), acl(request.context)),
            ];
            let attrs = attrs.into_iter().filter(needed);
            let entity = Entity::new_with_tags(bucket_uid.clone(), attrs, [], [])
                .map_err(|error| error.to_string())?;
            (bucket_uid, entity)
        }
        ResourceKind::Object => {
            let key = request
                .key
                .ok_or_else(|| format!("action `{}` needs an object key", request.action))?;
            let uid = EntityTypes::uid(&types.object, &format!("{bucket}/{key}"));
            let attrs = [
                ("key".to_owned(), string(key)),
                ("bucket".to_owned(), string(bucket)),
                ("prefix".to_owned(), string(folder(key))),
                ("acl".to_owned(), acl(request.context)),
            ];
            let mut attrs: Vec<_> = attrs.into_iter().filter(needed).collect();
            if usage.needs("segments") {
                attrs.push(("segments".to_owned(), segments(key)?));
            }
            let tags = request
                .context
                .object_tags
                .iter()
                .flatten()
                .map(|(name, value)| (name.clone(), string(value)));
            let entity = Entity::new_with_tags(uid.clone(), attrs, [bucket_uid], tags)
                .map_err(|error| error.to_string())?;
            (uid, entity)
        }
    };
    let (principal_uid, groups) = principal_uid(types, &request.principal);
    let shared = || {
        let principal = principal(types, usage, &principal_uid, &request.principal)?;
        Entities::from_entities([principal, action.entity.clone()], None)
            .map_err(|error| error.to_string())
    };
    // A static credential's store (with the action) is the same for every
    // request it makes for that action; only the resource is new.
    let shared = match request.principal {
        PrincipalRef::Credential {
            name,
            access_key,
            groups,
        } => {
            let key = PrincipalRefKey {
                attributes: credential_attributes(usage),
                name,
                access_key,
                groups,
                action: action_name,
            };
            crate::cache::principal_entities(key, shared)?
        }
        PrincipalRef::Anonymous => {
            let key = PrincipalRefKey {
                attributes: ANONYMOUS,
                name: "",
                access_key: "",
                groups: &[],
                action: action_name,
            };
            crate::cache::principal_entities(key, shared)?
        }
        PrincipalRef::Session { .. } => shared()?,
    };
    let entities = shared
        .add_entities([resource_entity], None)
        .map_err(|error| error.to_string())?;
    let context = context(usage, request.context)?;
    let cedar = Request::new(
        principal_uid.clone(),
        action.uid.clone(),
        resource_uid,
        context,
        None,
    )
    .map_err(|error| error.to_string())?;
    Ok(BuiltRequest {
        request: cedar,
        entities,
        principal: principal_uid,
        groups: groups.to_vec(),
        bucket: bucket.to_owned(),
    })
}

/// Principal attributes a credential's entity carries, a bit each.
const CREDENTIAL_ATTRIBUTES: [&str; 3] = ["name", "access_key", "groups"];
/// The cache key bit of the anonymous principal (never a credential's).
const ANONYMOUS: u8 = 1 << 7;

/// Which of [`CREDENTIAL_ATTRIBUTES`] the policy set reads.
fn credential_attributes(usage: &PolicyUsage) -> u8 {
    CREDENTIAL_ATTRIBUTES
        .iter()
        .enumerate()
        .filter(|(_, name)| usage.needs(name))
        .fold(0, |bits, (index, _)| bits | (1 << index))
}

/// The principal's uid and the groups it is in.
pub(crate) fn principal_uid<'a>(
    types: &EntityTypes,
    principal: &PrincipalRef<'a>,
) -> (EntityUid, &'a [String]) {
    match *principal {
        PrincipalRef::Credential { name, groups, .. } => {
            (EntityTypes::uid(&types.credential, name), groups)
        }
        PrincipalRef::Session {
            issuer, subject, ..
        } => (
            EntityTypes::uid(&types.session, &format!("{issuer}#{subject}")),
            &[],
        ),
        PrincipalRef::Anonymous => (EntityTypes::uid(&types.anonymous, "anonymous"), &[]),
    }
}

/// The principal's entity, `uid` being its [`principal_uid`].
fn principal(
    types: &EntityTypes,
    usage: &PolicyUsage,
    uid: &EntityUid,
    principal: &PrincipalRef<'_>,
) -> Result<Entity, String> {
    let needed = |(name, _): &(String, RestrictedExpression)| usage.needs(name);
    let entity = match *principal {
        PrincipalRef::Credential {
            name,
            access_key,
            groups,
        } => {
            let attrs = [
                ("name".to_owned(), string(name)),
                ("access_key".to_owned(), string(access_key)),
                (
                    "groups".to_owned(),
                    RestrictedExpression::new_set(groups.iter().map(|group| string(group))),
                ),
            ];
            let attrs = attrs.into_iter().filter(needed);
            let parents = groups
                .iter()
                .map(|group| EntityTypes::uid(&types.group, group));
            Entity::new_with_tags(uid.clone(), attrs, parents, [])
        }
        PrincipalRef::Session {
            role,
            issuer,
            subject,
            claims,
        } => {
            let attrs = [
                ("role".to_owned(), string(role)),
                ("issuer".to_owned(), string(issuer)),
                ("subject".to_owned(), string(subject)),
            ];
            let attrs = attrs.into_iter().filter(needed);
            let tags = claims
                .iter()
                .map(|(name, value)| (name.clone(), string(value)));
            Entity::new_with_tags(uid.clone(), attrs, [], tags)
        }
        PrincipalRef::Anonymous => return Ok(Entity::with_uid(uid.clone())),
    };
    entity.map_err(|error| error.to_string())
}

fn context(usage: &PolicyUsage, context: &RequestContext) -> Result<Context, String> {
    type Value<'v> = &'v dyn Fn() -> Result<RestrictedExpression, String>;
    let mut pairs = Vec::with_capacity(13);
    // Each value is built only when some policy names its field.
    let mut put = |name: &str, value: Value<'_>| -> Result<(), String> {
        if usage.needs(name) {
            pairs.push((name.to_owned(), value()?));
        }
        Ok(())
    };
    put("auth_mode", &|| Ok(string(context.auth_mode.as_str())))?;
    put("source_ip", &|| Ok(crate::cache::ip(context.source_ip)))?;
    put("secure_transport", &|| {
        Ok(RestrictedExpression::new_bool(context.secure_transport))
    })?;
    put("request_time", &|| {
        crate::cache::datetime(context.request_time)
    })?;
    put("content_length", &|| {
        Ok(long(context.content_length.unwrap_or(0)))
    })?;
    put("write_bytes", &|| {
        Ok(long(context.write_bytes.unwrap_or(0)))
    })?;
    put("bucket_usage", &|| {
        Ok(long(context.bucket_usage.unwrap_or(0)))
    })?;
    put("bucket_reserved", &|| {
        Ok(long(context.bucket_reserved.unwrap_or(0)))
    })?;
    if let Some(cap) = context.bucket_hard_cap {
        put("bucket_hard_cap", &|| Ok(long(cap)))?;
    }
    if let Some(prefix) = &context.list_prefix {
        put("list_prefix", &|| Ok(string(prefix)))?;
        put("list_segments", &|| segments(prefix))?;
    }
    if let Some((bucket, key)) = &context.copy_source {
        put("copy_source", &|| {
            RestrictedExpression::new_record([
                ("bucket".to_owned(), string(bucket)),
                ("key".to_owned(), string(key)),
            ])
            .map_err(|error| error.to_string())
        })?;
    }
    put("has_response_overrides", &|| {
        Ok(RestrictedExpression::new_bool(
            context.has_response_overrides,
        ))
    })?;
    Context::from_pairs(pairs).map_err(|error| error.to_string())
}

/// `resource.acl`: the resource's canned ACL, `private` when none is known.
fn acl(context: &RequestContext) -> RestrictedExpression {
    string(context.resource_acl.as_deref().unwrap_or("private"))
}

fn string(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

fn long(value: u64) -> RestrictedExpression {
    let clamped = i64::try_from(value.min(MAX_LONG)).unwrap_or(i64::MAX / 4);
    RestrictedExpression::new_long(clamped)
}

/// The key up to and including its last `/` (`""` when it has none).
pub(crate) fn folder(key: &str) -> &str {
    key.rfind('/').map_or("", |index| &key[..=index])
}

/// `{ first, second }`: the first two folder names of `path`, each only
/// when a `/` ends it.
fn segments(path: &str) -> Result<RestrictedExpression, String> {
    let mut folders = path.split('/');
    let (first, second) = match (folders.next(), folders.next(), folders.next()) {
        (Some(first), Some(second), Some(_)) => (first, second),
        (Some(first), Some(_), None) => (first, ""),
        _ => ("", ""),
    };
    RestrictedExpression::new_record([
        ("first".to_owned(), string(first)),
        ("second".to_owned(), string(second)),
    ])
    .map_err(|error| error.to_string())
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
