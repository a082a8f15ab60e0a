//! The Cedar schema (`schema/s3.cedarschema`) and what is pre-built from it
//! once per process: the parsed schema, the strict validator, and for every
//! S3 action its entity uid, its action entity (with its group as parent)
//! and the resource type it applies to. Building a request then only clones
//! these.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use cedar_policy::{Entities, Entity, EntityId, EntityTypeName, EntityUid, Schema, Validator};

use crate::error::PolicyError;

/// The Cedar schema every policy file is validated against (Cedar schema
/// syntax, no namespace).
pub const SCHEMA_SRC: &str = include_str!("../schema/s3.cedarschema");

/// The action groups, one per operation class: policies say
/// `action in Action::"read"`.
pub const ACTION_GROUPS: [&str; 7] = [
    "read",
    "write",
    "list",
    "delete",
    "multipart",
    "bucket-config",
    "admin",
];

/// The prefix of every S3 action id: `Action::"s3:GetObject"`.
pub const ACTION_PREFIX: &str = "s3:";

/// The resource type an action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `Bucket::"<bucket>"`: bucket-level operations (ListObjects,
    /// HeadBucket, CreateBucket, bucket subresources, ListBuckets asked
    /// once per bucket).
    Bucket,
    /// `Object::"<bucket>/<key>"`: object-level operations (GetObject,
    /// PutObject, multipart, ListParts, DeleteObjects asked once per key).
    Object,
}

/// Every S3 action the schema declares, as full action ids
/// (`s3:GetObject`), sorted.
///
/// The gateway asserts that each of its `S3Operation`s has one.
pub fn action_names() -> Vec<String> {
    let mut names: Vec<String> = match model() {
        Ok(model) => model
            .actions
            .keys()
            .map(|name| format!("{ACTION_PREFIX}{name}"))
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The resource type the action `name` (`GetObject` or `s3:GetObject`)
/// applies to, or `None` for an unknown action.
pub fn action_resource(name: &str) -> Option<ResourceKind> {
    let model = model().ok()?;
    model.action(name).map(|action| action.resource)
}

/// The group (`read`, `write`, ...) of the action `name` (`GetObject` or
/// `s3:GetObject`), or `None` for an unknown action.
pub fn action_group(name: &str) -> Option<&'static str> {
    let model = model().ok()?;
    model.action(name).map(|action| action.group)
}

/// One S3 action, pre-built.
#[derive(Debug)]
pub(crate) struct ActionModel {
    /// `Action::"s3:GetObject"`.
    pub(crate) uid: EntityUid,
    /// The action entity, its group as parent, ready to add to a request's
    /// entities.
    pub(crate) entity: Entity,
    pub(crate) resource: ResourceKind,
    pub(crate) group: &'static str,
}

/// The parsed schema (inside the validator) and everything derived from it.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) validator: Validator,
    /// Keyed by operation name without the `s3:` prefix.
    pub(crate) actions: HashMap<String, ActionModel>,
    pub(crate) types: EntityTypes,
}

impl Model {
    /// The action called `name`, with or without the `s3:` prefix.
    pub(crate) fn action(&self, name: &str) -> Option<&ActionModel> {
        self.named_action(name).map(|(_, action)| action)
    }

    /// The action called `name` with its name without the prefix.
    pub(crate) fn named_action(&self, name: &str) -> Option<(&str, &ActionModel)> {
        self.actions
            .get_key_value(name.strip_prefix(ACTION_PREFIX).unwrap_or(name))
            .map(|(name, action)| (name.as_str(), action))
    }
}

/// The schema's entity type names, parsed once.
#[derive(Debug)]
pub(crate) struct EntityTypes {
    pub(crate) credential: EntityTypeName,
    pub(crate) session: EntityTypeName,
    pub(crate) anonymous: EntityTypeName,
    pub(crate) group: EntityTypeName,
    pub(crate) bucket: EntityTypeName,
    pub(crate) object: EntityTypeName,
}

impl EntityTypes {
    fn new() -> Result<Self, String> {
        let parse = |name: &str| {
            EntityTypeName::from_str(name).map_err(|error| format!("entity type `{name}`: {error}"))
        };
        Ok(Self {
            credential: parse("Credential")?,
            session: parse("Session")?,
            anonymous: parse("Anonymous")?,
            group: parse("Group")?,
            bucket: parse("Bucket")?,
            object: parse("Object")?,
        })
    }

    /// `type::"id"`.
    pub(crate) fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    }
}

static MODEL: LazyLock<Result<Model, String>> = LazyLock::new(build_model);

/// The process-wide model, built on first use.
pub(crate) fn model() -> Result<&'static Model, PolicyError> {
    MODEL
        .as_ref()
        .map_err(|message| PolicyError::Schema(message.clone()))
}

fn build_model() -> Result<Model, String> {
    let (schema, warnings) = Schema::from_cedarschema_str(SCHEMA_SRC)
        .map_err(|error| format!("cannot parse the built-in schema: {error}"))?;
    for warning in warnings {
        tracing::debug!(%warning, "cedar schema warning");
    }
    let types = EntityTypes::new()?;
    let action_entities: Entities = schema
        .action_entities()
        .map_err(|error| format!("cannot build the schema's action entities: {error}"))?;
    let mut actions = HashMap::new();
    for entity in action_entities.iter() {
        let uid = entity.uid();
        let id: &str = uid.id().unescaped();
        let Some(name) = id.strip_prefix(ACTION_PREFIX) else {
            continue; // an action group
        };
        let group = ACTION_GROUPS
            .iter()
            .copied()
            .find(|group| {
                let group_uid =
                    EntityUid::from_type_name_and_id(uid.type_name().clone(), EntityId::new(group));
                action_entities.is_ancestor_of(&group_uid, &uid)
            })
            .ok_or_else(|| format!("action `{id}` is in no action group"))?;
        let resource = resource_kind(&schema, &uid, &types)?;
        actions.insert(
            name.to_owned(),
            ActionModel {
                uid: uid.clone(),
                entity: entity.clone(),
                resource,
                group,
            },
        );
    }
    let validator = Validator::new(schema);
    Ok(Model {
        validator,
        actions,
        types,
    })
}

fn resource_kind(
    schema: &Schema,
    action: &EntityUid,
    types: &EntityTypes,
) -> Result<ResourceKind, String> {
    let resources: Vec<&EntityTypeName> = schema
        .resources_for_action(action)
        .map(Iterator::collect)
        .unwrap_or_default();
    match resources.as_slice() {
        [only] if **only == types.bucket => Ok(ResourceKind::Bucket),
        [only] if **only == types.object => Ok(ResourceKind::Object),
        _ => Err(format!(
            "action `{action}` must apply to exactly one of `Bucket` or `Object`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_parses_and_every_action_is_grouped() {
        let model = model().unwrap();
        assert!(model.actions.len() >= 92, "{}", model.actions.len());
        let names = action_names();
        assert_eq!(names.len(), model.actions.len());
        assert!(names.iter().all(|name| name.starts_with("s3:")));
        assert_eq!(action_group("GetObject"), Some("read"));
        assert_eq!(action_group("s3:PutBucketCors"), Some("bucket-config"));
        assert_eq!(action_group("ListParts"), Some("list"));
        assert_eq!(action_group("Nope"), None);
    }

    #[test]
    fn resource_kinds_follow_the_operation_shape() {
        let table = [
            ("GetObject", ResourceKind::Object),
            ("DeleteObjects", ResourceKind::Object),
            ("ListParts", ResourceKind::Object),
            ("UploadPartCopy", ResourceKind::Object),
            ("ListBuckets", ResourceKind::Bucket),
            ("ListObjectsV2", ResourceKind::Bucket),
            ("HeadBucket", ResourceKind::Bucket),
            ("CreateBucket", ResourceKind::Bucket),
            ("GetBucketAcl", ResourceKind::Bucket),
        ];
        for (name, kind) in table {
            assert_eq!(action_resource(name), Some(kind), "{name}");
        }
    }

    #[test]
    fn every_group_has_members() {
        let model = model().unwrap();
        for group in ACTION_GROUPS {
            assert!(
                model.actions.values().any(|action| action.group == group),
                "{group}"
            );
        }
    }
}
