//! Load-time slicing of a policy set, so a decision evaluates only the
//! policies that can apply to it.
//!
//! Cedar evaluates every policy in the set it is given (no indexing). Many
//! policies name their principal or bucket in the scope, which can be read
//! without evaluating anything:
//!
//! | scope                                   | slice            |
//! |-----------------------------------------|------------------|
//! | `principal == E` / `principal in E` (E not a group) | principal `E` |
//! | `resource == / in Bucket::"b"`, `resource is T in Bucket::"b"` | bucket `b` |
//! | `resource == / in Object::"b/key"`      | bucket `b`       |
//! | `principal in Group::"g"`, `principal is T in Group::"g"` | group `g` |
//! | anything else                           | always           |
//!
//! The first matching row wins (principal, then bucket, then group). The
//! always and bucket slices exist once per principal type (credential,
//! session, anonymous), a policy scoped `principal is T` being only in T's.
//! A request evaluates the always slice (or its bucket's, which includes
//! it) of its principal's type, its principal's slice and one slice per
//! group it is in. That is exact: a policy in a
//! slice the request does not select has a scope that is false for the
//! request, and Cedar checks the scope before the `when` / `unless`
//! conditions, so such a policy can neither be satisfied nor error.
//! Groups do not nest and objects have no parent but their bucket, which
//! is what makes the table above sound; [`crate::decide`] combines the
//! per-slice answers exactly as one evaluation would.

use std::collections::HashMap;

use cedar_policy::{Effect, EntityUid, Policy, PolicySet, PrincipalConstraint, ResourceConstraint};

use crate::error::PolicyError;
use crate::schema::EntityTypes;

/// The policies of one slice, split the way a decision evaluates them:
/// every forbid together, then permits until one is satisfied.
#[derive(Debug, Default)]
pub(crate) struct Slice {
    pub(crate) forbids: PolicySet,
    /// Every permit together, for decisions that name all satisfied ones.
    pub(crate) permits: PolicySet,
    /// Each permit alone with its position in the whole set, in that
    /// order, for decisions that stop at the first satisfied one.
    pub(crate) each_permit: Vec<(usize, PolicySet)>,
}

impl Slice {
    /// A slice of `policies`, each with its position in the whole set.
    fn new(mut policies: Vec<(usize, Policy)>) -> Result<Self, PolicyError> {
        let build = |policies: Vec<Policy>| {
            PolicySet::from_policies(policies)
                .map_err(|error| PolicyError::Schema(format!("cannot build a slice: {error}")))
        };
        policies.sort_by_key(|(position, _)| *position);
        let (permits, forbids): (Vec<_>, Vec<_>) = policies
            .into_iter()
            .partition(|(_, policy)| policy.effect() == Effect::Permit);
        let each_permit = permits
            .iter()
            .map(|(position, policy)| Ok((*position, build(vec![policy.clone()])?)))
            .collect::<Result<_, PolicyError>>()?;
        Ok(Self {
            forbids: build(forbids.into_iter().map(|(_, policy)| policy).collect())?,
            permits: build(permits.into_iter().map(|(_, policy)| policy).collect())?,
            each_permit,
        })
    }

    /// How many policies the slice holds.
    pub(crate) fn len(&self) -> usize {
        self.forbids.num_of_policies() + self.permits.num_of_policies()
    }
}

/// Where a policy goes.
#[derive(Debug, PartialEq, Eq)]
enum SliceKey {
    Principal(EntityUid),
    Bucket(String),
    Group(String),
    Always,
}

/// The principal types; the always and bucket slices exist once per type.
const PRINCIPAL_TYPES: usize = 3;

/// The same slice once per principal type (credential, session,
/// anonymous): a policy scoped `principal is T` (or `is T in ...`) is only
/// in T's, every other policy in all three.
#[derive(Debug)]
struct ByType([Slice; PRINCIPAL_TYPES]);

impl ByType {
    fn new(policies: &[(usize, Policy)], types: &EntityTypes) -> Result<Self, PolicyError> {
        let of_type = |index: usize| {
            let kept = policies
                .iter()
                .filter(|(_, policy)| principal_type(policy, types).is_none_or(|t| t == index))
                .cloned()
                .collect();
            Slice::new(kept)
        };
        Ok(Self([of_type(0)?, of_type(1)?, of_type(2)?]))
    }

    fn get(&self, index: usize) -> &Slice {
        &self.0[index.min(PRINCIPAL_TYPES - 1)]
    }
}

/// The index of the one principal type `policy` can apply to (by its
/// scope), or `None` when its scope allows any type.
fn principal_type(policy: &Policy, types: &EntityTypes) -> Option<usize> {
    match policy.principal_constraint() {
        PrincipalConstraint::Is(ty) | PrincipalConstraint::IsIn(ty, _) => type_index(&ty, types),
        _ => None,
    }
}

fn type_index(ty: &cedar_policy::EntityTypeName, types: &EntityTypes) -> Option<usize> {
    [&types.credential, &types.session, &types.anonymous]
        .iter()
        .position(|known| *known == ty)
}

/// A policy set cut into slices, plus the whole set for unsliced decisions.
#[derive(Debug)]
pub(crate) struct Slices {
    pub(crate) full: Slice,
    always: ByType,
    /// Each bucket's policies merged with the always slice, so the common
    /// request evaluates one set.
    by_bucket: HashMap<String, ByType>,
    by_principal: HashMap<EntityUid, Slice>,
    by_group: HashMap<String, Slice>,
    credential: cedar_policy::EntityTypeName,
    session: cedar_policy::EntityTypeName,
}

impl Slices {
    /// Cuts `set` into slices.
    pub(crate) fn build(set: &PolicySet, types: &EntityTypes) -> Result<Self, PolicyError> {
        let mut always = Vec::new();
        let mut by_bucket: HashMap<String, Vec<(usize, Policy)>> = HashMap::new();
        let mut by_principal: HashMap<EntityUid, Vec<(usize, Policy)>> = HashMap::new();
        let mut by_group: HashMap<String, Vec<(usize, Policy)>> = HashMap::new();
        for (position, policy) in set.policies().enumerate() {
            let policy = (position, policy.clone());
            match slice_key(&policy.1, types) {
                SliceKey::Principal(uid) => by_principal.entry(uid).or_default().push(policy),
                SliceKey::Bucket(bucket) => by_bucket.entry(bucket).or_default().push(policy),
                SliceKey::Group(group) => by_group.entry(group).or_default().push(policy),
                SliceKey::Always => always.push(policy),
            }
        }
        let by_bucket = by_bucket
            .into_iter()
            .map(|(bucket, mut policies)| {
                policies.extend(always.iter().cloned());
                ByType::new(&policies, types).map(|slices| (bucket, slices))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            full: Slice::new(set.policies().cloned().enumerate().collect())?,
            always: ByType::new(&always, types)?,
            by_bucket,
            by_principal: build_all(by_principal)?,
            by_group: build_all(by_group)?,
            credential: types.credential.clone(),
            session: types.session.clone(),
        })
    }

    /// The slices a request for `principal` (in `groups`) on `bucket`
    /// evaluates.
    pub(crate) fn select(
        &self,
        principal: &EntityUid,
        groups: &[String],
        bucket: &str,
    ) -> Vec<&Slice> {
        let ty = principal.type_name();
        let index = if *ty == self.credential {
            0
        } else if *ty == self.session {
            1
        } else {
            2
        };
        let mut selected = Vec::with_capacity(2 + groups.len());
        selected.push(
            self.by_bucket
                .get(bucket)
                .unwrap_or(&self.always)
                .get(index),
        );
        selected.extend(self.by_principal.get(principal));
        selected.extend(groups.iter().filter_map(|group| self.by_group.get(group)));
        selected
    }

    /// (always, bucket slices, principal slices, group slices) sizes, for
    /// logs and tests.
    pub(crate) fn shape(&self) -> (usize, usize, usize, usize) {
        (
            self.always.get(0).len(),
            self.by_bucket.len(),
            self.by_principal.len(),
            self.by_group.len(),
        )
    }
}

fn build_all<K: std::hash::Hash + Eq>(
    map: HashMap<K, Vec<(usize, Policy)>>,
) -> Result<HashMap<K, Slice>, PolicyError> {
    map.into_iter()
        .map(|(key, policies)| Slice::new(policies).map(|slice| (key, slice)))
        .collect()
}

fn slice_key(policy: &Policy, types: &EntityTypes) -> SliceKey {
    let mut group = None;
    match policy.principal_constraint() {
        PrincipalConstraint::Eq(uid) => return SliceKey::Principal(uid),
        PrincipalConstraint::In(uid) | PrincipalConstraint::IsIn(_, uid) => {
            if uid.type_name() == &types.group {
                group = Some(uid.id().unescaped().to_owned());
            } else {
                // Only groups have members: `in` anything else is `==`.
                return SliceKey::Principal(uid);
            }
        }
        PrincipalConstraint::Any | PrincipalConstraint::Is(_) => {}
    }
    let resource = match policy.resource_constraint() {
        ResourceConstraint::Eq(uid)
        | ResourceConstraint::In(uid)
        | ResourceConstraint::IsIn(_, uid) => Some(uid),
        ResourceConstraint::Any | ResourceConstraint::Is(_) => None,
    };
    if let Some(bucket) = resource.and_then(|uid| bucket_of(&uid, types)) {
        return SliceKey::Bucket(bucket);
    }
    group.map_or(SliceKey::Always, SliceKey::Group)
}

/// The bucket a resource uid lies in: `Bucket::"b"` and `Object::"b/key"`.
fn bucket_of(uid: &EntityUid, types: &EntityTypes) -> Option<String> {
    let id = uid.id().unescaped();
    if uid.type_name() == &types.bucket {
        Some(id.to_owned())
    } else if uid.type_name() == &types.object {
        id.split_once('/').map(|(bucket, _)| bucket.to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::schema::model;

    fn key(src: &str) -> SliceKey {
        let policy = Policy::from_str(src).unwrap();
        slice_key(&policy, &model().unwrap().types)
    }

    fn uid(src: &str) -> EntityUid {
        EntityUid::from_str(src).unwrap()
    }

    #[test]
    fn a_request_selects_its_bucket_principal_and_group_slices() {
        let text = r#"
@id("always") permit (principal, action, resource);
@id("b1") permit (principal, action, resource in Bucket::"b1");
@id("b2") permit (principal, action, resource in Bucket::"b2");
@id("alice") permit (principal == Credential::"alice", action, resource);
@id("g") permit (principal in Group::"g", action, resource);
"#;
        let set = PolicySet::from_str(text).unwrap();
        let types = &model().unwrap().types;
        let slices = Slices::build(&set, types).unwrap();
        assert_eq!(slices.shape(), (1, 2, 1, 1));
        assert_eq!(slices.full.len(), 5);
        let alice = uid(r#"Credential::"alice""#);
        let sizes = |principal: &EntityUid, groups: &[String], bucket: &str| {
            let selected = slices.select(principal, groups, bucket);
            selected.iter().map(|slice| slice.len()).collect::<Vec<_>>()
        };
        // The bucket's slice includes the always policies.
        assert_eq!(sizes(&alice, &["g".into()], "b1"), [2, 1, 1]);
        assert_eq!(sizes(&uid(r#"Credential::"bob""#), &[], "b3"), [1]);
    }

    #[test]
    fn type_scoped_policies_are_only_in_their_type_slice() {
        let text = r#"
@id("anyone") permit (principal, action, resource);
@id("anon") forbid (principal is Anonymous, action, resource);
@id("anon-b1") forbid (principal is Anonymous, action, resource in Bucket::"b1");
@id("sessions") permit (principal is Session, action, resource in Bucket::"b1");
"#;
        let set = PolicySet::from_str(text).unwrap();
        let slices = Slices::build(&set, &model().unwrap().types).unwrap();
        let size =
            |principal: &str, bucket: &str| slices.select(&uid(principal), &[], bucket)[0].len();
        assert_eq!(size(r#"Credential::"alice""#, "b0"), 1);
        assert_eq!(size(r#"Anonymous::"anonymous""#, "b0"), 2);
        assert_eq!(size(r#"Credential::"alice""#, "b1"), 1);
        assert_eq!(size(r#"Anonymous::"anonymous""#, "b1"), 3);
        assert_eq!(size(r#"Session::"i#s""#, "b1"), 2);
    }

    #[test]
    fn scopes_map_to_slices() {
        let bucket = |b: &str| SliceKey::Bucket(b.into());
        let table = [
            ("permit(principal, action, resource);", SliceKey::Always),
            (
                r#"permit(principal == Credential::"a", action, resource in Bucket::"b");"#,
                SliceKey::Principal(uid(r#"Credential::"a""#)),
            ),
            (
                r#"permit(principal in Credential::"a", action, resource);"#,
                SliceKey::Principal(uid(r#"Credential::"a""#)),
            ),
            (
                r#"permit(principal in Group::"g", action, resource in Bucket::"b");"#,
                bucket("b"),
            ),
            (
                r#"permit(principal in Group::"g", action, resource);"#,
                SliceKey::Group("g".into()),
            ),
            (
                r#"permit(principal is Credential in Group::"g", action, resource is Bucket);"#,
                SliceKey::Group("g".into()),
            ),
            (
                r#"permit(principal, action, resource == Bucket::"b");"#,
                bucket("b"),
            ),
            (
                r#"permit(principal, action, resource is Object in Bucket::"b");"#,
                bucket("b"),
            ),
            (
                r#"permit(principal, action, resource == Object::"b/k/x");"#,
                bucket("b"),
            ),
            (
                r#"permit(principal, action, resource == Object::"nobucket");"#,
                SliceKey::Always,
            ),
            (
                r#"forbid(principal is Anonymous, action, resource);"#,
                SliceKey::Always,
            ),
        ];
        for (src, expected) in table {
            assert_eq!(key(src), expected, "{src}");
        }
    }
}
