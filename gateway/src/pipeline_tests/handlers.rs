//! Every operation the dispatcher serves, run in order against one bucket
//! (each row's request is first sent by the forbidden credential, then by
//! the permitted one), and the authentication failures. A test reads the
//! dispatcher's source for the operations it names, so a handler added
//! without a row here fails.

use std::collections::BTreeSet;

use super::{ADMIN, Harness, OUTSIDER, Outcome};
use cedargate_s3::classify::S3Operation;

/// What a request must answer.
#[derive(Debug, Clone, Copy)]
struct Expect {
    status: u16,
    /// The S3 error code of an error document (`None`: none, as for HEAD).
    code: Option<&'static str>,
    /// The backend methods called, in order.
    calls: &'static [&'static str],
}

const fn ok(status: u16, calls: &'static [&'static str]) -> Expect {
    Expect {
        status,
        code: None,
        calls,
    }
}

const fn error(status: u16, code: &'static str, calls: &'static [&'static str]) -> Expect {
    Expect {
        status,
        code: Some(code),
        calls,
    }
}

/// The policy's denial, before any handler runs.
const DENIED: Expect = error(403, "AccessDenied", &[]);
/// The same for HEAD, whose errors carry no body.
const DENIED_HEAD: Expect = Expect {
    status: 403,
    code: None,
    calls: &[],
};

/// One request, as the forbidden and the permitted credential send it.
#[derive(Debug)]
struct Row {
    /// The operation the request must be classified as.
    op: S3Operation,
    method: &'static str,
    /// Path and query; `{upload}` and `{etag}` are replaced by the upload
    /// id and part ETag earlier rows answered.
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    denied: Expect,
    allowed: Expect,
}

const TAGGING: &str =
    "<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>";
const CORS: &str = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
const COMPLETE: &str = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>";
const DELETE: &str = "<Delete><Object><Key>copy.txt</Key></Object></Delete>";
const VERSIONING: &str =
    "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>";
const LOCK: &str = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>";
const RETENTION: &str = "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>";
const LEGAL_HOLD: &str = "<LegalHold><Status>ON</Status></LegalHold>";

macro_rules! row {
    ($op:ident, $method:literal $target:literal $(, [$($name:literal = $value:literal),*])? $(, body $body:expr)?; denied $denied:expr; allowed $allowed:expr) => {
        Row {
            op: S3Operation::$op,
            method: $method,
            target: $target,
            headers: &[$($(($name, $value)),*)?],
            body: row!(@body $($body)?),
            denied: $denied,
            allowed: $allowed,
        }
    };
    (@body) => { "" };
    (@body $body:expr) => { $body };
}

/// The table, in the order the rows run (later rows read what earlier
/// ones stored).
fn table() -> Vec<Row> {
    vec![
        row!(PutObject, "PUT" "/photos/doc.txt", body "hello world";
            denied DENIED; allowed ok(200, &["put_object"])),
        row!(HeadObject, "HEAD" "/photos/doc.txt";
            denied DENIED_HEAD; allowed ok(200, &["head_object"])),
        row!(GetObject, "GET" "/photos/doc.txt";
            denied DENIED; allowed ok(200, &["get_object"])),
        row!(GetObjectAttributes, "GET" "/photos/doc.txt?attributes", ["x-amz-object-attributes" = "ETag,ObjectSize"];
            denied DENIED; allowed ok(200, &["get_object_attributes"])),
        // The source's size is looked up before policies decide.
        row!(CopyObject, "PUT" "/photos/copy.txt", ["x-amz-copy-source" = "/photos/doc.txt"];
            denied error(403, "AccessDenied", &["head_object"]);
            allowed ok(200, &["head_object", "copy_object"])),
        row!(GetObjectAcl, "GET" "/photos/doc.txt?acl";
            denied DENIED; allowed ok(200, &["get_object_acl"])),
        row!(PutObjectAcl, "PUT" "/photos/doc.txt?acl", ["x-amz-acl" = "private"];
            denied DENIED; allowed ok(200, &["put_object_acl"])),
        row!(GetObjectTorrent, "GET" "/photos/doc.txt?torrent";
            denied DENIED; allowed error(404, "NoSuchKey", &["head_object"])),
        row!(GetBucketAcl, "GET" "/photos?acl";
            denied DENIED; allowed ok(200, &["get_bucket_acl"])),
        row!(PutBucketAcl, "PUT" "/photos?acl", ["x-amz-acl" = "private"];
            denied DENIED; allowed ok(200, &["put_bucket_acl"])),
        row!(GetBucketTagging, "GET" "/photos?tagging";
            denied DENIED; allowed error(404, "NoSuchTagSet", &["get_bucket_tagging"])),
        row!(PutBucketTagging, "PUT" "/photos?tagging", body TAGGING;
            denied DENIED; allowed ok(204, &["put_bucket_tagging"])),
        row!(DeleteBucketTagging, "DELETE" "/photos?tagging";
            denied DENIED; allowed ok(204, &["delete_bucket_tagging"])),
        row!(PutObjectTagging, "PUT" "/photos/doc.txt?tagging", body TAGGING;
            denied DENIED; allowed ok(200, &["put_object_tagging"])),
        row!(GetObjectTagging, "GET" "/photos/doc.txt?tagging";
            denied DENIED; allowed ok(200, &["get_object_tagging"])),
        row!(DeleteObjectTagging, "DELETE" "/photos/doc.txt?tagging";
            denied DENIED; allowed ok(204, &["delete_object_tagging"])),
        row!(HeadBucket, "HEAD" "/photos";
            denied DENIED_HEAD; allowed ok(200, &["head_bucket"])),
        row!(GetBucketLocation, "GET" "/photos?location";
            denied DENIED; allowed ok(200, &["head_bucket"])),
        row!(ListObjects, "GET" "/photos";
            denied DENIED; allowed ok(200, &["list_objects"])),
        row!(ListObjectsV2, "GET" "/photos?list-type=2";
            denied DENIED; allowed ok(200, &["list_objects"])),
        row!(ListObjectVersions, "GET" "/photos?versions";
            denied DENIED; allowed ok(200, &["list_object_versions"])),
        row!(GetBucketVersioning, "GET" "/photos?versioning";
            denied DENIED; allowed ok(200, &["get_bucket_versioning"])),
        row!(PutBucketVersioning, "PUT" "/photos?versioning", body VERSIONING;
            denied DENIED; allowed ok(200, &["put_bucket_versioning"])),
        row!(GetBucketCors, "GET" "/photos?cors";
            denied DENIED; allowed error(404, "NoSuchCORSConfiguration", &["head_bucket"])),
        row!(PutBucketCors, "PUT" "/photos?cors", body CORS;
            denied DENIED; allowed error(501, "NotImplemented", &[])),
        row!(DeleteBucketCors, "DELETE" "/photos?cors";
            denied DENIED; allowed error(501, "NotImplemented", &[])),
        row!(GetObjectLockConfiguration, "GET" "/photos?object-lock";
            denied DENIED; allowed error(404, "ObjectLockConfigurationNotFoundError", &["head_bucket"])),
        row!(PutObjectLockConfiguration, "PUT" "/photos?object-lock", body LOCK;
            denied DENIED; allowed error(409, "InvalidBucketState", &["head_bucket"])),
        row!(GetObjectRetention, "GET" "/photos/doc.txt?retention";
            denied DENIED; allowed error(400, "InvalidRequest", &["head_bucket"])),
        row!(PutObjectRetention, "PUT" "/photos/doc.txt?retention", body RETENTION;
            denied DENIED; allowed error(400, "InvalidRequest", &["head_bucket"])),
        row!(GetObjectLegalHold, "GET" "/photos/doc.txt?legal-hold";
            denied DENIED; allowed error(400, "InvalidRequest", &["head_bucket"])),
        row!(PutObjectLegalHold, "PUT" "/photos/doc.txt?legal-hold", body LEGAL_HOLD;
            denied DENIED; allowed error(400, "InvalidRequest", &["head_bucket"])),
        row!(CreateMultipartUpload, "POST" "/photos/big.bin?uploads";
            denied DENIED; allowed ok(200, &["create_multipart_upload"])),
        row!(UploadPart, "PUT" "/photos/big.bin?partNumber=1&uploadId={upload}", body "part one";
            denied DENIED; allowed ok(200, &["upload_part"])),
        row!(UploadPartCopy, "PUT" "/photos/big.bin?partNumber=2&uploadId={upload}", ["x-amz-copy-source" = "/photos/doc.txt"];
            denied error(403, "AccessDenied", &["head_object"]);
            allowed ok(200, &["head_object", "upload_part_copy"])),
        row!(ListParts, "GET" "/photos/big.bin?uploadId={upload}";
            denied DENIED; allowed ok(200, &["list_parts"])),
        row!(ListMultipartUploads, "GET" "/photos?uploads";
            denied DENIED; allowed ok(200, &["list_multipart_uploads"])),
        row!(CompleteMultipartUpload, "POST" "/photos/big.bin?uploadId={upload}", body COMPLETE;
            denied DENIED; allowed ok(200, &["complete_multipart_upload"])),
        row!(AbortMultipartUpload, "DELETE" "/photos/big.bin?uploadId={upload}";
            denied DENIED; allowed error(404, "NoSuchUpload", &["abort_multipart_upload"])),
        row!(DeleteObjects, "POST" "/photos?delete", body DELETE;
            denied ok(200, &[]); allowed ok(200, &["delete_objects"])),
        row!(DeleteObject, "DELETE" "/photos/doc.txt";
            denied DENIED; allowed ok(204, &["delete_object"])),
        // The caller's listable buckets are gathered first; only those on
        // the page are then looked up for their creation date.
        row!(ListBuckets, "GET" "/";
            denied ok(200, &["list_buckets"]);
            allowed ok(200, &["list_buckets", "head_bucket", "head_bucket"])),
        row!(CreateBucket, "PUT" "/fresh";
            denied DENIED; allowed ok(200, &["create_bucket"])),
        row!(DeleteBucket, "DELETE" "/fresh";
            denied DENIED; allowed ok(204, &["delete_bucket"])),
        // A name that reaches a configured bucket's storage: no target.
        row!(CreateBucket, "PUT" "/photos-store";
            denied DENIED; allowed error(409, "BucketAlreadyExists", &[])),
        // A configured bucket: its handler refuses.
        row!(DeleteBucket, "DELETE" "/photos";
            denied DENIED; allowed error(403, "AccessDenied", &[])),
        // An operation the gateway classifies but does not serve.
        row!(GetBucketPolicy, "GET" "/photos?policy";
            denied DENIED; allowed error(501, "NotImplemented", &[])),
    ]
}

/// What `outcome` differs in from `expect`, if anything.
fn mismatch(outcome: &Outcome, expect: &Expect) -> Option<String> {
    let seen = (outcome.status, outcome.code.as_deref(), &outcome.calls[..]);
    let wanted = (expect.status, expect.code, expect.calls);
    (seen != wanted).then(|| format!("answered {seen:?}, expected {wanted:?}"))
}

/// The text between the first `<tag>` and `</tag>` of `body`.
fn element<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(&body[start..end])
}

#[test]
fn every_handler_answers_as_its_row_says_allowed_and_denied() {
    let harness = Harness::new("");
    let mut upload = String::new();
    let mut etag = String::new();
    let mut failures = Vec::new();
    for row in table() {
        let target = row.target.replace("{upload}", &upload);
        let body = row.body.replace("{etag}", &etag);
        let name = format!("{} {} {target}", row.op.name(), row.method);
        for (who, credential, expect) in [
            ("denied", OUTSIDER, row.denied),
            ("allowed", ADMIN, row.allowed),
        ] {
            let outcome = harness.send(
                Some(credential),
                row.method,
                &target,
                row.headers,
                body.as_bytes(),
            );
            if outcome.ctx.operation != Some(row.op) {
                failures.push(format!(
                    "{name} ({who}): classified as {:?}",
                    outcome.ctx.operation
                ));
            }
            if let Some(problem) = mismatch(&outcome, &expect) {
                failures.push(format!("{name} ({who}): {problem}; {}", outcome.body));
            }
            if who == "allowed" {
                if let Some(id) = element(&outcome.body, "UploadId") {
                    id.clone_into(&mut upload);
                }
                if row.op == S3Operation::UploadPart {
                    etag = outcome.header("etag").unwrap_or_default().to_owned();
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The operations `handlers::dispatch` names, read from its source.
fn dispatched_operations() -> BTreeSet<String> {
    let source = include_str!("../handlers/mod.rs");
    let start = source
        .find("pub async fn dispatch(")
        .expect("dispatch is in handlers/mod.rs");
    let end = start + source[start..].find("\n}\n").expect("dispatch ends");
    let mut names = BTreeSet::new();
    let mut rest = &source[start..end];
    while let Some(at) = rest.find("Op::") {
        rest = &rest[at + "Op::".len()..];
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        names.insert(name);
    }
    names
}

#[test]
fn every_operation_the_dispatcher_serves_has_a_row() {
    let dispatched = dispatched_operations();
    let known: BTreeSet<&str> = S3Operation::all().iter().map(|op| op.name()).collect();
    for name in &dispatched {
        assert!(
            known.contains(name.as_str()),
            "`Op::{name}` is no operation"
        );
    }
    let rows: BTreeSet<String> = table().iter().map(|row| row.op.name().to_owned()).collect();
    let missing: Vec<&String> = dispatched.difference(&rows).collect();
    assert!(missing.is_empty(), "no table row for {missing:?}");
    // Reported by `cargo test -- --nocapture`.
    println!(
        "{} rows cover the {} operations the dispatcher serves",
        table().len(),
        dispatched.len()
    );
}

#[test]
fn requests_that_do_not_authenticate_reach_no_backend() {
    let harness = Harness::new("");
    let wrong_secret = (ADMIN.0, "not-the-secret");
    let unknown = ("AKIDUNKNOWN", ADMIN.1);
    type Key<'a> = Option<(&'a str, &'a str)>;
    let cases: [(&str, Key<'_>, u16, &str); 3] = [
        (
            "unsigned (anonymous access is off)",
            None,
            403,
            "AccessDenied",
        ),
        // The `documented` error profile's statuses.
        (
            "bad signature",
            Some(wrong_secret),
            401,
            "SignatureDoesNotMatch",
        ),
        (
            "unknown access key",
            Some(unknown),
            401,
            "InvalidAccessKeyId",
        ),
    ];
    for (case, credential, status, code) in cases {
        let outcome = harness.send(credential, "GET", "/photos/doc.txt", &[], b"");
        assert_eq!(
            (outcome.status, outcome.code.as_deref(), &outcome.calls[..]),
            (status, Some(code), &[][..]),
            "{case}: {}",
            outcome.body
        );
        assert_eq!(outcome.ctx.decision.map(|d| d.allowed), None, "{case}");
    }
    // A body that does not hash to the signed payload hash: the write is
    // attempted and abandoned.
    let mut head = super::request_head(Some(ADMIN), "PUT", "/photos/x.txt", &[], b"hello");
    let outcome = {
        let body = b"HELLO";
        head.headers.insert(
            "content-length",
            body.len().to_string().parse().expect("value"),
        );
        harness.serve(head, body)
    };
    assert_eq!(
        (outcome.status, outcome.code.as_deref(), &outcome.calls[..]),
        (400, Some("XAmzContentSHA256Mismatch"), &["put_object"][..]),
        "{}",
        outcome.body
    );
    let missing = harness.send(Some(ADMIN), "GET", "/photos/x.txt", &[], b"");
    assert_eq!(missing.code.as_deref(), Some("NoSuchKey"));
}
