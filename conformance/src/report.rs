//! The result of a run: one [`CaseReport`] per case, a [`Summary`], and the
//! exit code the CLI derives from it.

use std::fmt;

use serde::Serialize;

/// How one case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The deployment answered as the table says.
    Pass,
    /// It did not.
    Fail,
    /// The case could not run (a fixture or table row is missing).
    Skip,
    /// It failed, and the expected-failures file says why.
    #[serde(rename = "XFAIL")]
    XFail,
    /// It passed although the expected-failures file lists it: a stale
    /// entry, counted as a failure.
    #[serde(rename = "XPASS")]
    XPass,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Skip => "SKIP",
            Self::XFail => "XFAIL",
            Self::XPass => "XPASS",
        })
    }
}

/// One case's line in the report.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// The case name, e.g. `auth.bad_signature`.
    pub case: String,
    /// The table row it proves, e.g. `auth.bad_signature`.
    pub row: String,
    /// What the table expects, e.g. `401 SignatureDoesNotMatch`.
    pub expected: String,
    /// What came back, e.g. `200 -`.
    pub got: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why it failed or skipped (empty on a plain pass).
    pub message: String,
}

/// Counts by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// PASS.
    pub passed: usize,
    /// FAIL plus XPASS.
    pub failed: usize,
    /// SKIP plus XFAIL.
    pub skipped: usize,
    /// XFAIL (also counted in `skipped`).
    pub expected_failures: usize,
    /// XPASS (also counted in `failed`).
    pub unexpected_passes: usize,
}

impl Summary {
    /// The line CI reads: exactly `N passed, N failed, N skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// A whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The endpoint that was checked.
    pub endpoint: String,
    /// The table profile that was expected.
    pub profile: String,
    /// One entry per selected case, in run order.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// Counts the verdicts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for case in &self.cases {
            match case.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail => s.failed += 1,
                Verdict::Skip => s.skipped += 1,
                Verdict::XFail => {
                    s.skipped += 1;
                    s.expected_failures += 1;
                }
                Verdict::XPass => {
                    s.failed += 1;
                    s.unexpected_passes += 1;
                }
            }
        }
        s
    }

    /// 0 when nothing failed (skips and expected failures aside), else 1.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.summary().failed > 0)
    }

    /// The report for case `name`.
    pub fn case(&self, name: &str) -> Option<&CaseReport> {
        self.cases.iter().find(|c| c.case == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, verdict: Verdict) -> CaseReport {
        CaseReport {
            case: name.into(),
            row: "s3.NoSuchKey".into(),
            expected: "404 NoSuchKey".into(),
            got: "404 NoSuchKey".into(),
            verdict,
            message: String::new(),
        }
    }

    #[test]
    fn summary_counts_xfail_as_skipped_and_xpass_as_failed() {
        let report = Report {
            cases: vec![
                case("a", Verdict::Pass),
                case("b", Verdict::Fail),
                case("c", Verdict::Skip),
                case("d", Verdict::XFail),
                case("e", Verdict::XPass),
            ],
            ..Report::default()
        };
        let s = report.summary();
        assert_eq!(s.line(), "1 passed, 2 failed, 2 skipped");
        assert_eq!((s.expected_failures, s.unexpected_passes), (1, 1));
        assert_eq!(report.exit_code(), 1);
    }

    #[test]
    fn skips_and_xfails_exit_zero() {
        let report = Report {
            cases: vec![
                case("a", Verdict::Pass),
                case("c", Verdict::Skip),
                case("d", Verdict::XFail),
            ],
            ..Report::default()
        };
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.summary().line(), "1 passed, 0 failed, 2 skipped");
    }
}
