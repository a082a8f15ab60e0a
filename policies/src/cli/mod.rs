//! The library side of `cedargate policy validate|test|explain`, the
//! commands people who edit policies run (the gateway's `main.rs` parses
//! the flags and prints these reports):
//!
//! - [`validate_dir`]: parse and strictly validate a directory, or list
//!   every problem with `file:line:col`;
//! - [`run_test_file`]: run a `tests.toml` table of requests and expected
//!   decisions (for the policy repository's CI);
//! - [`explain`]: one request's decision and the policies behind it.

mod explain;
mod request;
mod test_file;

use std::fmt;
use std::path::{Path, PathBuf};

pub use explain::{Explanation, explain, explain_with};
pub use request::{ContextOverrides, CopySource, ExplainRequest, SessionSpec};
pub use test_file::{CaseResult, TestReport, run_test_file};

use crate::error::{Diagnostic, PolicyError};
use crate::load::BASE_FILE;
use crate::snapshot::PolicySnapshot;

/// What a valid directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The directory.
    pub dir: PathBuf,
    /// Each `.cedar` file with its number of policies, sorted by name.
    pub files: Vec<(String, usize)>,
    /// Policies in the directory.
    pub policies: usize,
    /// Policies of the compiled-in base set, added to every directory.
    pub builtin: usize,
    /// Validation warnings (the set is valid despite them).
    pub warnings: Vec<Diagnostic>,
}

/// Parses and strictly validates every `.cedar` file in `dir` (with the
/// base set). The error lists every problem found.
pub fn validate_dir(dir: &Path) -> Result<Summary, PolicyError> {
    let snapshot = PolicySnapshot::from_dir(dir, 1)?;
    let (builtin, files): (Vec<_>, Vec<_>) = snapshot
        .files()
        .iter()
        .cloned()
        .partition(|(name, _)| name == BASE_FILE);
    Ok(Summary {
        dir: dir.to_owned(),
        policies: files.iter().map(|(_, count)| count).sum(),
        builtin: builtin.iter().map(|(_, count)| count).sum(),
        files,
        warnings: snapshot.warnings().to_vec(),
    })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} policies in {} files are valid (plus {} built-in)",
            self.dir.display(),
            self.policies,
            self.files.len(),
            self.builtin
        )?;
        for (file, count) in &self.files {
            writeln!(f, "  {file}: {count}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}
