//! The error table as data (`tables/*.toml`): which status and code each row
//! of docs/errors.md answers with under one profile.
//!
//! Cases name a [`RowId`]; the expected response comes from the loaded
//! table, so the same cases judge the `documented` profile, the `aws`
//! profile, or a deployment's own table file. Auth-failure, scope and
//! anonymous rows answer with an S3 row (`response = "InvalidAccessKeyId"`),
//! so a profile changes a status in one place.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The built-in `documented` profile.
pub const DOCUMENTED: &str = include_str!("../tables/documented.toml");
/// The built-in `aws` profile.
pub const AWS: &str = include_str!("../tables/aws.toml");

/// A table that failed to load.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be read.
    #[error("cannot read table `{0}`: {1}")]
    Read(String, std::io::Error),
    /// The TOML did not parse into a table.
    #[error("invalid table `{0}`: {1}")]
    Parse(String, toml::de::Error),
    /// The table parsed but is inconsistent.
    #[error("invalid table `{0}`: {1}")]
    Invalid(String, String),
}

/// One loaded error table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorTable {
    /// Profile name, e.g. `documented`.
    pub profile: String,
    /// Generic-5xx rules and metric names.
    pub wire_policy: WirePolicy,
    /// Metric names (without prefix) the suite reads when given a metrics URL.
    pub metrics: MetricNames,
    /// The S3 error rows.
    #[serde(default)]
    pub s3: Vec<S3Row>,
    /// The auth-failure reasons.
    #[serde(default)]
    pub auth_failure: Vec<ReasonRow>,
    /// The scope-violation row.
    pub scope_violation: Option<ScopeRow>,
    /// The anonymous-reject reasons.
    #[serde(default)]
    pub anonymous_reject: Vec<ReasonRow>,
    /// The STS error rows.
    #[serde(default)]
    pub sts: Vec<StsRow>,
    /// The wire-shape rules.
    #[serde(default)]
    pub wire: Vec<WireRow>,
}

/// How 5xx messages must read.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WirePolicy {
    /// The generic message every 5xx carries.
    pub generic_5xx_message: String,
    /// True: a 5xx message must equal it; false: it must at least not leak
    /// host names, ports, addresses or fixture leak markers.
    pub generic_5xx_exact: bool,
}

/// Metric names, matched against any prefix (`<p>_<name>`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricNames {
    /// Counter with label `reason` for auth failures.
    pub auth_failure: String,
    /// Counter of scope violations.
    pub scope_violation: String,
    /// Counter with label `reason` for anonymous rejects.
    pub anonymous_reject: String,
}

/// One S3 error row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3Row {
    /// Row name as in errors.md (`BadGateway` even where the code differs).
    pub row: String,
    /// Expected HTTP status.
    pub status: u16,
    /// Expected `<Code>`; absent for rows answered without a body (304).
    pub code: Option<String>,
    /// Whether the answer carries an error body.
    #[serde(default = "yes")]
    pub body: bool,
    /// Whether the answer must carry `Retry-After` (integer seconds).
    #[serde(default)]
    pub retry_after: bool,
    /// The cause, from errors.md.
    pub cause: String,
}

fn yes() -> bool {
    true
}

/// An auth-failure or anonymous-reject reason and the S3 row it answers with.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonRow {
    /// The metric label value, e.g. `bad_signature`.
    pub reason: String,
    /// The `[[s3]]` row it answers with.
    pub response: String,
    /// The meaning, from errors.md.
    pub meaning: String,
}

/// The scope-violation row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRow {
    /// The `[[s3]]` row it answers with.
    pub response: String,
    /// The meaning, from errors.md.
    pub meaning: String,
}

/// One STS error row (`<ErrorResponse>` shape).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StsRow {
    /// Row name (the code, as in errors.md).
    pub row: String,
    /// Expected HTTP status.
    pub status: u16,
    /// Expected `<Code>`.
    pub code: String,
    /// Expected `<Type>`: `Sender` or `Receiver`.
    #[serde(rename = "type")]
    pub error_type: String,
    /// When it happens, from errors.md.
    pub when: String,
}

/// One wire-shape rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WireRow {
    /// Rule name, e.g. `escaping`.
    pub rule: String,
    /// What the rule requires.
    pub description: String,
}

/// The row of the table a case proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowId {
    /// An `[[s3]]` row by name.
    S3(&'static str),
    /// An `[[auth_failure]]` row by reason.
    Auth(&'static str),
    /// The `[scope_violation]` row.
    Scope,
    /// An `[[anonymous_reject]]` row by reason.
    Anonymous(&'static str),
    /// An `[[sts]]` row by name.
    Sts(&'static str),
    /// A `[[wire]]` rule by name.
    Wire(&'static str),
}

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::S3(r) => write!(f, "s3.{r}"),
            Self::Auth(r) => write!(f, "auth.{r}"),
            Self::Scope => write!(f, "scope.violation"),
            Self::Anonymous(r) => write!(f, "anonymous.{r}"),
            Self::Sts(r) => write!(f, "sts.{r}"),
            Self::Wire(r) => write!(f, "wire.{r}"),
        }
    }
}

/// What a row expects on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// HTTP status.
    pub status: u16,
    /// Error code (`None`: no body).
    pub code: Option<String>,
    /// Whether an error body is expected.
    pub body: bool,
    /// Whether `Retry-After` is required.
    pub retry_after: bool,
    /// For STS rows, the expected `<Type>`.
    pub sts_type: Option<String>,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} {code}", self.status),
            None => write!(f, "{} (no body)", self.status),
        }
    }
}

impl ErrorTable {
    /// Loads `documented`, `aws`, or a table file path.
    pub fn load(name_or_path: &str) -> Result<Self, TableError> {
        match name_or_path {
            "documented" => Self::from_str_named(DOCUMENTED, "documented"),
            "aws" => Self::from_str_named(AWS, "aws"),
            path => Self::from_file(Path::new(path)),
        }
    }

    /// Loads and validates a table file.
    pub fn from_file(path: &Path) -> Result<Self, TableError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TableError::Read(name.clone(), e))?;
        Self::from_str_named(&text, &name)
    }

    /// Parses and validates table text; `name` appears in errors.
    pub fn from_str_named(text: &str, name: &str) -> Result<Self, TableError> {
        let table: Self = toml::from_str(text).map_err(|e| TableError::Parse(name.into(), e))?;
        table
            .validate()
            .map_err(|e| TableError::Invalid(name.into(), e))
    }

    fn validate(self) -> Result<Self, String> {
        let mut seen = HashSet::new();
        for row in &self.s3 {
            if !seen.insert(row.row.as_str()) {
                return Err(format!("s3 row `{}` appears twice", row.row));
            }
            if !(100..=599).contains(&row.status) {
                return Err(format!("s3 row `{}` has status {}", row.row, row.status));
            }
            if row.body && row.code.as_deref().is_none_or(str::is_empty) {
                return Err(format!("s3 row `{}` has a body but no code", row.row));
            }
        }
        let responses = self
            .auth_failure
            .iter()
            .chain(&self.anonymous_reject)
            .map(|r| (r.reason.as_str(), r.response.as_str()))
            .chain(
                self.scope_violation
                    .iter()
                    .map(|s| ("scope", s.response.as_str())),
            );
        for (reason, response) in responses {
            if !seen.contains(response) {
                return Err(format!(
                    "`{reason}` answers with unknown s3 row `{response}`"
                ));
            }
        }
        for row in &self.sts {
            if !(100..=599).contains(&row.status) {
                return Err(format!("sts row `{}` has status {}", row.row, row.status));
            }
        }
        Ok(self)
    }

    /// The S3 row named `name`.
    pub fn s3_row(&self, name: &str) -> Option<&S3Row> {
        self.s3.iter().find(|r| r.row == name)
    }

    /// What `row` expects, or `None` when the table has no such row or the
    /// row is a wire rule (which has no single status).
    pub fn expected(&self, row: RowId) -> Option<Expected> {
        let s3 = |name: &str| {
            self.s3_row(name).map(|r| Expected {
                status: r.status,
                code: r.code.clone(),
                body: r.body,
                retry_after: r.retry_after,
                sts_type: None,
            })
        };
        let reason = |rows: &[ReasonRow], reason: &str| {
            rows.iter()
                .find(|r| r.reason == reason)
                .and_then(|r| s3(&r.response))
        };
        match row {
            RowId::S3(name) => s3(name),
            RowId::Auth(r) => reason(&self.auth_failure, r),
            RowId::Anonymous(r) => reason(&self.anonymous_reject, r),
            RowId::Scope => self.scope_violation.as_ref().and_then(|s| s3(&s.response)),
            RowId::Sts(name) => self.sts.iter().find(|r| r.row == name).map(|r| Expected {
                status: r.status,
                code: Some(r.code.clone()),
                body: true,
                retry_after: false,
                sts_type: Some(r.error_type.clone()),
            }),
            RowId::Wire(_) => None,
        }
    }

    /// Whether the table has `row`.
    pub fn has_row(&self, row: RowId) -> bool {
        match row {
            RowId::Wire(rule) => self.wire.iter().any(|w| w.rule == rule),
            other => self.expected(other).is_some(),
        }
    }

    /// The counter a row increments: metric name (without prefix) and labels.
    pub fn metric(&self, row: RowId) -> Option<(String, Vec<(String, String)>)> {
        let reason = |r: &str| vec![("reason".to_owned(), r.to_owned())];
        match row {
            RowId::Auth(r) => Some((self.metrics.auth_failure.clone(), reason(r))),
            RowId::Anonymous(r) => Some((self.metrics.anonymous_reject.clone(), reason(r))),
            RowId::Scope => Some((self.metrics.scope_violation.clone(), Vec::new())),
            _ => None,
        }
    }

    /// Every row of the table, as the ids cases name.
    pub fn row_names(&self) -> Vec<String> {
        let mut rows: Vec<String> = self.s3.iter().map(|r| format!("s3.{}", r.row)).collect();
        rows.extend(
            self.auth_failure
                .iter()
                .map(|r| format!("auth.{}", r.reason)),
        );
        rows.extend(
            self.scope_violation
                .iter()
                .map(|_| "scope.violation".to_owned()),
        );
        rows.extend(
            self.anonymous_reject
                .iter()
                .map(|r| format!("anonymous.{}", r.reason)),
        );
        rows.extend(self.sts.iter().map(|r| format!("sts.{}", r.row)));
        rows.extend(self.wire.iter().map(|r| format!("wire.{}", r.rule)));
        rows
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
