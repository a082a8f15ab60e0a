//! The reference a gateway decision is compared with: plain Cedar
//! (`Authorizer::is_authorized`) over the whole policy set (the base set
//! included) on a request built here, independently of the gateway, with
//! every attribute, every entity and every context field, validated against
//! the schema. From Cedar's answer the oracle derives what the gateway
//! promises (policies/README.md, "Decisions"):
//!
//! - an allow exactly when Cedar allows and no forbid failed to evaluate
//!   (Cedar skips a failing forbid; the gateway fails closed);
//! - an allow names the first satisfied permit in load order (`decide`),
//!   or every satisfied permit (`explain`): Cedar's reason set;
//! - a deny names, first match wins, the satisfied base forbids without
//!   `@error`, the satisfied team forbids without `@error`, the forbids that failed
//!   (`evaluation_error`), nothing (`no_permit`, when no permit is
//!   satisfied), or the satisfied forbids with `@error`; with several, the
//!   first (sorted) with a `@reason` gives the error code and reason.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::LazyLock;

use cedar_policy::{
    AuthorizationError, Authorizer, Context, Decision as CedarDecision, Entities, Entity, EntityId,
    EntityTypeName, EntityUid, Policy, PolicyId, PolicySet, Request, Response,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use cedargate_policies::{
    AuthzRequest, Decision, PolicySnapshot, PrincipalRef, REASON_EVALUATION_ERROR,
    REASON_NO_PERMIT, ResourceKind, SCHEMA_SRC,
};

use super::generate::{Asker, RequestCase, SetCase};

/// The compiled-in base set, which the gateway adds to every set.
const BASE_SRC: &str = include_str!("../../src/base.cedar");

/// Longs are clamped so that sums of four cannot overflow.
const MAX_LONG: u64 = (i64::MAX / 4) as u64;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::from_cedarschema_str(SCHEMA_SRC)
        .map(|(schema, _)| schema)
        .expect("the schema parses")
});

static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| Validator::new(SCHEMA.clone()));

/// The action entities of the schema, with their groups.
static ACTIONS: LazyLock<Entities> =
    LazyLock::new(|| Entities::from_entities([], Some(&*SCHEMA)).expect("the schema's actions"));

/// One request in this many is checked against the schema, which adds
/// every action entity; the others carry only their action's entity
/// (much faster, the same answer).
const SCHEMA_CHECK_EVERY: usize = 128;

/// What a policy says about a deny it decides.
struct Annotations {
    builtin: bool,
    forbid: bool,
    error: Option<String>,
    reason: Option<String>,
}

/// A generated set loaded by the gateway and by plain Cedar.
pub struct Oracle {
    snapshot: PolicySnapshot,
    set: PolicySet,
    permits: PolicySet,
    /// Permit ids in load order.
    order: Vec<String>,
    annotations: HashMap<String, Annotations>,
    authorizer: Authorizer,
    /// Requests checked so far.
    checks: std::cell::Cell<usize>,
}

/// How a case ended, for coverage counts.
pub type Outcome = String;

impl Oracle {
    /// Loads `case` both ways. `Ok(None)` when the set does not validate
    /// strictly (the gateway must refuse it too); `Err` when the gateway's
    /// loader disagrees with strict validation or re-keys policies wrongly.
    pub fn new(case: &SetCase) -> Result<Option<Self>, String> {
        let sources = case.sources();
        let pairs: Vec<(&str, &str)> = sources
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        let loaded = PolicySnapshot::from_sources(&pairs, 1);
        let base = PolicySet::from_str(BASE_SRC).map_err(|e| format!("base set: {e}"))?;
        let mut policies = Vec::new();
        let mut annotations = HashMap::new();
        for policy in base.policies() {
            let id = policy.annotation("id").ok_or("a base policy without @id")?;
            policies.push(policy.new_id(PolicyId::new(id)));
        }
        let mut order = Vec::new();
        let mut parsed = true;
        for generated in case.policies() {
            match Policy::parse(Some(PolicyId::new(&generated.id)), &generated.text) {
                Ok(policy) => policies.push(policy),
                Err(_) => parsed = false,
            }
            if !generated.forbid {
                order.push(generated.id.clone());
            }
        }
        for policy in &policies {
            let id = policy.id().to_string();
            let info = Annotations {
                builtin: id.starts_with("cedargate-base/"),
                forbid: policy.effect() == cedar_policy::Effect::Forbid,
                error: policy.annotation("error").map(str::to_owned),
                reason: policy.annotation("reason").map(str::to_owned),
            };
            annotations.insert(id, info);
        }
        let permits = policies
            .iter()
            .filter(|policy| policy.effect() == cedar_policy::Effect::Permit)
            .cloned();
        let permits = PolicySet::from_policies(permits).map_err(|e| e.to_string())?;
        let set = PolicySet::from_policies(policies).map_err(|e| e.to_string())?;
        let valid = parsed
            && VALIDATOR
                .validate(&set, ValidationMode::Strict)
                .validation_passed();
        let snapshot = match (loaded, valid) {
            (Ok(snapshot), true) => snapshot,
            (Err(_), false) => return Ok(None),
            (loaded, valid) => {
                return Err(format!(
                    "the loader says {:?}, strict validation says valid: {valid}",
                    loaded.map(|_| "loaded")
                ));
            }
        };
        let mut ids: Vec<String> = annotations.keys().cloned().collect();
        ids.sort();
        if snapshot.policy_ids() != ids {
            return Err(format!(
                "policy ids: the loader has {:?}, the files {ids:?}",
                snapshot.policy_ids()
            ));
        }
        for (id, expected) in &annotations {
            let info = snapshot.policy(id).ok_or("a policy went missing")?;
            if (&info.error, &info.reason, info.builtin)
                != (&expected.error, &expected.reason, expected.builtin)
            {
                return Err(format!("annotations of `{id}`: the loader has {info:?}"));
            }
        }
        Ok(Some(Self {
            snapshot,
            set,
            permits,
            order,
            annotations,
            authorizer: Authorizer::new(),
            checks: std::cell::Cell::new(0),
        }))
    }

    /// Decides `case` with the gateway (`decide` and `explain`) and with
    /// Cedar, and says how it ended or where they differ.
    pub fn check(&self, case: &RequestCase) -> Result<Outcome, String> {
        let checked = self.checks.get().is_multiple_of(SCHEMA_CHECK_EVERY);
        self.checks.set(self.checks.get() + 1);
        let (entities, request) = cedar_request(case, checked)?;
        let full = self
            .authorizer
            .is_authorized(&request, &self.set, &entities);
        let (expected_first, expected_all, cedar_errors) = self.expect(&request, &entities, &full);
        let claims;
        let principal = match &case.asker {
            Asker::Credential {
                name,
                access_key,
                groups,
            } => PrincipalRef::Credential {
                name,
                access_key,
                groups,
            },
            Asker::Session { session, claims: c } => {
                claims = c;
                PrincipalRef::Session {
                    role: session.2,
                    issuer: session.0,
                    subject: session.1,
                    claims,
                }
            }
            Asker::Anonymous => PrincipalRef::Anonymous,
        };
        let authz = AuthzRequest {
            principal,
            action: case.action,
            bucket: Some(case.bucket),
            key: case.key,
            context: &case.context,
        };
        let decided = self.snapshot.decide(&authz);
        let explained = self.snapshot.explain(&authz);
        let cedar = || {
            let reason: Vec<String> = full
                .diagnostics()
                .reason()
                .map(|id| id.to_string())
                .collect();
            format!(
                "cedar: {:?} by {reason:?}, errors {cedar_errors:?}",
                full.decision()
            )
        };
        for (name, got, expected) in [
            ("decide", &decided, &expected_first),
            ("explain", &explained, &expected_all),
        ] {
            let same = (got.allowed, &got.policies, &got.error_code, &got.reason)
                == (
                    expected.allowed,
                    &expected.policies,
                    &expected.error_code,
                    &expected.reason,
                );
            if !same {
                return Err(format!(
                    "{name} gave {got:?}\nexpected {expected:?}\n{}\nrequest {case:?}",
                    cedar()
                ));
            }
            if let Some(unknown) = got.errors.iter().find(|e| !cedar_errors.contains(*e)) {
                return Err(format!(
                    "{name} reports an error Cedar does not: {unknown}\n{}\nrequest {case:?}",
                    cedar()
                ));
            }
        }
        let fail_closed = full.decision() == CedarDecision::Allow && !decided.allowed;
        Ok(
            match (&decided.allowed, &decided.error_code, &decided.reason) {
                (true, _, _) => "allow".into(),
                _ if fail_closed => "deny where Cedar allows (a forbid failed)".into(),
                (false, Some(code), _) => format!("deny {code}"),
                (false, None, Some(reason)) => format!("deny {reason}"),
                (false, None, None) => "deny by forbid".into(),
            },
        )
    }

    /// The decisions the gateway promises (`decide`, `explain`) given
    /// Cedar's answer `full`, and Cedar's evaluation errors.
    fn expect(
        &self,
        request: &Request,
        entities: &Entities,
        full: &Response,
    ) -> (Decision, Decision, HashSet<String>) {
        let reason: BTreeSet<String> = full
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        let mut failed = BTreeSet::new();
        let mut errors = HashSet::new();
        for error in full.diagnostics().errors() {
            let AuthorizationError::PolicyEvaluationError(evaluation) = error;
            failed.insert(evaluation.policy_id().to_string());
            errors.insert(error.to_string());
        }
        let allowed = full.decision() == CedarDecision::Allow;
        let forbids = if allowed {
            BTreeSet::new()
        } else {
            reason.clone()
        };
        let permits: BTreeSet<String> = if allowed {
            reason
        } else if forbids.is_empty() {
            BTreeSet::new()
        } else {
            let answer = self
                .authorizer
                .is_authorized(request, &self.permits, entities);
            answer
                .diagnostics()
                .reason()
                .map(|id| id.to_string())
                .collect()
        };
        let info = |id: &String| &self.annotations[id];
        let rank = |id: &String| match info(id) {
            a if a.error.is_some() => 2,
            a if a.builtin => 0,
            _ => 1,
        };
        let deny = |deciding: Vec<String>| {
            let primary = deciding
                .iter()
                .find(|id| info(id).reason.is_some())
                .or(deciding.first())
                .map(info);
            Decision {
                allowed: false,
                error_code: primary.and_then(|a| a.error.clone()),
                reason: primary.and_then(|a| a.reason.clone()),
                policies: deciding,
                errors: Vec::new(),
            }
        };
        let failed_forbids: Vec<String> = failed.into_iter().filter(|id| info(id).forbid).collect();
        let denied = [0, 1]
            .iter()
            .map(|wanted| {
                forbids
                    .iter()
                    .filter(|id| rank(id) == *wanted)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .find(|deciding| !deciding.is_empty())
            .map(&deny);
        let decision = |all: bool| {
            if let Some(denied) = &denied {
                return denied.clone();
            }
            if !failed_forbids.is_empty() {
                return Decision {
                    allowed: false,
                    policies: failed_forbids.clone(),
                    reason: Some(REASON_EVALUATION_ERROR.into()),
                    ..Decision::default()
                };
            }
            if permits.is_empty() {
                return Decision {
                    reason: Some(REASON_NO_PERMIT.into()),
                    ..Decision::default()
                };
            }
            if !forbids.is_empty() {
                return deny(forbids.iter().cloned().collect());
            }
            let policies = if all {
                permits.iter().cloned().collect()
            } else {
                let first = self.order.iter().find(|id| permits.contains(*id));
                first.into_iter().cloned().collect()
            };
            Decision {
                allowed: true,
                policies,
                ..Decision::default()
            }
        };
        (decision(false), decision(true), errors)
    }
}

thread_local! {
    static EXTENSIONS: std::cell::RefCell<HashMap<String, RestrictedExpression>> =
        std::cell::RefCell::new(HashMap::new());
}

/// `make(text)` (`ip("...")`, `datetime("...")`), made once per thread:
/// Cedar parses the call each time, which costs more than a decision.
fn extension(text: &str, make: fn(&str) -> RestrictedExpression) -> RestrictedExpression {
    EXTENSIONS.with(|cache| {
        cache
            .borrow_mut()
            .entry(text.to_owned())
            .or_insert_with(|| make(text))
            .clone()
    })
}

fn uid(ty: &str, id: &str) -> Result<EntityUid, String> {
    let ty = EntityTypeName::from_str(ty).map_err(|e| e.to_string())?;
    Ok(EntityUid::from_type_name_and_id(ty, EntityId::new(id)))
}

fn string(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

fn long(value: Option<u64>) -> RestrictedExpression {
    let clamped = value.unwrap_or(0).min(MAX_LONG);
    RestrictedExpression::new_long(i64::try_from(clamped).unwrap_or(i64::MAX))
}

/// `{first, second}` as the schema describes them: the folder names
/// before the first and second `/`, each only when a `/` ends it.
fn segments(path: &str) -> Result<RestrictedExpression, String> {
    let parts: Vec<&str> = path.split('/').collect();
    let first = if parts.len() >= 2 { parts[0] } else { "" };
    let second = if parts.len() >= 3 { parts[1] } else { "" };
    RestrictedExpression::new_record([
        ("first".to_owned(), string(first)),
        ("second".to_owned(), string(second)),
    ])
    .map_err(|e| e.to_string())
}

/// The fully built Cedar request of `case`: every entity (groups and the
/// bucket of an object included), every attribute, every context field,
/// checked against the schema when `checked`.
fn cedar_request(case: &RequestCase, checked: bool) -> Result<(Entities, Request), String> {
    let schema = checked.then_some(&*SCHEMA);
    let error = |e: &dyn std::fmt::Display| e.to_string();
    let mut entities = Vec::new();
    let principal = match &case.asker {
        Asker::Credential {
            name,
            access_key,
            groups,
        } => {
            let principal = uid("Credential", name)?;
            let mut parents = Vec::new();
            for group in groups {
                let group = uid("Group", group)?;
                entities.push(Entity::with_uid(group.clone()));
                parents.push(group);
            }
            let attrs = [
                ("name".to_owned(), string(name)),
                ("access_key".to_owned(), string(access_key)),
                (
                    "groups".to_owned(),
                    RestrictedExpression::new_set(groups.iter().map(|g| string(g))),
                ),
            ];
            let entity = Entity::new_with_tags(principal.clone(), attrs, parents, [])
                .map_err(|e| error(&e))?;
            entities.push(entity);
            principal
        }
        Asker::Session { session, claims } => {
            let (issuer, subject, role) = *session;
            let principal = uid("Session", &format!("{issuer}#{subject}"))?;
            let attrs = [
                ("role".to_owned(), string(role)),
                ("issuer".to_owned(), string(issuer)),
                ("subject".to_owned(), string(subject)),
            ];
            let tags = claims.iter().map(|(k, v)| (k.clone(), string(v)));
            let entity =
                Entity::new_with_tags(principal.clone(), attrs, [], tags).map_err(|e| error(&e))?;
            entities.push(entity);
            principal
        }
        Asker::Anonymous => {
            let principal = uid("Anonymous", "anonymous")?;
            entities.push(Entity::with_uid(principal.clone()));
            principal
        }
    };
    let bucket = uid("Bucket", case.bucket)?;
    let acl = case.context.resource_acl.as_deref().unwrap_or("private");
    let bucket_entity = Entity::new_with_tags(
        bucket.clone(),
        [
            ("name".to_owned(), string(case.bucket)),
            ("acl".to_owned(), string(acl)),
        ],
        [],
        [],
    )
    .map_err(|e| error(&e))?;
    entities.push(bucket_entity);
    let resource = match (case.kind, case.key) {
        (ResourceKind::Bucket, _) => bucket,
        (ResourceKind::Object, Some(key)) => {
            let object = uid("Object", &format!("{}/{key}", case.bucket))?;
            let prefix = key.rfind('/').map_or("", |end| &key[..=end]);
            let attrs = [
                ("key".to_owned(), string(key)),
                ("bucket".to_owned(), string(case.bucket)),
                ("prefix".to_owned(), string(prefix)),
                ("segments".to_owned(), segments(key)?),
                ("acl".to_owned(), string(acl)),
            ];
            let tags = case.context.object_tags.iter().flatten();
            let tags = tags.map(|(k, v)| (k.clone(), string(v)));
            let entity = Entity::new_with_tags(object.clone(), attrs, [bucket], tags)
                .map_err(|e| error(&e))?;
            entities.push(entity);
            object
        }
        (ResourceKind::Object, None) => return Err("an object request without a key".into()),
    };
    let action = uid("Action", &format!("s3:{}", case.action))?;
    if schema.is_none() {
        // Only this request's action (its group is its parent).
        let entity = ACTIONS.get(&action).ok_or("an action the schema lacks")?;
        entities.push(entity.clone());
    }
    let entities = Entities::from_entities(entities, schema).map_err(|e| error(&e))?;
    let context = &case.context;
    let mut pairs = vec![
        ("auth_mode".to_owned(), string(context.auth_mode.as_str())),
        (
            "source_ip".to_owned(),
            extension(&context.source_ip.to_canonical().to_string(), |t| {
                RestrictedExpression::new_ip(t)
            }),
        ),
        (
            "secure_transport".to_owned(),
            RestrictedExpression::new_bool(context.secure_transport),
        ),
        (
            "request_time".to_owned(),
            extension(case.time, |t| RestrictedExpression::new_datetime(t)),
        ),
        ("content_length".to_owned(), long(context.content_length)),
        ("write_bytes".to_owned(), long(context.write_bytes)),
        ("bucket_usage".to_owned(), long(context.bucket_usage)),
        ("bucket_reserved".to_owned(), long(context.bucket_reserved)),
        (
            "has_response_overrides".to_owned(),
            RestrictedExpression::new_bool(context.has_response_overrides),
        ),
    ];
    if let Some(cap) = context.bucket_hard_cap {
        pairs.push(("bucket_hard_cap".to_owned(), long(Some(cap))));
    }
    if let Some(prefix) = &context.list_prefix {
        pairs.push(("list_prefix".to_owned(), string(prefix)));
        pairs.push(("list_segments".to_owned(), segments(prefix)?));
    }
    if let Some((bucket, key)) = &context.copy_source {
        let record = RestrictedExpression::new_record([
            ("bucket".to_owned(), string(bucket)),
            ("key".to_owned(), string(key)),
        ])
        .map_err(|e| error(&e))?;
        pairs.push(("copy_source".to_owned(), record));
    }
    let context = Context::from_pairs(pairs).map_err(|e| error(&e))?;
    let request =
        Request::new(principal, action, resource, context, schema).map_err(|e| error(&e))?;
    Ok((entities, request))
}
