//! Runs the selected cases against one endpoint: checks the endpoint answers
//! at all (else a harness error), skips cases whose row or fixtures are
//! absent, runs the rest in order, and applies the expected failures.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use regex::Regex;

use crate::cases::{self, Case, Ctx, Outcome};
use crate::expected::{ExpectedFailures, ExpectedFailuresError};
use crate::fixtures::{Fixtures, FixturesError};
use crate::http::{Endpoint, HttpError, exchange};
use crate::report::{CaseReport, Report, Verdict};
use crate::table::{ErrorTable, RowId, TableError};

/// A harness error: the run could not be made (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The error table did not load.
    #[error(transparent)]
    Table(#[from] TableError),
    /// The fixtures did not load.
    #[error(transparent)]
    Fixtures(#[from] FixturesError),
    /// The expected-failures file did not load.
    #[error(transparent)]
    ExpectedFailures(#[from] ExpectedFailuresError),
    /// `--filter` is not a regular expression.
    #[error("invalid filter: {0}")]
    Filter(#[from] regex::Error),
    /// The endpoint URL is unusable.
    #[error(transparent)]
    Endpoint(HttpError),
    /// Nothing answers at the endpoint.
    #[error("endpoint `{0}` is unreachable: {1}")]
    Unreachable(String, HttpError),
    /// The command line is incomplete.
    #[error("{0}")]
    Usage(String),
}

/// What to run, against what.
#[derive(Debug, Clone)]
pub struct Config {
    /// `http(s)://host:port` of the S3 endpoint.
    pub endpoint: String,
    /// What the deployment provides.
    pub fixtures: Fixtures,
    /// The table the answers are judged against.
    pub table: ErrorTable,
    /// Runs only cases whose name or row matches.
    pub filter: Option<Regex>,
    /// Leaves out cases whose name or row matches.
    pub exclude: Option<Regex>,
    /// Cases known to fail, with reasons.
    pub expected_failures: ExpectedFailures,
    /// Prometheus text URL; overrides `fixtures.metrics_url`.
    pub metrics_url: Option<String>,
    /// Timeout of each request.
    pub timeout: Duration,
    /// TLS settings for `https://` endpoints (default: the system roots).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Config {
    /// A configuration with no filter, no expected failures, the fixtures'
    /// metrics URL and a 10 s timeout.
    pub fn new(endpoint: impl Into<String>, fixtures: Fixtures, table: ErrorTable) -> Self {
        Self {
            endpoint: endpoint.into(),
            fixtures,
            table,
            filter: None,
            exclude: None,
            expected_failures: ExpectedFailures::default(),
            metrics_url: None,
            timeout: Duration::from_secs(10),
            tls: None,
        }
    }
}

/// The cases `filter` selects and `exclude` does not (each by name or
/// row), in run order.
pub fn selected(filter: Option<&Regex>, exclude: Option<&Regex>) -> Vec<&'static Case> {
    let matches =
        |re: &Regex, case: &Case| re.is_match(case.name) || re.is_match(&case.row.to_string());
    cases::all()
        .into_iter()
        .filter(|c| filter.is_none_or(|re| matches(re, c)))
        .filter(|c| !exclude.is_some_and(|re| matches(re, c)))
        .collect()
}

/// Every case name (for validating expected-failures files).
pub fn case_names() -> Vec<&'static str> {
    cases::all().iter().map(|c| c.name).collect()
}

/// Runs the suite. `Err` is a harness error; failing cases are in the report.
pub fn run(config: &Config) -> Result<Report, Error> {
    let endpoint =
        Endpoint::parse(&config.endpoint, config.tls.clone()).map_err(Error::Endpoint)?;
    let probe = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nUser-Agent: cedargate-conformance/0.1\r\nConnection: close\r\n\r\n",
        endpoint.authority
    );
    exchange(&endpoint, probe.as_bytes(), false, config.timeout)
        .map_err(|e| Error::Unreachable(config.endpoint.clone(), e))?;
    let run_id = run_id();
    let metrics_url = config
        .metrics_url
        .as_deref()
        .or(config.fixtures.metrics_url.as_deref());
    let ctx = Ctx {
        endpoint: &endpoint,
        table: &config.table,
        fixtures: &config.fixtures,
        metrics_url,
        timeout: config.timeout,
        run_id: &run_id,
    };
    let cases = selected(config.filter.as_ref(), config.exclude.as_ref())
        .into_iter()
        .map(|case| {
            let mut report = run_case(&ctx, case);
            config.expected_failures.apply(&mut report);
            report
        })
        .collect();
    Ok(Report {
        endpoint: config.endpoint.clone(),
        profile: config.table.profile.clone(),
        cases,
    })
}

fn run_case(ctx: &Ctx<'_>, case: &Case) -> CaseReport {
    let outcome = if !ctx.table.has_row(case.row) {
        Outcome::skip(format!("the table has no row `{}`", case.row))
    } else if let Some(missing) = case.needs.iter().find(|n| !ctx.fixtures.has(n)) {
        Outcome::skip(format!("missing fixture `{missing}`"))
    } else {
        (case.run)(ctx).unwrap_or_else(|stop| stop)
    };
    let expected = outcome
        .expected
        .clone()
        .unwrap_or_else(|| expected_text(ctx.table, case.row));
    CaseReport {
        case: case.name.to_owned(),
        row: case.row.to_string(),
        expected,
        got: if outcome.verdict == Verdict::Skip {
            "-".into()
        } else {
            outcome.got
        },
        verdict: outcome.verdict,
        message: outcome.problems.join("\n"),
    }
}

fn expected_text(table: &ErrorTable, row: RowId) -> String {
    match table.expected(row) {
        Some(expected) => expected.to_string(),
        None => "-".into(),
    }
}

/// A short id unique to this run, used in object keys and probe buckets.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{:012x}", mixed & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_names_and_rows() {
        let all = selected(None, None);
        assert!(all.len() > 40);
        let re = Regex::new("^auth\\.").unwrap();
        let auth = selected(Some(&re), None);
        assert!(auth.iter().all(|c| c.name.starts_with("auth.")));
        assert_eq!(auth.len(), 10);
        let re = Regex::new("^s3\\.AccessDenied$").unwrap();
        let names: Vec<_> = selected(Some(&re), None).iter().map(|c| c.name).collect();
        assert_eq!(names, ["presign.expired", "anonymous.no_credentials"]);
        let out = Regex::new("^presign\\.").unwrap();
        let names: Vec<_> = selected(Some(&re), Some(&out))
            .iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["anonymous.no_credentials"]);
        assert_eq!(selected(None, Some(&out)).len(), all.len() - 1);
        let re = Regex::new("nothing-matches-this").unwrap();
        assert!(selected(Some(&re), None).is_empty());
    }

    #[test]
    fn case_names_are_unique() {
        let mut names = case_names();
        let before = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn run_ids_are_bucket_safe() {
        let id = run_id();
        assert_eq!(id.len(), 12);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
