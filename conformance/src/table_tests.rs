//! Tests of table loading: both built-in profiles cover every row of every
//! table in docs/errors.md, with the statuses of their column.

use super::*;

/// Every S3 error code in docs/errors.md (BadDigest / InvalidDigest split).
const S3_ROWS: &[&str] = &[
    "InvalidRequest",
    "MalformedXML",
    "InvalidArgument",
    "XAmzContentSHA256Mismatch",
    "BadDigest",
    "InvalidDigest",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "RequestTimeTooSkewed",
    "ExpiredToken",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NotModified",
    "MissingContentLength",
    "PreconditionFailed",
    "InvalidRange",
    "SlowDown",
    "InternalError",
    "NotImplemented",
    "BadGateway",
    "ServiceUnavailable",
    "EntityTooLarge",
];
const AUTH_REASONS: &[&str] = &[
    "unknown_access_key",
    "bad_signature",
    "disabled",
    "expired",
    "bad_authorization_format",
    "bad_credential_field",
    "bad_date",
    "time_skew",
    "unsigned_header",
];
const ANONYMOUS_REASONS: &[&str] = &[
    "disabled_globally",
    "no_binding",
    "operation_not_allowed",
    "rate_limited",
];
const STS_ROWS: &[&str] = &[
    "InvalidIdentityToken",
    "InvalidParameterValue",
    "AccessDenied",
    "InternalError",
];

fn load(name: &str) -> ErrorTable {
    ErrorTable::load(name).unwrap()
}

fn status(table: &ErrorTable, row: RowId) -> (u16, Option<String>) {
    let e = table
        .expected(row)
        .unwrap_or_else(|| panic!("{} lacks {row}", table.profile));
    (e.status, e.code)
}

#[test]
fn both_profiles_cover_every_errors_md_row() {
    for name in ["documented", "aws"] {
        let table = load(name);
        assert_eq!(table.profile, name);
        for row in S3_ROWS {
            assert!(table.s3_row(row).is_some(), "{name} lacks s3 row {row}");
        }
        for reason in AUTH_REASONS {
            assert!(
                table.has_row(RowId::Auth(reason)),
                "{name} lacks auth reason {reason}"
            );
        }
        for reason in ANONYMOUS_REASONS {
            assert!(
                table.has_row(RowId::Anonymous(reason)),
                "{name} lacks anonymous {reason}"
            );
        }
        for row in STS_ROWS {
            assert!(table.has_row(RowId::Sts(row)), "{name} lacks sts row {row}");
        }
        assert!(table.has_row(RowId::Scope));
        assert!(table.has_row(RowId::S3("BadGateway")));
    }
}

#[test]
fn documented_statuses() {
    let t = load("documented");
    let s = |row| status(&t, row);
    assert_eq!(
        s(RowId::S3("InvalidAccessKeyId")),
        (401, Some("InvalidAccessKeyId".into()))
    );
    assert_eq!(s(RowId::S3("SlowDown")), (429, Some("SlowDown".into())));
    assert_eq!(s(RowId::S3("BadGateway")), (502, Some("BadGateway".into())));
    assert_eq!(
        s(RowId::S3("EntityTooLarge")),
        (507, Some("EntityTooLarge".into()))
    );
    assert_eq!(
        s(RowId::S3("ExpiredToken")),
        (403, Some("ExpiredToken".into()))
    );
    assert_eq!(s(RowId::S3("NotModified")), (304, None));
    assert_eq!(
        s(RowId::Auth("bad_date")),
        (401, Some("SignatureDoesNotMatch".into()))
    );
    assert_eq!(
        s(RowId::Auth("expired")),
        (403, Some("AccessDenied".into()))
    );
    assert_eq!(
        s(RowId::Auth("time_skew")),
        (403, Some("RequestTimeTooSkewed".into()))
    );
    assert_eq!(
        s(RowId::Anonymous("rate_limited")),
        (429, Some("SlowDown".into()))
    );
    assert_eq!(s(RowId::Scope), (403, Some("AccessDenied".into())));
    assert_eq!(
        s(RowId::Sts("InternalError")),
        (500, Some("InternalError".into()))
    );
    assert!(t.expected(RowId::S3("SlowDown")).unwrap().retry_after);
    assert!(t.s3_row("AuthorizationHeaderMalformed").is_none());
    assert!(t.wire_policy.generic_5xx_exact);
}

#[test]
fn aws_statuses() {
    let t = load("aws");
    let s = |row| status(&t, row);
    assert_eq!(
        s(RowId::S3("InvalidAccessKeyId")),
        (403, Some("InvalidAccessKeyId".into()))
    );
    assert_eq!(
        s(RowId::S3("SignatureDoesNotMatch")),
        (403, Some("SignatureDoesNotMatch".into()))
    );
    assert_eq!(
        s(RowId::Auth("bad_signature")),
        (403, Some("SignatureDoesNotMatch".into()))
    );
    let malformed = (400, Some("AuthorizationHeaderMalformed".into()));
    assert_eq!(s(RowId::Auth("bad_authorization_format")), malformed);
    assert_eq!(s(RowId::Auth("bad_date")), malformed);
    assert_eq!(
        s(RowId::S3("ExpiredToken")),
        (400, Some("ExpiredToken".into()))
    );
    assert_eq!(s(RowId::S3("SlowDown")), (503, Some("SlowDown".into())));
    assert_eq!(
        s(RowId::S3("BadGateway")),
        (500, Some("InternalError".into()))
    );
    assert_eq!(
        s(RowId::S3("EntityTooLarge")),
        (400, Some("EntityTooLarge".into()))
    );
    assert_eq!(
        s(RowId::Anonymous("rate_limited")),
        (503, Some("SlowDown".into()))
    );
}

#[test]
fn metrics_map_to_rows() {
    let t = load("documented");
    let (name, labels) = t.metric(RowId::Auth("bad_date")).unwrap();
    assert_eq!(name, "s3_auth_failure_total");
    assert_eq!(labels, vec![("reason".to_owned(), "bad_date".to_owned())]);
    assert_eq!(
        t.metric(RowId::Scope).unwrap().0,
        "s3_scope_violation_total"
    );
    assert!(t.metric(RowId::S3("NoSuchKey")).is_none());
}

#[test]
fn loading_refuses_inconsistent_tables() {
    let base = DOCUMENTED.replace(
        "response = \"InvalidAccessKeyId\"",
        "response = \"NoSuchRow\"",
    );
    assert!(matches!(
        ErrorTable::from_str_named(&base, "t"),
        Err(TableError::Invalid(_, m)) if m.contains("NoSuchRow")
    ));
    let twice = format!(
        "{DOCUMENTED}\n[[s3]]\nrow = \"NoSuchKey\"\nstatus = 404\ncode = \"NoSuchKey\"\ncause = \"x\"\n"
    );
    assert!(ErrorTable::from_str_named(&twice, "t").is_err());
    let unknown = format!("{DOCUMENTED}\nsurprise = 1\n");
    assert!(ErrorTable::from_str_named(&unknown, "t").is_err());
    assert!(matches!(
        ErrorTable::load("/no/such/table.toml"),
        Err(TableError::Read(..))
    ));
}

#[test]
fn a_table_file_path_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        AWS.replace("profile = \"aws\"", "profile = \"mine\""),
    )
    .unwrap();
    let t = ErrorTable::load(path.to_str().unwrap()).unwrap();
    assert_eq!(t.profile, "mine");
}
