//! The error mapping as a table: status, headers and body in, the
//! meaning out; and that client-visible messages never carry what the
//! upstream said.

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderName, HeaderValue};

use super::*;

const OBJECT: Op = Op::new("GetObject", Target::Object);
const BUCKET: Op = Op::new("HeadBucket", Target::Bucket);
const UPLOAD: Op = Op::new("UploadPart", Target::Upload);

fn doc(code: &str, extra: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>secret-bucket on upstream.internal: details</Message>{extra}\
         <RequestId>R1</RequestId><HostId>H</HostId></Error>"
    )
}

fn map(op: Op, status: u16, headers: &[(&str, &str)], body: &str) -> BackendError {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    Failure::parse(op, status, &map, body.as_bytes()).into_error(op)
}

#[test]
fn error_codes_map_to_meanings() {
    let table: Vec<(u16, String, &str)> = vec![
        (404, doc("NoSuchBucket", ""), "NoSuchBucket"),
        (404, doc("NoSuchKey", ""), "NoSuchKey"),
        (404, doc("NoSuchUpload", ""), "NoSuchUpload"),
        (412, doc("PreconditionFailed", ""), "PreconditionFailed"),
        (
            416,
            doc("InvalidRange", "<ActualObjectSize>10</ActualObjectSize>"),
            "InvalidRange { size: 10 }",
        ),
        (400, doc("BadDigest", ""), "BadDigest"),
        (400, doc("IncompleteBody", ""), "IncompleteBody"),
        (
            400,
            doc("InvalidPart", "<PartNumber>4</PartNumber>"),
            "InvalidPart { part_number: 4 }",
        ),
        (400, doc("InvalidPartOrder", ""), "InvalidPartOrder"),
        (
            400,
            doc("EntityTooSmall", "<PartNumber>2</PartNumber>"),
            "EntityTooSmall { part_number: 2 }",
        ),
        (
            200,
            doc("InvalidPart", ""),
            "InvalidPart { part_number: 0 }",
        ),
        (400, doc("InvalidArgument", ""), "InvalidArgument"),
        (400, doc("KeyTooLongError", ""), "InvalidArgument"),
        (400, doc("MetadataTooLarge", ""), "InvalidArgument"),
        (400, doc("MalformedXML", ""), "InvalidArgument"),
        (501, doc("NotImplemented", ""), "NotImplemented"),
        (503, doc("SlowDown", ""), "Unavailable"),
        (500, doc("InternalError", ""), "Unavailable"),
        (400, doc("RequestTimeout", ""), "Unavailable"),
        (403, doc("AccessDenied", ""), "Other"),
        (403, doc("SignatureDoesNotMatch", ""), "Other"),
        (409, doc("SomethingNew", ""), "Other"),
        (502, doc("SomethingNew", ""), "Unavailable"),
        (502, "<html>bad gateway</html>".into(), "Unavailable"),
        (404, "<html>not found</html>".into(), "BadGateway"),
        (400, "garbage".into(), "BadGateway"),
        (200, "<Error><Code>".into(), "BadGateway"),
    ];
    for (status, body, expected) in table {
        let error = map(OBJECT, status, &[], &body);
        let shown = format!("{error:?}");
        assert!(
            shown.starts_with(expected),
            "{status} {body}: expected {expected}, got {shown}"
        );
        let message = error.to_string();
        for leak in ["secret-bucket", "upstream.internal", "R1"] {
            assert!(!message.contains(leak), "{message} leaks {leak}");
        }
    }
}

#[test]
fn bare_statuses_map_by_target() {
    let cases = [
        (BUCKET, 404, "NoSuchBucket"),
        (OBJECT, 404, "NoSuchKey"),
        (UPLOAD, 404, "NoSuchUpload"),
        (OBJECT, 412, "PreconditionFailed"),
        (OBJECT, 400, "InvalidArgument"),
        (OBJECT, 403, "Other"),
        (OBJECT, 500, "Unavailable"),
        (OBJECT, 503, "Unavailable"),
    ];
    for (op, status, expected) in cases {
        let shown = format!("{:?}", map(op, status, &[], ""));
        assert!(shown.starts_with(expected), "{status}: {shown}");
    }
    let not_modified = map(
        OBJECT,
        304,
        &[
            ("etag", "\"abc\""),
            ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ],
        "",
    );
    match not_modified {
        BackendError::NotModified {
            etag,
            last_modified,
        } => {
            assert_eq!(etag, "abc");
            assert_eq!(
                last_modified,
                UNIX_EPOCH + Duration::from_secs(1_445_412_480)
            );
        }
        other => panic!("{other:?}"),
    }
    let range = map(OBJECT, 416, &[("content-range", "bytes */10")], "");
    assert!(
        matches!(range, BackendError::InvalidRange { size: 10 }),
        "{range:?}"
    );
}

#[test]
fn failures_keep_detail_for_the_log_only() {
    let body = doc("AccessDenied", "");
    let failure = Failure::parse(OBJECT, 403, &HeaderMap::new(), body.as_bytes());
    assert_eq!(failure.code(), Some("AccessDenied"));
    let logged = failure.to_string();
    assert!(logged.contains("403") && logged.contains("R1"), "{logged}");
    let error = failure.into_error(OBJECT);
    assert_eq!(error.to_string(), "backend failure");
}
