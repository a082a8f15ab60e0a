//! `cedargate policy test FILE`: run a `tests.toml` table of requests
//! against a policy directory and compare each decision with the expected
//! one. The format is documented in the crate README ("Testing policies").

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::explain::decide_request;
use super::request::{ContextOverrides, ExplainRequest};
use crate::decide::Decision;
use crate::schema::ACTION_PREFIX;
use crate::snapshot::PolicySnapshot;

/// The keys of a `[[case]]` that describe the expectation; every other key
/// describes the request.
const EXPECTATION_KEYS: [&str; 6] = ["name", "expect", "error", "reason", "policies", "denied_by"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    /// The policy directory, relative to the test file.
    #[serde(default = "here")]
    policies: PathBuf,
    #[serde(default)]
    defaults: ContextOverrides,
    #[serde(default, rename = "case")]
    cases: Vec<toml::Table>,
}

fn here() -> PathBuf {
    PathBuf::from(".")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    name: String,
    expect: Expect,
    error: Option<String>,
    reason: Option<String>,
    policies: Option<Vec<String>>,
    /// The implied action expected to deny (`s3:PutObjectTagging`).
    denied_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expect {
    Allow,
    Deny,
}

/// One case's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case's `name`.
    pub name: String,
    /// Whether the decision matched every expectation.
    pub passed: bool,
    /// The expectation, as text: `deny EntityTooLarge (reason quota)`.
    pub expected: String,
    /// The decision, as text, with its deciding policies.
    pub got: String,
}

/// The outcome of a test file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    /// The test file.
    pub file: PathBuf,
    /// The policy directory it names.
    pub policy_dir: PathBuf,
    /// Why nothing could run (unreadable file, invalid policies); counts
    /// as one failure.
    pub error: Option<String>,
    /// Each case, in file order.
    pub cases: Vec<CaseResult>,
}

impl TestReport {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|case| case.passed).count()
    }

    /// Cases that failed, plus one if the file could not run at all. The
    /// CLI exits non-zero when this is above 0.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|case| !case.passed).count() + usize::from(self.error.is_some())
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} (policies in {})",
            self.file.display(),
            self.policy_dir.display()
        )?;
        if let Some(error) = &self.error {
            writeln!(f, "  error: {error}")?;
        }
        for case in &self.cases {
            if case.passed {
                writeln!(f, "  PASS {}", case.name)?;
            } else {
                writeln!(f, "  FAIL {}", case.name)?;
                writeln!(f, "       expected: {}", case.expected)?;
                writeln!(f, "       got:      {}", case.got)?;
            }
        }
        write!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Runs `tests_file` against the policies in `policy_dir`, or, when
/// `policy_dir` is `None`, in the directory the file names with
/// `policies = "..."` (relative to the file; default: the file's own
/// directory).
pub fn run_test_file(policy_dir: Option<&Path>, tests_file: &Path) -> TestReport {
    let mut report = TestReport {
        file: tests_file.to_owned(),
        policy_dir: policy_dir.map(Path::to_owned).unwrap_or_default(),
        error: None,
        cases: Vec::new(),
    };
    let parsed = std::fs::read_to_string(tests_file)
        .map_err(|error| format!("cannot read `{}`: {error}", tests_file.display()))
        .and_then(|text| {
            toml::from_str::<TestFile>(&text)
                .map_err(|error| format!("invalid `{}`: {error}", tests_file.display()))
        });
    let file = match parsed {
        Ok(file) => file,
        Err(error) => {
            report.error = Some(error);
            return report;
        }
    };
    if policy_dir.is_none() {
        let base = tests_file.parent().unwrap_or_else(|| Path::new("."));
        report.policy_dir = if file.policies == Path::new(".") {
            base.to_owned()
        } else {
            base.join(&file.policies)
        };
    }
    let snapshot = match PolicySnapshot::from_dir(&report.policy_dir, 1) {
        Ok(snapshot) => snapshot,
        Err(error) => {
            report.error = Some(error.to_string());
            return report;
        }
    };
    report.cases = file
        .cases
        .into_iter()
        .enumerate()
        .map(|(index, case)| run_case(&snapshot, &file.defaults, index, case))
        .collect();
    report
}

fn run_case(
    snapshot: &PolicySnapshot,
    defaults: &ContextOverrides,
    index: usize,
    mut case: toml::Table,
) -> CaseResult {
    let mut expectation = toml::Table::new();
    for key in EXPECTATION_KEYS {
        if let Some(value) = case.remove(key) {
            expectation.insert(key.to_owned(), value);
        }
    }
    let fallback_name = format!("case {}", index + 1);
    let unparsed_name = expectation
        .get("name")
        .and_then(toml::Value::as_str)
        .map_or(fallback_name, str::to_owned);
    let expectation: Result<Expectation, _> = toml::Value::Table(expectation).try_into();
    let request: Result<ExplainRequest, _> = toml::Value::Table(case).try_into();
    let (expectation, request) = match (expectation, request) {
        (Ok(expectation), Ok(request)) => (expectation, request),
        (Err(error), _) | (_, Err(error)) => {
            return CaseResult {
                name: unparsed_name,
                passed: false,
                expected: "a valid case".into(),
                got: format!("invalid case: {error}"),
            };
        }
    };
    let (decision, denied_by) = decide_request(snapshot, &request, defaults);
    let denied_by = denied_by.map(|implied| format!("{ACTION_PREFIX}{}", implied.action));
    let mut got = describe_decision(&decision);
    if let Some(action) = &denied_by {
        got.push_str(&format!(" (denied action {action})"));
    }
    CaseResult {
        passed: matches(&expectation, &decision, denied_by.as_deref()),
        name: expectation.name.clone(),
        expected: describe_expectation(&expectation),
        got,
    }
}

fn matches(expectation: &Expectation, decision: &Decision, denied_by: Option<&str>) -> bool {
    let allowed = expectation.expect == Expect::Allow;
    let code = decision.error_code.as_deref().unwrap_or("AccessDenied");
    let with_prefix = |action: &str| match action.strip_prefix(ACTION_PREFIX) {
        Some(_) => action.to_owned(),
        None => format!("{ACTION_PREFIX}{action}"),
    };
    expectation
        .denied_by
        .as_deref()
        .is_none_or(|expected| Some(with_prefix(expected).as_str()) == denied_by)
        && decision.allowed == allowed
        && expectation
            .error
            .as_deref()
            .is_none_or(|expected| !decision.allowed && expected == code)
        && expectation
            .reason
            .as_deref()
            .is_none_or(|expected| decision.reason.as_deref() == Some(expected))
        && expectation
            .policies
            .as_ref()
            .is_none_or(|expected| sorted(expected) == decision.policies)
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

fn describe_expectation(expectation: &Expectation) -> String {
    let mut text = match expectation.expect {
        Expect::Allow => "allow".to_owned(),
        Expect::Deny => "deny".to_owned(),
    };
    if let Some(code) = &expectation.error {
        text.push_str(&format!(" {code}"));
    }
    if let Some(reason) = &expectation.reason {
        text.push_str(&format!(" (reason {reason})"));
    }
    if let Some(policies) = &expectation.policies {
        text.push_str(&format!(" by [{}]", sorted(policies).join(", ")));
    }
    if let Some(action) = &expectation.denied_by {
        text.push_str(&format!(" (denied action {action})"));
    }
    text
}

/// `allow by [p1, p2]` or `deny EntityTooLarge (reason quota) by [quota]`.
pub(crate) fn describe_decision(decision: &Decision) -> String {
    let mut text = if decision.allowed {
        "allow".to_owned()
    } else {
        format!(
            "deny {}",
            decision.error_code.as_deref().unwrap_or("AccessDenied")
        )
    };
    if let Some(reason) = &decision.reason {
        text.push_str(&format!(" (reason {reason})"));
    }
    text.push_str(&format!(" by [{}]", decision.policies.join(", ")));
    for error in &decision.errors {
        text.push_str(&format!("; error: {error}"));
    }
    text
}
