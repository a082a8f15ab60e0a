//! Judging one answer against a table row: status, code, `Retry-After`, and
//! the wire-shape rules that apply to every error answered (XML declaration,
//! `<Error>` fields, `RequestId` equal to `x-amz-request-id`, `BucketName`,
//! `Resource`, no body on HEAD and 304, generic 5xx messages, no leaks).

use std::sync::LazyLock;

use percent_encoding::percent_decode_str;
use regex::Regex;

use crate::cases::{Ctx, Outcome, Step};
use crate::errxml::{self, ErrorDoc};
use crate::http::Response;
use crate::metrics;
use crate::request::S3Request;
use crate::table::RowId;

/// What the request named, for the fields the error body must echo.
#[derive(Debug, Clone)]
pub struct Target {
    /// The bucket the request named, if any.
    pub bucket: Option<String>,
    /// The encoded request path.
    pub path: String,
    /// Whether the request was a HEAD.
    pub head: bool,
}

impl Target {
    /// The target of `request`, which names `bucket`.
    pub fn of(request: &S3Request, bucket: Option<&str>) -> Self {
        Self {
            bucket: bucket.map(str::to_owned),
            path: request.path.clone(),
            head: request.method == "HEAD",
        }
    }
}

/// The error code in `response`'s body, or `-`.
pub fn code_of(response: &Response) -> String {
    errxml::parse(&response.body)
        .ok()
        .and_then(|d| {
            d.get("Code")
                .or_else(|| d.get("Error/Code"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "-".into())
}

/// `404 NoSuchKey`, `304 (no body)`, `200 -`.
pub fn describe(response: &Response) -> String {
    if response.body.is_empty() && (response.status == 304 || response.status < 400) {
        return format!("{} (no body)", response.status);
    }
    format!("{} {}", response.status, code_of(response))
}

/// Judges an S3 answer against `row` and the wire-shape rules.
pub fn judge(ctx: &Ctx<'_>, row: RowId, response: &Response, target: &Target) -> Step {
    let expected = ctx
        .table
        .expected(row)
        .ok_or_else(|| Outcome::skip(format!("the table has no row `{row}`")))?;
    let mut problems = Vec::new();
    if response.status != expected.status {
        problems.push(format!(
            "status {}, expected {}",
            response.status, expected.status
        ));
    }
    if let Some(code) = &expected.code {
        let got = code_of(response);
        if &got != code && !target.head {
            problems.push(format!("code `{got}`, expected `{code}`"));
        }
    }
    if expected.retry_after {
        match response.header("retry-after") {
            None => problems.push("no Retry-After header".into()),
            Some(v) if v.trim().parse::<u64>().is_err() => {
                problems.push(format!("Retry-After `{v}` is not integer seconds"));
            }
            Some(_) => {}
        }
    }
    problems.extend(wire_problems(ctx, response, target));
    Ok(Outcome::judged(describe(response), problems))
}

/// The wire-shape rules for any answer: meaningful for errors, HEAD and 304.
pub fn wire_problems(ctx: &Ctx<'_>, response: &Response, target: &Target) -> Vec<String> {
    let mut problems = Vec::new();
    let header_id = response.header("x-amz-request-id").unwrap_or("");
    if header_id.is_empty() {
        problems.push("no x-amz-request-id header".into());
    }
    if target.head || response.status == 304 || response.status == 204 {
        if !response.body.is_empty() {
            problems.push(format!(
                "a {} answer to {} carried {} body bytes",
                response.status,
                if target.head { "HEAD" } else { "GET" },
                response.body.len()
            ));
        }
        return problems;
    }
    if response.status < 400 {
        return problems;
    }
    let doc = match errxml::parse(&response.body) {
        Ok(doc) => doc,
        Err(e) => {
            problems.push(format!("the error body is not xml: {e}"));
            return problems;
        }
    };
    if !doc.declaration {
        problems.push("the error body has no xml declaration".into());
    }
    if doc.root != "Error" {
        problems.push(format!("root element `{}`, expected `Error`", doc.root));
    }
    for field in ["Code", "Message", "Resource", "RequestId"] {
        if doc.get(field).is_none() {
            problems.push(format!("no <{field}>"));
        }
    }
    if let Some(id) = doc.get("RequestId")
        && !header_id.is_empty()
        && id != header_id
    {
        problems.push(format!(
            "<RequestId> `{id}` differs from x-amz-request-id `{header_id}`"
        ));
    }
    match (&target.bucket, doc.get("BucketName")) {
        (Some(b), Some(got)) if got != b => {
            problems.push(format!("<BucketName> `{got}`, expected `{b}`"));
        }
        (Some(_), None) => {
            problems.push("no <BucketName> though the request names a bucket".into())
        }
        (None, Some(got)) => problems.push(format!(
            "<BucketName> `{got}` though the request names no bucket"
        )),
        _ => {}
    }
    if let Some(resource) = doc.get("Resource") {
        let decoded = percent_decode_str(&target.path).decode_utf8_lossy();
        if resource != target.path && resource != decoded {
            problems.push(format!(
                "<Resource> `{resource}`, expected the request path `{decoded}`"
            ));
        }
    }
    problems.extend(leak_problems(ctx, response, &doc));
    problems
}

static HOST_PORT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(://|\b\d{1,3}(\.\d{1,3}){3}\b|\b[a-z0-9][a-z0-9.-]*:\d{2,5}\b)").ok()
});

/// Generic-5xx and leak-marker rules for a parsed error body.
pub fn leak_problems(ctx: &Ctx<'_>, response: &Response, doc: &ErrorDoc) -> Vec<String> {
    let mut problems = Vec::new();
    let body = response.body_text();
    for marker in ctx.fixtures.leak_markers.iter().filter(|m| !m.is_empty()) {
        if body.contains(marker.as_str()) {
            problems.push(format!("the error body reveals `{marker}`"));
        }
    }
    if response.status >= 500 {
        let message = doc
            .get("Message")
            .or_else(|| doc.get("Error/Message"))
            .unwrap_or("");
        let policy = &ctx.table.wire_policy;
        if policy.generic_5xx_exact && message != policy.generic_5xx_message {
            problems.push(format!(
                "5xx <Message> `{message}` is not the generic `{}`",
                policy.generic_5xx_message
            ));
        } else if message != policy.generic_5xx_message
            && HOST_PORT.as_ref().is_some_and(|re| re.is_match(message))
        {
            problems.push(format!(
                "5xx <Message> `{message}` reveals an address or port"
            ));
        }
    }
    problems
}

/// Judges an STS answer: status, `<ErrorResponse><Error><Type/><Code/>
/// <Message/></Error><RequestId/></ErrorResponse>`.
pub fn judge_sts(ctx: &Ctx<'_>, row: RowId, response: &Response) -> Step {
    let expected = ctx
        .table
        .expected(row)
        .ok_or_else(|| Outcome::skip(format!("the table has no row `{row}`")))?;
    let mut problems = Vec::new();
    if response.status != expected.status {
        problems.push(format!(
            "status {}, expected {}",
            response.status, expected.status
        ));
    }
    match errxml::parse(&response.body) {
        Err(e) => problems.push(format!("the error body is not xml: {e}")),
        Ok(doc) => {
            if doc.root != "ErrorResponse" {
                problems.push(format!(
                    "root element `{}`, expected `ErrorResponse`",
                    doc.root
                ));
            }
            let code = doc.get("Error/Code").unwrap_or("-");
            if Some(code) != expected.code.as_deref() {
                problems.push(format!(
                    "code `{code}`, expected `{}`",
                    expected.code.as_deref().unwrap_or("")
                ));
            }
            let kind = doc.get("Error/Type").unwrap_or("-");
            if Some(kind) != expected.sts_type.as_deref() {
                problems.push(format!(
                    "<Type> `{kind}`, expected `{}`",
                    expected.sts_type.as_deref().unwrap_or("")
                ));
            }
            for field in ["Error/Message", "RequestId"] {
                if doc.get(field).is_none() {
                    problems.push(format!("no <{field}>"));
                }
            }
            let header = response
                .header("x-amz-request-id")
                .or_else(|| response.header("x-amzn-requestid"));
            if let (Some(h), Some(id)) = (header, doc.get("RequestId"))
                && h != id
            {
                problems.push(format!(
                    "<RequestId> `{id}` differs from the request-id header `{h}`"
                ));
            }
            problems.extend(leak_problems(ctx, response, &doc));
        }
    }
    let got = format!("{} {}", response.status, code_of(response));
    Ok(Outcome::judged(got, problems))
}

/// Runs `step`; when a metrics URL is set and `row` has a counter, also
/// requires that counter to rise by at least 1.
pub fn counted(ctx: &Ctx<'_>, row: RowId, step: impl FnOnce() -> Step) -> Step {
    let (Some(url), Some((name, labels))) = (ctx.metrics_url, ctx.table.metric(row)) else {
        return step();
    };
    let selector = if labels.is_empty() {
        name.clone()
    } else {
        let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{name}{{{}}}", pairs.join(","))
    };
    let before = metrics::scrape(url, ctx.timeout).map(|s| metrics::total(&s, &name, &labels));
    let mut outcome = step()?;
    let after = metrics::scrape(url, ctx.timeout).map(|s| metrics::total(&s, &name, &labels));
    match (before, after) {
        (Ok(b), Ok(a)) if a - b >= 1.0 => {}
        (Ok(b), Ok(a)) => outcome.add_problem(format!(
            "metric *_{selector} went from {b} to {a}, expected +1"
        )),
        (Err(e), _) | (_, Err(e)) => outcome.add_problem(format!("metrics: {e}")),
    }
    Ok(outcome)
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
