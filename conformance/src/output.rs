//! Renders a [`Report`] as a human table (closing with the summary line CI
//! reads), one JSON object, or a JUnit XML testsuite.

use quick_xml::escape::escape;

use crate::report::{Report, Verdict};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table, then the line `N passed, N failed, N skipped`.
    Text,
    /// `{"endpoint", "profile", "cases": [...], "summary": {...}}`.
    Json,
    /// A JUnit `<testsuite>` with one `<testcase>` per case.
    Junit,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => json(report),
        Format::Junit => junit(report),
    }
}

/// The human table; the last line is exactly the summary line.
pub fn text(report: &Report) -> String {
    let headers = ["row", "case", "expected", "got", "verdict"];
    let rows: Vec<[String; 5]> = report
        .cases
        .iter()
        .map(|c| {
            [
                c.row.clone(),
                c.case.clone(),
                c.expected.clone(),
                c.got.clone(),
                c.verdict.to_string(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = format!(
        "cedargate-conformance: {} (profile {})\n\n",
        report.endpoint, report.profile
    );
    out.push_str(&line(headers));
    out.push('\n');
    for (row, case) in rows.iter().zip(&report.cases) {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        out.push('\n');
        if !case.message.is_empty() && case.verdict != Verdict::Pass {
            for detail in case.message.lines() {
                out.push_str(&format!("    {detail}\n"));
            }
        }
    }
    let summary = report.summary();
    out.push('\n');
    if summary.expected_failures + summary.unexpected_passes > 0 {
        out.push_str(&format!(
            "({} expected failures, {} unexpected passes)\n",
            summary.expected_failures, summary.unexpected_passes
        ));
    }
    out.push_str(&summary.line());
    out.push('\n');
    out
}

/// One JSON object with the cases and the summary.
pub fn json(report: &Report) -> String {
    let value = serde_json::json!({
        "endpoint": report.endpoint,
        "profile": report.profile,
        "cases": report.cases,
        "summary": report.summary(),
    });
    format!("{value:#}\n")
}

/// A JUnit testsuite: skips as `<skipped/>`, failures with a message.
pub fn junit(report: &Report) -> String {
    let s = report.summary();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuite name=\"cedargate-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\">\n",
        report.cases.len(),
        s.failed,
        s.skipped
    ));
    for case in &report.cases {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\"",
            escape(case.row.as_str()),
            escape(case.case.as_str())
        ));
        let message = format!(
            "expected {}, got {}{}{}",
            case.expected,
            case.got,
            if case.message.is_empty() { "" } else { ": " },
            case.message
        );
        match case.verdict {
            Verdict::Pass => out.push_str("/>\n"),
            Verdict::Skip | Verdict::XFail => out.push_str(&format!(
                ">\n    <skipped message=\"{}\"/>\n  </testcase>\n",
                escape(format!("{}: {}", case.verdict, case.message))
            )),
            Verdict::Fail | Verdict::XPass => out.push_str(&format!(
                ">\n    <failure message=\"{}\" type=\"{}\">{}</failure>\n  </testcase>\n",
                escape(message.as_str()),
                case.verdict,
                escape(message.as_str())
            )),
        }
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CaseReport;

    fn report() -> Report {
        let case = |name: &str, verdict, message: &str| CaseReport {
            case: name.into(),
            row: "s3.NoSuchKey".into(),
            expected: "404 NoSuchKey".into(),
            got: "200 -".into(),
            verdict,
            message: message.into(),
        };
        Report {
            endpoint: "http://127.0.0.1:1".into(),
            profile: "documented".into(),
            cases: vec![
                case(
                    "objects.no_such_key",
                    Verdict::Fail,
                    "status 200 <&> \"quoted\"",
                ),
                case("objects.head", Verdict::Pass, ""),
                case("sts.internal_error", Verdict::Skip, "missing fixture `sts`"),
                case("x", Verdict::XFail, "known: <bug>"),
            ],
        }
    }

    #[test]
    fn text_ends_with_the_exact_summary_line() {
        let out = text(&report());
        let last = out.lines().last().unwrap();
        assert_eq!(last, "1 passed, 1 failed, 2 skipped");
        let header = out.lines().find(|l| l.starts_with("row")).unwrap();
        for column in ["row", "case", "expected", "got", "verdict"] {
            assert!(header.contains(column));
        }
        assert!(out.contains("objects.no_such_key"));
        assert!(out.contains("    status 200"));
    }

    #[test]
    fn junit_is_well_formed_xml() {
        let out = junit(&report());
        let mut reader = quick_xml::Reader::from_str(&out);
        let (mut testcases, mut skipped, mut failures) = (0, 0, 0);
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break,
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    match e.local_name().into_inner() {
                        "testcase" => testcases += 1,
                        "skipped" => skipped += 1,
                        "failure" => failures += 1,
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        assert_eq!((testcases, skipped, failures), (4, 2, 1));
        assert!(out.contains("tests=\"4\" failures=\"1\" skipped=\"2\""));
    }

    #[test]
    fn json_has_cases_and_summary() {
        let v: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v["cases"].as_array().unwrap().len(), 4);
        assert_eq!(v["cases"][0]["verdict"], "FAIL");
        assert_eq!(v["cases"][3]["verdict"], "XFAIL");
        assert_eq!(v["summary"]["passed"], 1);
        assert_eq!(v["summary"]["skipped"], 2);
    }
}
