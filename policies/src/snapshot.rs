//! [`PolicySnapshot`]: one immutable, validated, sliced policy set. The
//! store publishes snapshots; the gateway loads the current one per
//! request and asks it for decisions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use cedar_policy::Authorizer;

use crate::decide::{Decision, Permits, evaluate};
use crate::error::{Diagnostic, PolicyError};
use crate::load::{Compiled, PolicyInfo, SourceFile, compile, read_dir};
use crate::request::{AuthzRequest, BuiltRequest, build, principal_uid};
use crate::schema::{Model, ResourceKind, model};
use crate::slice::Slices;
use crate::usage::PolicyUsage;

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
    usage: PolicyUsage,
    /// The source files (not the base set), kept so a candidate set can be
    /// built from this one with one file replaced.
    sources: Vec<SourceFile>,
}

impl PolicySnapshot {
    /// Loads every `.cedar` file in `dir` plus the base set.
    pub fn from_dir(dir: &Path, generation: u64) -> Result<Self, PolicyError> {
        Self::from_files(&read_dir(dir)?, generation).map(Self::log_warnings)
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
        Self::from_files(&files, generation).map(Self::log_warnings)
    }

    /// Logs the validation warnings of a set about to be used (a candidate
    /// from [`Self::with_file`] is only looked at, so it logs nothing).
    fn log_warnings(self) -> Self {
        for warning in &self.warnings {
            tracing::warn!(%warning, "cedar policy warning");
        }
        self
    }

    pub(crate) fn from_files(
        files_in: &[SourceFile],
        generation: u64,
    ) -> Result<Self, PolicyError> {
        let model = model()?;
        let Compiled {
            set,
            info,
            files,
            warnings,
        } = compile(files_in)?;
        let slices = Slices::build(&set, &model.types)?;
        let usage = PolicyUsage::of(&set);
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
            usage,
            sources: files_in.to_vec(),
        })
    }

    /// A new snapshot made of this one's source files with the file named
    /// `name` (compared by file name, without its directory) replaced by
    /// `text`, or added when no file has that name. The live set is not
    /// touched: this is how a candidate file is tried before it is saved.
    pub fn with_file(&self, name: &str, text: &str) -> Result<Self, PolicyError> {
        let same_name = |file: &SourceFile| {
            Path::new(&file.name)
                .file_name()
                .is_some_and(|file_name| file_name == name)
        };
        let mut files: Vec<SourceFile> = self
            .sources
            .iter()
            .filter(|file| !same_name(file))
            .cloned()
            .collect();
        files.push(SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
        });
        Self::from_files(&files, self.generation + 1)
    }

    /// Whether any policy reads the resource's tags (`resource.hasTag`,
    /// `resource.getTag`): only then does the gateway fetch an object's
    /// tags before deciding.
    pub fn reads_object_tags(&self) -> bool {
        self.usage.reads_object_tags()
    }

    /// Whether a policy reads `resource.acl`, so the gateway must look up
    /// the resource's stored ACL before deciding.
    pub fn reads_acl(&self) -> bool {
        self.usage.needs("acl")
    }

    /// Decides `request`, evaluating only the slices that can apply and
    /// permits only until one is satisfied: an allow names that permit.
    pub fn decide(&self, request: &AuthzRequest<'_>) -> Decision {
        self.decide_sliced(request, Permits::First)
    }

    /// Decides `request` as [`Self::decide`] does, but an allow names every
    /// satisfied permit (the console's explanations, `cedargate explain`).
    pub fn explain(&self, request: &AuthzRequest<'_>) -> Decision {
        self.decide_sliced(request, Permits::All)
    }

    fn decide_sliced(&self, request: &AuthzRequest<'_>, permits: Permits) -> Decision {
        if self.nothing_applies(request) {
            return Decision::no_permit(Vec::new());
        }
        match self.build(request) {
            Ok(built) => {
                let slices = self
                    .slices
                    .select(&built.principal, &built.groups, &built.bucket);
                evaluate(&self.authorizer, &self.info, &slices, &built, permits)
            }
            Err(decision) => decision,
        }
    }

    /// Whether the slices `request` selects hold no policy at all, so it is
    /// denied by default without building anything for Cedar (a credential
    /// no policy names, say). A request the builder would refuse (unknown
    /// action, no bucket or key) is left to it, so its reason stays
    /// `invalid_request`.
    fn nothing_applies(&self, request: &AuthzRequest<'_>) -> bool {
        let Some(action) = self.model.action(request.action) else {
            return false;
        };
        let Some(bucket) = request.bucket.filter(|bucket| !bucket.contains('/')) else {
            return false;
        };
        if action.resource == ResourceKind::Object && request.key.is_none() {
            return false;
        }
        let (principal, groups) = principal_uid(&self.model.types, &request.principal);
        self.slices
            .select(&principal, groups, bucket)
            .iter()
            .all(|slice| slice.len() == 0)
    }

    /// Decides `request` by evaluating every policy, naming every satisfied
    /// permit (for tests and benchmarks; always the same answer as
    /// [`Self::explain`]).
    pub fn decide_unsliced(&self, request: &AuthzRequest<'_>) -> Decision {
        match self.build(request) {
            Ok(built) => self.evaluate_everything(&built),
            Err(decision) => decision,
        }
    }

    /// Evaluates every policy for `built`, naming every satisfied permit.
    fn evaluate_everything(&self, built: &BuiltRequest) -> Decision {
        let full = [&self.slices.full];
        evaluate(&self.authorizer, &self.info, &full, built, Permits::All)
    }

    /// Decides `request` with every attribute and context field built, as
    /// if no policy's usage were known (tests compare it with
    /// [`Self::explain`]).
    #[cfg(test)]
    pub(crate) fn decide_with_everything(&self, request: &AuthzRequest<'_>) -> Decision {
        match build(self.model, &PolicyUsage::everything(), request) {
            Ok(built) => self.evaluate_everything(&built),
            Err(error) => Decision::invalid(error),
        }
    }

    /// Builds the Cedar request alone (what [`Self::decide`] does before
    /// evaluating), for benchmarks; `Err` holds the reason it cannot.
    pub fn build_request(&self, request: &AuthzRequest<'_>) -> Result<(), String> {
        build(self.model, &self.usage, request).map(drop)
    }

    fn build(&self, request: &AuthzRequest<'_>) -> Result<BuiltRequest, Decision> {
        build(self.model, &self.usage, request).map_err(Decision::invalid)
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

#[cfg(test)]
mod tests {
    use super::*;

    const PERMIT: &str = "@id(\"all\")\npermit (principal, action, resource);\n";

    #[test]
    fn with_file_replaces_a_file_by_name_or_adds_it() {
        let live = PolicySnapshot::from_sources(&[("/p/teams.cedar", PERMIT)], 3).unwrap();
        let replaced = live
            .with_file(
                "teams.cedar",
                "@id(\"other\")\npermit (principal, action, resource);\n",
            )
            .unwrap();
        assert!(replaced.policy("other").is_some());
        assert!(replaced.policy("all").is_none());
        assert_eq!(replaced.generation(), 4);
        let added = live
            .with_file(
                "more.cedar",
                "@id(\"more\")\nforbid (principal, action, resource);\n",
            )
            .unwrap();
        assert!(added.policy("all").is_some() && added.policy("more").is_some());
        // The live snapshot is untouched.
        assert_eq!(live.generation(), 3);
        assert!(live.policy("more").is_none());
        let broken = live
            .with_file("teams.cedar", "permit (principal,")
            .unwrap_err();
        let first = &broken.diagnostics()[0];
        assert_eq!(first.location.file, "teams.cedar");
        assert_eq!(first.location.line, 1);
    }
}
