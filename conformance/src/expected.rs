//! The expected-failures file: cases a target is known to fail, each with a
//! reason.
//!
//! ```toml
//! [[expected_failure]]
//! case = "backend.not_implemented"
//! reason = "the gcs backend gained multipart support; fixture not updated yet"
//! ```
//!
//! An entry without a reason, or naming no known case, is a harness error.
//! A listed case that fails is XFAIL; one that passes is XPASS and counts as
//! a failure, so stale entries get noticed; one that skips stays SKIP.

use std::path::Path;

use serde::Deserialize;

use crate::report::{CaseReport, Verdict};

/// The file failed to load or validate.
#[derive(Debug, thiserror::Error)]
pub enum ExpectedFailuresError {
    /// The file could not be read.
    #[error("cannot read expected failures `{0}`: {1}")]
    Read(String, std::io::Error),
    /// The TOML did not parse.
    #[error("invalid expected failures `{0}`: {1}")]
    Parse(String, toml::de::Error),
    /// An entry has no reason.
    #[error("expected failure `{0}` has no reason")]
    NoReason(String),
    /// An entry names no known case.
    #[error("expected failure `{0}` names no known case")]
    UnknownCase(String),
}

/// One entry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFailure {
    /// The case name.
    pub case: String,
    /// Why the target fails it.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    expected_failure: Vec<ExpectedFailure>,
}

/// A validated set of expected failures.
#[derive(Debug, Clone, Default)]
pub struct ExpectedFailures {
    entries: Vec<(String, String)>,
}

impl ExpectedFailures {
    /// Reads and validates a file against the known case names.
    pub fn from_file(path: &Path, known: &[&str]) -> Result<Self, ExpectedFailuresError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ExpectedFailuresError::Read(name.clone(), e))?;
        Self::from_str_named(&text, &name, known)
    }

    /// Parses and validates text; `name` appears in errors.
    pub fn from_str_named(
        text: &str,
        name: &str,
        known: &[&str],
    ) -> Result<Self, ExpectedFailuresError> {
        let file: File =
            toml::from_str(text).map_err(|e| ExpectedFailuresError::Parse(name.into(), e))?;
        let mut entries = Vec::new();
        for entry in file.expected_failure {
            let reason = entry.reason.unwrap_or_default();
            if reason.trim().is_empty() {
                return Err(ExpectedFailuresError::NoReason(entry.case));
            }
            if !known.contains(&entry.case.as_str()) {
                return Err(ExpectedFailuresError::UnknownCase(entry.case));
            }
            entries.push((entry.case, reason));
        }
        Ok(Self { entries })
    }

    /// The reason `case` is expected to fail, if listed.
    pub fn reason(&self, case: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(c, _)| c == case)
            .map(|(_, r)| r.as_str())
    }

    /// Turns FAIL into XFAIL and PASS into XPASS for listed cases.
    pub fn apply(&self, report: &mut CaseReport) {
        let Some(reason) = self.reason(&report.case) else {
            return;
        };
        match report.verdict {
            Verdict::Fail => {
                report.verdict = Verdict::XFail;
                report.message = format!("expected failure ({reason}): {}", report.message);
            }
            Verdict::Pass => {
                report.verdict = Verdict::XPass;
                report.message = format!(
                    "listed as an expected failure ({reason}) but passed: remove the entry"
                );
            }
            Verdict::Skip | Verdict::XFail | Verdict::XPass => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["a", "b", "c"];

    fn case(name: &str, verdict: Verdict) -> CaseReport {
        CaseReport {
            case: name.into(),
            row: "s3.X".into(),
            expected: String::new(),
            got: String::new(),
            verdict,
            message: "m".into(),
        }
    }

    #[test]
    fn fail_becomes_xfail_pass_becomes_xpass_skip_stays() {
        let text = "[[expected_failure]]\ncase = 'a'\nreason = 'r1'\n\
                    [[expected_failure]]\ncase = 'b'\nreason = 'r2'\n\
                    [[expected_failure]]\ncase = 'c'\nreason = 'r3'\n";
        let ef = ExpectedFailures::from_str_named(text, "t", KNOWN).unwrap();
        let mut a = case("a", Verdict::Fail);
        let mut b = case("b", Verdict::Pass);
        let mut c = case("c", Verdict::Skip);
        let mut d = case("d", Verdict::Fail);
        for r in [&mut a, &mut b, &mut c, &mut d] {
            ef.apply(r);
        }
        assert_eq!(a.verdict, Verdict::XFail);
        assert!(a.message.contains("r1"));
        assert_eq!(b.verdict, Verdict::XPass);
        assert_eq!(c.verdict, Verdict::Skip);
        assert_eq!(d.verdict, Verdict::Fail);
    }

    #[test]
    fn an_entry_without_reason_is_an_error() {
        let err =
            ExpectedFailures::from_str_named("[[expected_failure]]\ncase = 'a'\n", "t", KNOWN);
        assert!(matches!(err, Err(ExpectedFailuresError::NoReason(c)) if c == "a"));
        let err = ExpectedFailures::from_str_named(
            "[[expected_failure]]\ncase = 'a'\nreason = '  '\n",
            "t",
            KNOWN,
        );
        assert!(matches!(err, Err(ExpectedFailuresError::NoReason(_))));
    }

    #[test]
    fn an_unknown_case_is_an_error() {
        let err = ExpectedFailures::from_str_named(
            "[[expected_failure]]\ncase = 'zzz'\nreason = 'r'\n",
            "t",
            KNOWN,
        );
        assert!(matches!(err, Err(ExpectedFailuresError::UnknownCase(_))));
        assert!(ExpectedFailures::from_str_named("", "t", KNOWN).is_ok());
    }
}
