//! Errors from loading, validating and watching policies.
//!
//! Every problem found in a policy file is a [`Diagnostic`] with a
//! `file:line:col` [`Location`] (computed from Cedar's source spans) and a
//! lowercase message, so a failed reload can be logged and shown as
//! `teams.cedar:3:14: unexpected token ...`.

use std::fmt;
use std::path::PathBuf;

/// Where in a policy file a problem is: `file:line:col`, 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file as it was found (directory joined with the file name), or
    /// `<builtin>/base.cedar` for the compiled-in base set.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text).
    pub fn at_offset(file: impl Into<String>, text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            file: file.into(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where it is.
    pub location: Location,
    /// The policy it concerns, when known.
    pub policy: Option<String>,
    /// What is wrong, lowercase, no final period.
    pub message: String,
    /// How to fix it, when Cedar says.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// Why a policy set could not be loaded or watched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy directory could not be listed.
    #[error("cannot read policy directory `{}`: {source}", dir.display())]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A policy file could not be read.
    #[error("cannot read policy file `{}`: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// One or more policy files do not parse, do not validate strictly
    /// against the schema, or break a rule of this crate (duplicate ids,
    /// templates, unknown `@error` codes). Never empty; the first
    /// diagnostic is in the message.
    #[error("{}", summarize(.0))]
    Invalid(Vec<Diagnostic>),
    /// The compiled-in schema or base set is broken (a bug in this crate).
    #[error("built-in schema: {0}")]
    Schema(String),
    /// The store was built from sources, not a directory, so there is
    /// nothing to reload or watch.
    #[error("the policy store has no directory to reload from")]
    NoDirectory,
    /// The file watcher could not be started.
    #[error("cannot watch `{}`: {message}", dir.display())]
    Watch {
        /// The directory.
        dir: PathBuf,
        /// What notify said.
        message: String,
    },
}

impl PolicyError {
    /// Every problem found, for tools that list them all (empty for errors
    /// that are not about a file's content).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Invalid(diagnostics) => diagnostics,
            _ => &[],
        }
    }
}

fn summarize(diagnostics: &[Diagnostic]) -> String {
    match diagnostics {
        [] => "invalid policy set".to_owned(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_lines_and_columns() {
        let text = "permit(\n  principal,\n  actión,\nx";
        let at = |offset| Location::at_offset("a.cedar", text, offset).to_string();
        assert_eq!(at(0), "a.cedar:1:1");
        assert_eq!(at(8), "a.cedar:2:1");
        assert_eq!(at(10), "a.cedar:2:3");
        let x = text.find('x').unwrap();
        assert_eq!(at(x), "a.cedar:4:1");
        // Columns count characters, not bytes; offsets past the end clamp.
        let comma = text.rfind(',').unwrap();
        assert_eq!(at(comma), "a.cedar:3:9");
        assert_eq!(at(10_000), "a.cedar:4:2");
    }

    #[test]
    fn invalid_shows_the_first_diagnostic_and_a_count() {
        let diagnostic = |line| Diagnostic {
            location: Location {
                file: "a.cedar".into(),
                line,
                column: 2,
            },
            policy: None,
            message: "unexpected token `x`".into(),
            help: None,
        };
        let one = PolicyError::Invalid(vec![diagnostic(1)]);
        assert_eq!(one.to_string(), "a.cedar:1:2: unexpected token `x`");
        let two = PolicyError::Invalid(vec![diagnostic(1), diagnostic(7)]);
        assert_eq!(
            two.to_string(),
            "a.cedar:1:2: unexpected token `x` (and 1 more)"
        );
        assert_eq!(two.diagnostics().len(), 2);
    }
}
