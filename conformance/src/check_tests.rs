//! Tests of the judging rules on synthetic answers.

use super::*;
use crate::fixtures::Fixtures;
use crate::http::Endpoint;
use crate::table::ErrorTable;

struct World {
    endpoint: Endpoint,
    table: ErrorTable,
    fixtures: Fixtures,
}

impl World {
    fn new(table: &str) -> Self {
        Self {
            endpoint: Endpoint::parse("http://127.0.0.1:1", None).unwrap(),
            table: ErrorTable::load(table).unwrap(),
            fixtures: Fixtures::from_str_named("leak_markers = ['backend-bucket-7']", "t").unwrap(),
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            endpoint: &self.endpoint,
            table: &self.table,
            fixtures: &self.fixtures,
            metrics_url: None,
            timeout: std::time::Duration::from_secs(1),
            run_id: "r",
        }
    }
}

fn error(status: u16, code: &str, message: &str, extra: &[(&str, &str)]) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
         <BucketName>b</BucketName><Resource>/b/k</Resource><RequestId>id1</RequestId></Error>"
    );
    let mut headers = vec![("x-amz-request-id".to_owned(), "id1".to_owned())];
    headers.extend(
        extra
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    Response {
        status,
        headers,
        body: body.into_bytes(),
    }
}

fn target(method: &str) -> Target {
    Target::of(&S3Request::new(method, "b", Some("k")), Some("b"))
}

fn problems(world: &World, row: RowId, response: &Response, method: &str) -> Vec<String> {
    judge(&world.ctx(), row, response, &target(method))
        .unwrap()
        .problems
}

#[test]
fn a_conforming_error_passes() {
    let w = World::new("documented");
    let r = error(404, "NoSuchKey", "the key does not exist", &[]);
    assert_eq!(
        problems(&w, RowId::S3("NoSuchKey"), &r, "GET"),
        Vec::<String>::new()
    );
    let outcome = judge(&w.ctx(), RowId::S3("NoSuchKey"), &r, &target("GET")).unwrap();
    assert_eq!(outcome.got, "404 NoSuchKey");
}

#[test]
fn status_code_and_request_id_mismatches_are_reported() {
    let w = World::new("documented");
    let mut r = error(403, "InvalidAccessKeyId", "m", &[]);
    r.headers[0].1 = "other".into();
    let p = problems(&w, RowId::Auth("unknown_access_key"), &r, "GET");
    assert!(p.iter().any(|p| p == "status 403, expected 401"), "{p:?}");
    assert!(
        p.iter()
            .any(|p| p.contains("differs from x-amz-request-id")),
        "{p:?}"
    );
    let p = problems(
        &World::new("aws"),
        RowId::Auth("unknown_access_key"),
        &error(403, "InvalidAccessKeyId", "m", &[]),
        "GET",
    );
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn missing_fields_and_declaration_are_reported() {
    let w = World::new("documented");
    let r = Response {
        status: 404,
        headers: vec![("x-amz-request-id".into(), "id1".into())],
        body: b"<Error><Code>NoSuchKey</Code></Error>".to_vec(),
    };
    let p = problems(&w, RowId::S3("NoSuchKey"), &r, "GET");
    for wanted in [
        "no xml declaration",
        "no <Message>",
        "no <Resource>",
        "no <RequestId>",
        "no <BucketName>",
    ] {
        assert!(p.iter().any(|p| p.contains(wanted)), "{wanted}: {p:?}");
    }
    let not_xml = Response {
        body: b"<Error><Key><x>&</Key>".to_vec(),
        ..r
    };
    let p = problems(&w, RowId::S3("NoSuchKey"), &not_xml, "GET");
    assert!(p.iter().any(|p| p.contains("not xml")), "{p:?}");
}

#[test]
fn slowdown_needs_integer_retry_after() {
    let w = World::new("documented");
    let row = RowId::S3("SlowDown");
    let p = problems(&w, row, &error(429, "SlowDown", "slow down", &[]), "GET");
    assert!(p.contains(&"no Retry-After header".to_owned()), "{p:?}");
    let p = problems(
        &w,
        row,
        &error(429, "SlowDown", "m", &[("retry-after", "soon")]),
        "GET",
    );
    assert!(p.iter().any(|p| p.contains("not integer seconds")), "{p:?}");
    let p = problems(
        &w,
        row,
        &error(429, "SlowDown", "m", &[("retry-after", "2")]),
        "GET",
    );
    assert!(p.is_empty(), "{p:?}");
}

#[test]
fn head_and_304_must_have_no_body() {
    let w = World::new("documented");
    let r = error(404, "NoSuchKey", "m", &[]);
    let p = problems(&w, RowId::S3("NoSuchKey"), &r, "HEAD");
    assert!(
        p.iter().any(|p| p.contains("answer to HEAD carried")),
        "{p:?}"
    );
    let empty = Response {
        body: Vec::new(),
        ..r
    };
    assert!(problems(&w, RowId::S3("NoSuchKey"), &empty, "HEAD").is_empty());
    let not_modified = Response {
        status: 304,
        ..error(304, "x", "m", &[])
    };
    let p = problems(&w, RowId::S3("NotModified"), &not_modified, "GET");
    assert!(p.iter().any(|p| p.contains("a 304 answer")), "{p:?}");
}

#[test]
fn five_hundreds_must_be_generic_and_leak_nothing() {
    let generic = "We encountered an internal error. Please try again.";
    let w = World::new("documented");
    let row = RowId::S3("ServiceUnavailable");
    assert!(
        problems(
            &w,
            row,
            &error(503, "ServiceUnavailable", generic, &[]),
            "GET"
        )
        .is_empty()
    );
    let p = problems(
        &w,
        row,
        &error(503, "ServiceUnavailable", "upstream down", &[]),
        "GET",
    );
    assert!(p.iter().any(|p| p.contains("is not the generic")), "{p:?}");
    let aws = World::new("aws");
    assert!(
        problems(
            &aws,
            row,
            &error(503, "ServiceUnavailable", "upstream down", &[]),
            "GET"
        )
        .is_empty()
    );
    let p = problems(
        &aws,
        row,
        &error(
            503,
            "ServiceUnavailable",
            "connect to minio.internal:9000 refused",
            &[],
        ),
        "GET",
    );
    assert!(
        p.iter().any(|p| p.contains("reveals an address or port")),
        "{p:?}"
    );
    let p = problems(
        &aws,
        row,
        &error(503, "ServiceUnavailable", "backend-bucket-7 gone", &[]),
        "GET",
    );
    assert!(
        p.iter().any(|p| p.contains("reveals `backend-bucket-7`")),
        "{p:?}"
    );
}

#[test]
fn sts_errors_are_judged_in_the_error_response_shape() {
    let w = World::new("documented");
    let body = "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
                <Message>bad token</Message></Error><RequestId>r1</RequestId></ErrorResponse>";
    let r = Response {
        status: 400,
        headers: Vec::new(),
        body: body.into(),
    };
    let outcome = judge_sts(&w.ctx(), RowId::Sts("InvalidIdentityToken"), &r).unwrap();
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    let outcome = judge_sts(&w.ctx(), RowId::Sts("InvalidParameterValue"), &r).unwrap();
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.contains("code `InvalidIdentityToken`"))
    );
    let s3_shape = error(400, "InvalidIdentityToken", "m", &[]);
    let outcome = judge_sts(&w.ctx(), RowId::Sts("InvalidIdentityToken"), &s3_shape).unwrap();
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.contains("expected `ErrorResponse`"))
    );
}

#[test]
fn rows_missing_from_the_table_skip() {
    let w = World::new("documented");
    let r = error(400, "AuthorizationHeaderMalformed", "m", &[]);
    let stop = judge(
        &w.ctx(),
        RowId::S3("AuthorizationHeaderMalformed"),
        &r,
        &target("GET"),
    )
    .unwrap_err();
    assert_eq!(stop.verdict, crate::report::Verdict::Skip);
}
