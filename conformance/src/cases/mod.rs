//! The cases: each provokes one row of the error table on a black-box
//! deployment and judges the answer against the loaded table.
//!
//! A [`Case`] names its row and the fixtures it needs; the runner skips it
//! when a fixture or the row is absent, so a missing fixture is never a PASS.
//! Cases are grouped by area, one file each, and run in this order (the
//! rate-limit cases last, because they exhaust a budget).

use std::time::{Duration, SystemTime};

use crate::check;
use crate::fixtures::{Credential, Fixtures};
use crate::http::{Endpoint, Response, exchange};
use crate::report::Verdict;
use crate::request::{Payload, S3Request};
use crate::table::{ErrorTable, RowId};

mod access;
mod auth;
mod backend;
mod limits;
mod objects;
mod requests;
mod sts;
mod wire;

/// One conformance case.
#[derive(Debug)]
pub struct Case {
    /// Unique name, `area.what`, e.g. `auth.bad_signature`.
    pub name: &'static str,
    /// The table row it proves.
    pub row: RowId,
    /// Dotted fixture paths it needs (`a|b`: either).
    pub needs: &'static [&'static str],
    /// What it sends.
    pub about: &'static str,
    pub(crate) run: fn(&Ctx<'_>) -> Step,
}

/// Every case, in run order.
pub fn all() -> Vec<&'static Case> {
    [
        wire::CASES,
        auth::CASES,
        requests::CASES,
        objects::CASES,
        access::CASES,
        backend::CASES,
        sts::CASES,
        limits::CASES,
    ]
    .iter()
    .flat_map(|cases| cases.iter())
    .collect()
}

/// What a case found. `Err` in a [`Step`] ends the case early (a skip, or a
/// failure such as a transport error) and is reported the same way.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// PASS, FAIL or SKIP.
    pub verdict: Verdict,
    /// Overrides the table's expectation in the report (wire rules).
    pub expected: Option<String>,
    /// What came back, e.g. `403 AccessDenied`.
    pub got: String,
    /// Every deviation found (empty on a pass), or the skip reason.
    pub problems: Vec<String>,
}

/// A case's result; see [`Outcome`].
pub type Step = Result<Outcome, Outcome>;

impl Outcome {
    /// A skip with its reason.
    pub fn skip(reason: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Skip,
            expected: None,
            got: "-".into(),
            problems: vec![reason.into()],
        }
    }

    /// A failure with what came back and why.
    pub fn fail(got: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Fail,
            expected: None,
            got: got.into(),
            problems: vec![problem.into()],
        }
    }

    /// PASS when `problems` is empty, else FAIL.
    pub fn judged(got: impl Into<String>, problems: Vec<String>) -> Self {
        let verdict = if problems.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        Self {
            verdict,
            expected: None,
            got: got.into(),
            problems,
        }
    }

    /// Sets the expectation shown in the report.
    #[must_use]
    pub fn expecting(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// Adds a problem (turning a PASS into a FAIL).
    pub fn add_problem(&mut self, problem: String) {
        if self.verdict == Verdict::Pass {
            self.verdict = Verdict::Fail;
        }
        self.problems.push(problem);
    }
}

/// What cases share during a run.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The endpoint under test.
    pub endpoint: &'a Endpoint,
    /// The loaded error table.
    pub table: &'a ErrorTable,
    /// The fixtures.
    pub fixtures: &'a Fixtures,
    /// Prometheus text URL, when metrics are checked.
    pub metrics_url: Option<&'a str>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Unique per run: object keys the suite writes start with it.
    pub run_id: &'a str,
}

impl Ctx<'_> {
    /// Sends `request` as built.
    pub fn send(&self, request: &S3Request) -> Result<Response, Outcome> {
        let head = request.method == "HEAD";
        self.send_raw(&request.to_wire(self.endpoint), head)
    }

    /// Sends raw bytes.
    pub fn send_raw(&self, bytes: &[u8], head: bool) -> Result<Response, Outcome> {
        exchange(self.endpoint, bytes, head, self.timeout)
            .map_err(|e| Outcome::fail("no response", format!("transport: {e}")))
    }

    /// Signs `request` now with `credential` (hash of the actual body) and sends it.
    pub fn send_signed(
        &self,
        request: S3Request,
        credential: &Credential,
    ) -> Result<Response, Outcome> {
        let request = self.signed(request, credential, SystemTime::now(), &Payload::Body)?;
        self.send(&request)
    }

    /// Signs `request` in its headers.
    pub fn signed(
        &self,
        mut request: S3Request,
        credential: &Credential,
        time: SystemTime,
        payload: &Payload,
    ) -> Result<S3Request, Outcome> {
        request
            .sign(
                self.endpoint,
                credential,
                self.fixtures.region(),
                time,
                payload,
            )
            .map_err(|e| Outcome::fail("-", format!("harness: {e}")))?;
        Ok(request)
    }

    /// A key unique to this run: `conformance-<run id>/<name>`.
    pub fn key(&self, name: &str) -> String {
        format!("conformance-{}/{name}", self.run_id)
    }

    /// A bucket name that no deployment is expected to have.
    pub fn probe_bucket(&self) -> String {
        format!("conformance-probe-{}", self.run_id)
    }

    /// The `full` credential.
    pub fn full(&self) -> Result<&Credential, Outcome> {
        need(self.fixtures.credentials.full.as_ref(), "credentials.full")
    }

    /// The `main` bucket.
    pub fn main_bucket(&self) -> Result<&str, Outcome> {
        need(self.fixtures.buckets.main.as_deref(), "buckets.main")
    }

    /// Judges an S3 error answer against `row` (status, code, wire shape).
    pub fn judge(
        &self,
        row: RowId,
        response: &Response,
        request: &S3Request,
        bucket: Option<&str>,
    ) -> Step {
        check::judge(self, row, response, &check::Target::of(request, bucket))
    }

    /// Puts `body` at `bucket/key` with the `full` credential (setup step).
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<Response, Outcome> {
        let response = self.send_signed(
            S3Request::new("PUT", bucket, Some(key)).body(body),
            self.full()?,
        )?;
        if response.status != 200 {
            return Err(Outcome::fail(
                format!("{} {}", response.status, check::code_of(&response)),
                format!("setup: PUT /{bucket}/{key} answered {}", response.status),
            ));
        }
        Ok(response)
    }

    /// Deletes `bucket/key` with the `full` credential, ignoring the answer.
    pub fn cleanup(&self, bucket: &str, key: &str) {
        if let Ok(credential) = self.full() {
            let _ = self.send_signed(S3Request::new("DELETE", bucket, Some(key)), credential);
        }
    }
}

/// `Ok(value)` or a skip naming the missing fixture.
pub fn need<T>(value: Option<T>, fixture: &str) -> Result<T, Outcome> {
    value.ok_or_else(|| Outcome::skip(format!("missing fixture `{fixture}`")))
}

#[cfg(test)]
#[path = "coverage_tests.rs"]
mod coverage_tests;
