//! The documented-shapes table (tests/data/classify.toml) and edge cases.

use std::collections::{BTreeMap, BTreeSet};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Deserialize;

use super::*;
use crate::route::{AddressingStyle, route};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    request: Vec<Shape>,
    refused: Vec<Shape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shape {
    method: String,
    path: String,
    #[serde(default)]
    query: String,
    host: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    operation: Option<String>,
    class: Option<String>,
    error: Option<String>,
}

impl Shape {
    fn classify(&self) -> Result<S3Operation, ClassifyError> {
        let method = Method::from_bytes(self.method.as_bytes()).unwrap();
        let suffixes = ["s3.example.com".to_owned()];
        let route = route(self.host.as_deref(), &self.path, &suffixes).unwrap();
        let query = Query::parse(&self.query).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        classify(&method, &route, &query, &headers)
    }
}

fn check_table(text: &str) {
    let table: Table = toml::from_str(text).unwrap();
    let mut covered = BTreeSet::new();
    for shape in &table.request {
        let op = shape
            .classify()
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
        assert_eq!(Some(op.name()), shape.operation.as_deref(), "{shape:?}");
        assert_eq!(Some(op.class().name()), shape.class.as_deref(), "{shape:?}");
        covered.insert(op);
    }
    let all: BTreeSet<_> = S3Operation::all().iter().copied().collect();
    let missing: Vec<_> = all.difference(&covered).map(|op| op.name()).collect();
    assert!(
        missing.is_empty(),
        "operations without a table row: {missing:?}"
    );
    for shape in &table.refused {
        let error = shape
            .classify()
            .expect_err(&format!("{shape:?} classified"));
        assert_eq!(
            Some(error.to_string().as_str()),
            shape.error.as_deref(),
            "{shape:?}"
        );
        assert_eq!(error.code(), "InvalidRequest");
    }
}

#[test]
fn documented_request_shapes() {
    check_table(include_str!("../../tests/data/classify.toml"));
}

fn path_route(bucket: Option<&str>, key: Option<&str>) -> Route {
    Route {
        bucket: bucket.map(Into::into),
        key: key.map(Into::into),
        style: AddressingStyle::Path,
    }
}

#[test]
fn copy_source_header_must_be_single() {
    let mut headers = HeaderMap::new();
    headers.append("x-amz-copy-source", HeaderValue::from_static("/a/b"));
    headers.append("x-amz-copy-source", HeaderValue::from_static("/c/d"));
    let route = path_route(Some("bkt"), Some("k"));
    let result = classify(&Method::PUT, &route, &Query::default(), &headers);
    assert_eq!(result, Err(ClassifyError::UnexpectedCopySource));
}

#[test]
fn key_without_bucket_is_refused() {
    let route = path_route(None, Some("k"));
    let result = classify(&Method::GET, &route, &Query::default(), &HeaderMap::new());
    assert_eq!(result, Err(ClassifyError::BucketRequired("GET")));
}

#[test]
fn parameters_are_case_sensitive_but_hoisted_headers_are_not() {
    let route = path_route(Some("bkt"), Some("k"));
    let headers = HeaderMap::new();
    let get = |raw: &str| classify(&Method::GET, &route, &Query::parse(raw).unwrap(), &headers);
    assert_eq!(
        get("X-AMZ-Security-Token=t&x-amz-date=d"),
        Ok(Op::GetObject)
    );
    assert_eq!(
        get("VersionId=1"),
        Err(ClassifyError::UnknownParameter("VersionId".into()))
    );
    assert_eq!(
        get("=x"),
        Err(ClassifyError::UnknownParameter(String::new()))
    );
    // A subresource spelt with an escape is the same subresource.
    assert_eq!(get("t%61gging"), Ok(Op::GetObjectTagging));
    assert_eq!(
        get("tagging&tagging"),
        Err(ClassifyError::DuplicateParameter("tagging".into()))
    );
}

#[test]
fn form_upload_detection_ignores_case() {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("Multipart/Form-Data; boundary=x"),
    );
    let route = path_route(Some("bkt"), None);
    let result = classify(&Method::POST, &route, &Query::default(), &headers);
    assert_eq!(result, Ok(Op::PostObject));
}

#[test]
fn refused_shapes_never_forward_subresource_confusion() {
    // An object GET carrying any bucket-only subresource is refused, never
    // read as GetObject.
    let route = path_route(Some("bkt"), Some("k"));
    for sub in SUBRESOURCES {
        let query = Query::parse(sub).unwrap();
        if let Ok(op) = classify(&Method::GET, &route, &query, &HeaderMap::new()) {
            assert_ne!(op, Op::GetObject, "`{sub}`");
        }
    }
}
