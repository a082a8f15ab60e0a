//! Loading a policy set: read a directory of `.cedar` files, parse each,
//! re-key every policy (`@id("...")` or `file.cedar:LINE`), add the
//! compiled-in base set, check this crate's annotation rules and validate
//! the whole set strictly against the schema. Every problem becomes a
//! [`Diagnostic`] with `file:line:col`; any problem fails the load.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{Effect, Policy, PolicyId, PolicySet, ValidationMode};

use crate::error::{Diagnostic, Location, PolicyError};
use crate::schema::model;

/// The display name of the compiled-in base set.
pub(crate) const BASE_FILE: &str = "<builtin>/base.cedar";
const BASE_SRC: &str = include_str!("base.cedar");

/// The S3 error codes a forbid policy may name with `@error("...")`; the
/// gateway can render each of them for a denied request.
pub const DENY_ERROR_CODES: &[&str] = &[
    "AccessDenied",
    "EntityTooLarge",
    "InvalidRequest",
    "InvalidArgument",
    "NotImplemented",
];

/// Reasons this crate gives itself; policies may not use them.
const RESERVED_REASONS: &[&str] = &["no_permit", "evaluation_error", "invalid_request"];

/// Whether a policy grants or refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyEffect {
    /// A `permit` policy.
    Permit,
    /// A `forbid` policy.
    Forbid,
}

impl PolicyEffect {
    /// `permit` or `forbid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permit => "permit",
            Self::Forbid => "forbid",
        }
    }
}

/// What is known about one loaded policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    /// Its id: the `@id` annotation, or `file.cedar:LINE`.
    pub id: String,
    /// Permit or forbid.
    pub effect: PolicyEffect,
    /// Where it starts (its first annotation or its effect keyword).
    pub location: Location,
    /// Its `@reason` annotation.
    pub reason: Option<String>,
    /// Its `@error` annotation (forbid policies only).
    pub error: Option<String>,
    /// Whether it is part of the compiled-in base set.
    pub builtin: bool,
}

/// A policy file's display name (directory joined with file name) and text.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub(crate) name: String,
    pub(crate) text: String,
}

/// A loaded and validated policy set.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) set: PolicySet,
    pub(crate) info: HashMap<String, Arc<PolicyInfo>>,
    /// Each source file with the number of policies it holds.
    pub(crate) files: Vec<(String, usize)>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// Reads every `.cedar` file directly in `dir` (not in subdirectories;
/// names starting with `.` are skipped as editor files), sorted by name.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, PolicyError> {
    let read_dir_error = |source| PolicyError::ReadDir {
        dir: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir_error)? {
        let path = entry.map_err(read_dir_error)?.path();
        let hidden = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_none_or(|name| name.starts_with('.'));
        if !hidden && is_policy_file(&path) && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| match std::fs::read_to_string(&path) {
            Ok(text) => Ok(SourceFile {
                name: path.display().to_string(),
                text,
            }),
            Err(source) => Err(PolicyError::ReadFile { path, source }),
        })
        .collect()
}

/// Whether `path` names a policy file (`.cedar`).
pub(crate) fn is_policy_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|extension| extension == "cedar")
}

/// Parses, re-keys, checks and validates `files` plus the base set.
pub(crate) fn compile(files: &[SourceFile]) -> Result<Compiled, PolicyError> {
    let mut builder = Builder::default();
    builder.add_file(BASE_FILE, BASE_SRC, true);
    for file in files {
        builder.add_file(&file.name, &file.text, false);
    }
    builder.finish()
}

#[derive(Default)]
struct Builder {
    policies: Vec<Policy>,
    info: HashMap<String, Arc<PolicyInfo>>,
    /// Policy id -> (file name, file text), to place validation errors.
    sources: HashMap<String, (String, Arc<str>)>,
    files: Vec<(String, usize)>,
    diagnostics: Vec<Diagnostic>,
}

impl Builder {
    fn add_file(&mut self, name: &str, text: &str, builtin: bool) {
        let parsed = match PolicySet::from_str(text) {
            Ok(parsed) => parsed,
            Err(errors) => {
                for error in errors.iter() {
                    let offset = first_label_offset(error).unwrap_or(0);
                    self.diagnose(Location::at_offset(name, text, offset), None, error);
                }
                self.files.push((name.to_owned(), 0));
                return;
            }
        };
        let starts = policy_starts(text);
        let location_of = |id: &PolicyId| {
            let offset = parsed_index(id)
                .and_then(|index| starts.get(index))
                .copied()
                .unwrap_or(0);
            Location::at_offset(name, text, offset)
        };
        for template in parsed.templates() {
            self.push(
                location_of(template.id()),
                None,
                "policy templates (`?principal`, `?resource`) are not supported: write static policies".into(),
            );
        }
        let mut policies: Vec<&Policy> = parsed.policies().collect();
        policies.sort_by_key(|policy| parsed_index(policy.id()));
        let short_name = Path::new(name).file_name().map_or_else(
            || name.to_owned(),
            |short| short.to_string_lossy().into_owned(),
        );
        let text: Arc<str> = Arc::from(text);
        for policy in &policies {
            let location = location_of(policy.id());
            let id = match policy.annotation("id") {
                Some(id) => id.to_owned(),
                None => format!("{short_name}:{}", location.line),
            };
            self.add_policy(policy, id, location, builtin, &text);
        }
        self.files.push((name.to_owned(), policies.len()));
    }

    fn add_policy(
        &mut self,
        policy: &Policy,
        id: String,
        location: Location,
        builtin: bool,
        text: &Arc<str>,
    ) {
        if id.is_empty() {
            self.push(location, None, "`@id` must not be empty".into());
            return;
        }
        if let Some(previous) = self.info.get(&id) {
            let message = format!(
                "duplicate policy id `{id}`: also used at `{}`",
                previous.location
            );
            self.push(location, Some(id), message);
            return;
        }
        let effect = match policy.effect() {
            Effect::Permit => PolicyEffect::Permit,
            Effect::Forbid => PolicyEffect::Forbid,
        };
        let error = policy.annotation("error").map(str::to_owned);
        let reason = policy.annotation("reason").map(str::to_owned);
        if let Some(message) = annotation_problem(effect, error.as_deref(), reason.as_deref()) {
            self.push(location.clone(), Some(id.clone()), message);
        }
        self.sources
            .insert(id.clone(), (location.file.clone(), Arc::clone(text)));
        self.policies.push(policy.new_id(PolicyId::new(&id)));
        let info = PolicyInfo {
            id: id.clone(),
            effect,
            location,
            reason,
            error,
            builtin,
        };
        self.info.insert(id, Arc::new(info));
    }

    fn finish(mut self) -> Result<Compiled, PolicyError> {
        if !self.diagnostics.is_empty() {
            return Err(PolicyError::Invalid(self.diagnostics));
        }
        let set =
            PolicySet::from_policies(std::mem::take(&mut self.policies)).map_err(|error| {
                PolicyError::Schema(format!("cannot build the policy set: {error}"))
            })?;
        let model = model()?;
        let result = model.validator.validate(&set, ValidationMode::Strict);
        let mut warnings = Vec::new();
        for error in result.validation_errors() {
            let location = self.locate(error.policy_id(), first_label_offset(error));
            let id = error.policy_id().to_string();
            self.diagnose(location, Some(id), error);
        }
        for warning in result.validation_warnings() {
            let location = self.locate(warning.policy_id(), first_label_offset(warning));
            warnings.push(to_diagnostic(
                location,
                Some(warning.policy_id().to_string()),
                warning,
            ));
        }
        if !self.diagnostics.is_empty() {
            self.diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
            return Err(PolicyError::Invalid(self.diagnostics));
        }
        Ok(Compiled {
            set,
            info: self.info,
            files: self.files,
            warnings,
        })
    }

    /// The location of `offset` in the file policy `id` came from.
    fn locate(&self, id: &PolicyId, offset: Option<usize>) -> Location {
        let key = id.to_string();
        match (self.sources.get(&key), self.info.get(&key)) {
            (Some((file, text)), _) if offset.is_some() => {
                Location::at_offset(file.as_str(), text, offset.unwrap_or(0))
            }
            (_, Some(info)) => info.location.clone(),
            _ => Location::at_offset(key, "", 0),
        }
    }

    fn diagnose(
        &mut self,
        location: Location,
        policy: Option<String>,
        error: &(dyn miette::Diagnostic + Send + Sync),
    ) {
        self.diagnostics
            .push(to_diagnostic(location, policy, error));
    }

    fn push(&mut self, location: Location, policy: Option<String>, message: String) {
        self.diagnostics.push(Diagnostic {
            location,
            policy,
            message,
            help: None,
        });
    }
}

fn to_diagnostic(
    location: Location,
    policy: Option<String>,
    error: &(dyn miette::Diagnostic + Send + Sync),
) -> Diagnostic {
    Diagnostic {
        location,
        policy,
        message: error.to_string(),
        help: error.help().map(|help| help.to_string()),
    }
}

/// Whether the `@error` / `@reason` annotations break this crate's rules.
fn annotation_problem(
    effect: PolicyEffect,
    error: Option<&str>,
    reason: Option<&str>,
) -> Option<String> {
    if let Some(code) = error {
        if effect == PolicyEffect::Permit {
            return Some("`@error` only applies to forbid policies".into());
        }
        if !DENY_ERROR_CODES.contains(&code) {
            return Some(format!(
                "unknown error code `{code}` in `@error`: expected one of {}",
                DENY_ERROR_CODES.join(", ")
            ));
        }
    }
    if let Some(reason) = reason {
        let snake = reason.starts_with(|c: char| c.is_ascii_lowercase())
            && reason
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !snake {
            return Some(format!(
                "`@reason(\"{reason}\")` must be lowercase snake_case: it becomes a metrics label"
            ));
        }
        if RESERVED_REASONS.contains(&reason) {
            return Some(format!("reason `{reason}` is reserved for the gateway"));
        }
    }
    None
}

/// The byte offset of a Cedar diagnostic's first labelled span.
fn first_label_offset(error: &(dyn miette::Diagnostic + Send + Sync)) -> Option<usize> {
    error
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|label| label.offset())
}

/// Cedar names parsed policies `policy0`, `policy1`, ... in file order.
fn parsed_index(id: &PolicyId) -> Option<usize> {
    id.to_string().strip_prefix("policy")?.parse().ok()
}

/// Byte offsets where each policy in `text` begins (its first annotation or
/// its effect keyword). Cedar ends every policy with `;`, which appears
/// nowhere else outside string literals and `//` comments.
fn policy_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = Vec::new();
    let mut expecting = true;
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'/' && bytes.get(index + 1) == Some(&b'/') {
            while bytes.get(index).is_some_and(|&b| b != b'\n') {
                index += 1;
            }
            continue;
        }
        if byte == b';' {
            expecting = true;
        } else if !byte.is_ascii_whitespace() && expecting {
            starts.push(index);
            expecting = false;
        }
        if byte == b'"' {
            index += 1;
            while let Some(&b) = bytes.get(index) {
                match b {
                    b'\\' => index += 2,
                    b'"' => break,
                    _ => index += 1,
                }
            }
        }
        index += 1;
    }
    starts
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
