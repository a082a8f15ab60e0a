//! Rule matching, preflight answers and actual-response headers, as tables.

use http::{HeaderName, HeaderValue};

use super::*;

fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    CorsRule {
        id: None,
        allowed_origins: owned(origins),
        allowed_methods: owned(methods),
        allowed_headers: owned(headers),
        expose_headers: Vec::new(),
        max_age_seconds: None,
    }
}

/// The rules the tables run against: a web app, its previews, and HEAD for anyone.
fn rules() -> Vec<CorsRule> {
    let mut app = rule(
        &["https://app.example.com", "https://*.preview.example.com"],
        &["GET", "PUT", "HEAD"],
        &["Content-Type", "x-amz-*"],
    );
    app.expose_headers = vec!["ETag".into(), "x-amz-request-id".into()];
    app.max_age_seconds = Some(600);
    vec![
        app,
        rule(&["http://localhost:*"], &["DELETE"], &["*"]),
        rule(&["*"], &["HEAD"], &[]),
    ]
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

#[test]
fn wildcards_match_any_run_of_characters() {
    // (pattern, value, ignore case, matches)
    let cases = [
        ("*", "", false, true),
        ("*", "https://x.test", false, true),
        ("https://a.test", "https://a.test", false, true),
        ("https://a.test", "https://A.test", false, false),
        ("https://a.test", "https://a.test:443", false, false),
        ("https://*.a.test", "https://b.a.test", false, true),
        ("https://*.a.test", "https://c.b.a.test", false, true),
        ("https://*.a.test", "https://.a.test", false, true),
        ("https://*.a.test", "https://a.test", false, false),
        ("https://*.a.test", "http://b.a.test", false, false),
        ("https://*.a.test", "https://b.a.test.evil", false, false),
        // The head and tail must not overlap.
        ("ab*ba", "aba", false, false),
        ("ab*ba", "abba", false, true),
        ("http://localhost:*", "http://localhost:3000", false, true),
        ("x-amz-*", "X-Amz-Date", true, true),
        ("x-amz-*", "X-Amz-Date", false, false),
        ("Content-Type", "content-type", true, true),
        ("*-id", "x-amz-request-id", true, true),
        // Multi-byte values never split inside a character.
        ("é*", "éa", false, true),
        ("a*", "é", false, false),
        ("*é", "aé", false, true),
    ];
    for (pattern, value, ignore_case, expected) in cases {
        assert_eq!(
            wildcard_match(pattern, value, ignore_case),
            expected,
            "{pattern:?} {value:?} ignore_case={ignore_case}"
        );
    }
}

#[test]
fn the_first_rule_allowing_origin_method_and_every_header_matches() {
    let rules = rules();
    // (origin, method, requested headers, index of the matching rule)
    let cases: &[(&str, &str, &[&str], Option<usize>)] = &[
        ("https://app.example.com", "GET", &[], Some(0)),
        ("https://app.example.com", "PUT", &["content-type"], Some(0)),
        (
            "https://app.example.com",
            "PUT",
            &["Content-Type", "X-Amz-Meta-Note", "x-amz-date"],
            Some(0),
        ),
        ("https://pr-7.preview.example.com", "GET", &[], Some(0)),
        // A header outside the first rule: no later rule allows PUT.
        ("https://app.example.com", "PUT", &["x-custom"], None),
        // HEAD with a header rule 0 refuses, and rule 2 allows no header.
        ("https://app.example.com", "HEAD", &["x-custom"], None),
        ("https://app.example.com", "HEAD", &["x-amz-date"], Some(0)),
        ("https://app.example.com", "DELETE", &[], None),
        ("https://app.example.com", "POST", &[], None),
        ("https://evil.example.net", "GET", &[], None),
        ("https://evil.example.net", "HEAD", &[], Some(2)),
        ("https://APP.example.com", "GET", &[], None),
        ("http://app.example.com", "GET", &[], None),
        ("https://app.example.com.evil.net", "GET", &[], None),
        (
            "http://localhost:8080",
            "DELETE",
            &["anything", "X-Else"],
            Some(1),
        ),
        ("http://localhost", "DELETE", &[], None),
        ("null", "HEAD", &[], Some(2)),
        ("null", "GET", &[], None),
    ];
    for (origin, method, requested, expected) in cases {
        let preflight = Preflight {
            origin,
            method,
            headers: requested.to_vec(),
        };
        let found = preflight
            .matching_rule(&rules)
            .map(|found| rules.iter().position(|r| r == found).unwrap());
        assert_eq!(found, *expected, "{origin} {method} {requested:?}");
    }
}

#[test]
fn preflights_need_an_origin_and_a_cors_method() {
    let rules = rules();
    // (request headers, error code, part of the message)
    type Pairs = &'static [(&'static str, &'static str)];
    let cases: &[(Pairs, S3ErrorCode, &str)] = &[
        (&[], S3ErrorCode::BadRequest, "Origin request header needed"),
        (
            &[("access-control-request-method", "GET")],
            S3ErrorCode::BadRequest,
            "Origin request header needed",
        ),
        (
            &[("origin", "https://app.example.com")],
            S3ErrorCode::BadRequest,
            "Access-Control-Request-Method request header needed",
        ),
        (
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "OPTIONS"),
            ],
            S3ErrorCode::BadRequest,
            "Invalid Access-Control-Request-Method: `OPTIONS`",
        ),
        (
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "get"),
            ],
            S3ErrorCode::BadRequest,
            "Invalid Access-Control-Request-Method: `get`",
        ),
        (
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "DELETE"),
            ],
            S3ErrorCode::AccessForbidden,
            "CORSResponse: This CORS request is not allowed.",
        ),
    ];
    for (pairs, code, message) in cases {
        let error = preflight(Some(&rules), &headers(pairs)).expect_err(&format!("{pairs:?}"));
        assert_eq!(error.code(), *code, "{pairs:?}");
        let text = error.to_string();
        assert!(text.contains(message), "{pairs:?}: {text}");
    }
}

#[test]
fn buckets_without_rules_and_unknown_buckets_refuse_alike() {
    let asked = headers(&[
        ("origin", "https://app.example.com"),
        ("access-control-request-method", "GET"),
    ]);
    let none = preflight(None, &asked).unwrap_err();
    let empty = preflight(Some(&[]), &asked).unwrap_err();
    assert_eq!(none, empty);
    assert_eq!(none.code(), S3ErrorCode::AccessForbidden);
    assert!(preflight(Some(&rules()), &asked).is_ok());
}

#[test]
fn an_allowed_preflight_answers_every_access_control_header() {
    let rules = rules();
    let answer = preflight(
        Some(&rules),
        &headers(&[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "PUT"),
            (
                "access-control-request-headers",
                "content-type, X-Amz-Date,",
            ),
            ("access-control-request-headers", "x-amz-meta-note"),
        ]),
    )
    .unwrap();
    let got: Vec<(&str, &str)> = answer
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-methods", "GET, PUT, HEAD"),
            (
                "access-control-allow-headers",
                "content-type, X-Amz-Date, x-amz-meta-note"
            ),
            ("access-control-expose-headers", "ETag, x-amz-request-id"),
            ("access-control-max-age", "600"),
            ("access-control-allow-credentials", "true"),
            ("vary", VARY),
        ]
    );
}

#[test]
fn any_origin_answers_star_without_credentials() {
    let answer = preflight(
        Some(&rules()),
        &headers(&[
            ("origin", "https://evil.example.net"),
            ("access-control-request-method", "HEAD"),
        ]),
    )
    .unwrap();
    let names: Vec<&str> = answer.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "access-control-allow-origin",
            "access-control-allow-methods",
            "vary"
        ]
    );
    assert_eq!(answer[0].1, "*");
    assert_eq!(answer[1].1, "HEAD");
}

#[test]
fn actual_responses_get_the_headers_of_the_rule_for_their_method() {
    let rules = rules();
    let vary_only = vec![("vary", VARY.to_owned())];
    // (origin, method, expected Access-Control-Allow-Origin, or none)
    let cases: &[(Option<&str>, &str, Option<&str>)] = &[
        (
            Some("https://app.example.com"),
            "GET",
            Some("https://app.example.com"),
        ),
        (
            Some("https://app.example.com"),
            "PUT",
            Some("https://app.example.com"),
        ),
        (Some("https://app.example.com"), "DELETE", None),
        (Some("https://app.example.com"), "POST", None),
        (
            Some("https://x.preview.example.com"),
            "HEAD",
            Some("https://x.preview.example.com"),
        ),
        (Some("https://evil.example.net"), "HEAD", Some("*")),
        (Some("https://evil.example.net"), "GET", None),
        (
            Some("http://localhost:1"),
            "DELETE",
            Some("http://localhost:1"),
        ),
        (None, "GET", None),
    ];
    for (origin, method, allow) in cases {
        let got = response_headers(&rules, *origin, method);
        match allow {
            Some(allow) => {
                assert_eq!(got[0], ("access-control-allow-origin", (*allow).to_owned()));
                assert_eq!(got.last(), vary_only.last(), "{origin:?} {method}");
                assert!(
                    got.iter()
                        .all(|(n, _)| *n != "access-control-allow-headers"),
                    "{got:?}"
                );
            }
            None => assert_eq!(got, vary_only, "{origin:?} {method}"),
        }
    }
    let app = response_headers(&rules, Some("https://app.example.com"), "GET");
    assert!(app.contains(&(
        "access-control-expose-headers",
        "ETag, x-amz-request-id".into()
    )));
    assert!(app.contains(&("access-control-allow-credentials", "true".into())));
    let anyone = response_headers(&rules, Some("https://evil.example.net"), "HEAD");
    assert!(
        anyone
            .iter()
            .all(|(n, _)| *n != "access-control-allow-credentials")
    );
}

#[test]
fn buckets_without_rules_get_no_cors_header_at_all() {
    assert!(response_headers(&[], Some("https://app.example.com"), "GET").is_empty());
    assert!(response_headers(&[], None, "GET").is_empty());
}
