//! [`PolicySnapshot`]: one immutable, validated, sliced policy set. The
//! store publishes snapshots; the gateway loads the current one per
//! request and asks it for decisions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use cedar_policy::Authorizer;

use crate::decide::{Decision, evaluate};
use crate::error::{Diagnostic, PolicyError};
use crate::load::{Compiled, PolicyInfo, SourceFile, compile, read_dir};
use crate::request::{AuthzRequest, BuiltRequest, build};
use crate::schema::{Model, model};
use crate::slice::Slices;

/// A validated policy set, ready to decide. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct PolicySnapshot {
    generation: u64,
    model: &'static Model,
    authorizer: Authorizer,
    slices: Slices,
    info: HashMap<String, Arc<PolicyInfo>>,
    files: Vec<(String, usize)>,
    warnings: Vec<Diagnostic>,
    reads_object_tags: bool,
}

impl PolicySnapshot {
    /// Loads every `.cedar` file in `dir` plus the base set.
    pub fn from_dir(dir: &Path, generation: u64) -> Result<Self, PolicyError> {
        Self::from_files(&read_dir(dir)?, generation)
    }

    /// Builds a snapshot from `(file name, policy text)` pairs plus the base
    /// set, e.g. an embedded development policy set.
    pub fn from_sources(sources: &[(&str, &str)], generation: u64) -> Result<Self, PolicyError> {
        let files: Vec<SourceFile> = sources
            .iter()
            .map(|(name, text)| SourceFile {
                name: (*name).to_owned(),
                text: (*text).to_owned(),
            })
            .collect();
        Self::from_files(&files, generation)
    }

    pub(crate) fn from_files(files: &[SourceFile], generation: u64) -> Result<Self, PolicyError> {
        let model = model()?;
        let Compiled {
            set,
            info,
            files,
            warnings,
        } = compile(files)?;
        for warning in &warnings {
            tracing::warn!(%warning, "cedar policy warning");
        }
        let slices = Slices::build(&set, &model.types)?;
        // A policy whose JSON cannot be had is assumed to read them.
        let reads_object_tags = set.policies().any(|policy| {
            policy
                .to_json()
                .map_or(true, |json| reads_resource_tags(&json))
        });
        let (always, buckets, principals, groups) = slices.shape();
        tracing::debug!(
            generation,
            policies = info.len(),
            always,
            buckets,
            principals,
            groups,
            "policy set sliced"
        );
        Ok(Self {
            generation,
            model,
            authorizer: Authorizer::new(),
            slices,
            info,
            files,
            warnings,
            reads_object_tags,
        })
    }

    /// Whether any policy reads the resource's tags (`resource.hasTag`,
    /// `resource.getTag`): only then does the gateway fetch an object's
    /// tags before deciding.
    pub fn reads_object_tags(&self) -> bool {
        self.reads_object_tags
    }

    /// Decides `request`, evaluating only the slices that can apply.
    pub fn decide(&self, request: &AuthzRequest<'_>) -> Decision {
        match self.build(request) {
            Ok(built) => {
                let slices = self
                    .slices
                    .select(&built.principal, &built.groups, &built.bucket);
                evaluate(&self.authorizer, &self.info, &slices, &built)
            }
            Err(decision) => decision,
        }
    }

    /// Decides `request` by evaluating every policy (for tests and
    /// benchmarks; always the same answer as [`Self::decide`]).
    pub fn decide_unsliced(&self, request: &AuthzRequest<'_>) -> Decision {
        match self.build(request) {
            Ok(built) => evaluate(&self.authorizer, &self.info, &[&self.slices.full], &built),
            Err(decision) => decision,
        }
    }

    /// Builds the Cedar request alone (what [`Self::decide`] does before
    /// evaluating), for benchmarks; `Err` holds the reason it cannot.
    pub fn build_request(&self, request: &AuthzRequest<'_>) -> Result<(), String> {
        build(self.model, request).map(drop)
    }

    fn build(&self, request: &AuthzRequest<'_>) -> Result<BuiltRequest, Decision> {
        build(self.model, request).map_err(Decision::invalid)
    }

    /// The generation: 1 for the first load, +1 on every successful reload.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every policy id, sorted (the base set's included).
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.info.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// What is known about policy `id`.
    pub fn policy(&self, id: &str) -> Option<&PolicyInfo> {
        self.info.get(id).map(AsRef::as_ref)
    }

    /// The source files with their policy counts, in load order (the base
    /// set first).
    pub fn files(&self) -> &[(String, usize)] {
        &self.files
    }

    /// Validation warnings (the set loaded despite them).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}

/// Whether a policy's JSON form applies `hasTag` or `getTag` to `resource`.
fn reads_resource_tags(json: &serde_json::Value) -> bool {
    use serde_json::Value;
    match json {
        Value::Object(map) => map.iter().any(|(name, child)| {
            let on_resource = (name == "hasTag" || name == "getTag")
                && child
                    .get("left")
                    .and_then(|left| left.get("Var"))
                    .is_some_and(|var| var == "resource");
            on_resource || reads_resource_tags(child)
        }),
        Value::Array(items) => items.iter().any(reads_resource_tags),
        _ => false,
    }
}
