//! Reads counters from a Prometheus text endpoint, so a case can assert that
//! the deployment counted what it provoked (`*_s3_auth_failure_total{reason}`
//! went up by at least 1). Metric names match under any prefix.

use std::time::Duration;

use crate::http::{Endpoint, exchange};

/// One series: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name.
    pub name: String,
    /// The labels in order.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// Fetches and parses `url` (an `http(s)://host:port/path` URL).
pub fn scrape(url: &str, timeout: Duration) -> Result<Vec<Sample>, String> {
    let (base, path) = split_url(url)?;
    let endpoint = Endpoint::parse(base, None).map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
        endpoint.authority
    );
    let response =
        exchange(&endpoint, request.as_bytes(), false, timeout).map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("metrics endpoint answered {}", response.status));
    }
    Ok(parse(&response.body_text()))
}

fn split_url(url: &str) -> Result<(&str, &str), String> {
    let after_scheme = url
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("metrics url `{url}` has no scheme"))?;
    match url[after_scheme..].find('/') {
        Some(i) => Ok((&url[..after_scheme + i], &url[after_scheme + i..])),
        None => Ok((url, "/metrics")),
    }
}

/// Parses Prometheus text exposition; lines that do not parse are ignored.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            let labels = parse_labels(&line[open + 1..close])?;
            (&line[..open], labels, &line[close + 1..])
        }
        None => {
            let (name, rest) = line.split_once(char::is_whitespace)?;
            (name, Vec::new(), rest)
        }
    };
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        name: name.trim().to_owned(),
        labels,
        value,
    })
}

fn parse_labels(text: &str) -> Option<Vec<(String, String)>> {
    let mut labels = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(labels);
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        }
        labels.push((name.trim().to_owned(), value));
    }
}

/// Sums the series named `<prefix>_<name>` (or exactly `name`) whose labels
/// include every pair of `want`.
pub fn total(samples: &[Sample], name: &str, want: &[(String, String)]) -> f64 {
    let suffix = format!("_{name}");
    samples
        .iter()
        .filter(|s| s.name == name || s.name.ends_with(&suffix))
        .filter(|s| want.iter().all(|w| s.labels.contains(w)))
        .map(|s| s.value)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
# HELP cedargate_s3_auth_failure_total auth failures
# TYPE cedargate_s3_auth_failure_total counter
cedargate_s3_auth_failure_total{reason="bad_signature",otel_scope_name="cedargate"} 3
cedargate_s3_auth_failure_total{otel_scope_name="x",reason="bad_signature"} 1
cedargate_s3_auth_failure_total{reason="time_skew"} 2
acme_s3_scope_violation_total 5 1700000000
weird{a="q\"uote\\",b="2"} 7
not_s3_scope_violation_totalx 100
"#;

    fn reason(r: &str) -> Vec<(String, String)> {
        vec![("reason".into(), r.into())]
    }

    #[test]
    fn sums_matching_series_under_any_prefix() {
        let samples = parse(TEXT);
        let t = total(&samples, "s3_auth_failure_total", &reason("bad_signature"));
        assert!((t - 4.0).abs() < f64::EPSILON);
        let t = total(&samples, "s3_auth_failure_total", &reason("disabled"));
        assert!(t.abs() < f64::EPSILON);
        let t = total(&samples, "s3_scope_violation_total", &[]);
        assert!((t - 5.0).abs() < f64::EPSILON);
    }

    #[test]
    fn parses_escaped_label_values() {
        let samples = parse(TEXT);
        let weird = samples.iter().find(|s| s.name == "weird").unwrap();
        assert_eq!(weird.labels[0], ("a".into(), "q\"uote\\".into()));
        assert_eq!(weird.labels[1], ("b".into(), "2".into()));
    }

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("http://127.0.0.1:9001/metrics").unwrap(),
            ("http://127.0.0.1:9001", "/metrics")
        );
        assert_eq!(split_url("http://h:1").unwrap(), ("http://h:1", "/metrics"));
        assert!(split_url("nope").is_err());
    }
}
