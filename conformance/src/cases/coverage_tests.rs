//! Every row of both built-in tables is proven by at least one case, and
//! every case names a row the tables have.

use super::all;
use crate::table::{ErrorTable, RowId};

/// Rows a case proves directly, plus the S3 rows its row answers with.
fn proven(table: &ErrorTable) -> Vec<String> {
    let mut rows = Vec::new();
    for case in all() {
        rows.push(case.row.to_string());
        let via = match case.row {
            RowId::Auth(r) => table
                .auth_failure
                .iter()
                .find(|x| x.reason == r)
                .map(|x| &x.response),
            RowId::Anonymous(r) => table
                .anonymous_reject
                .iter()
                .find(|x| x.reason == r)
                .map(|x| &x.response),
            RowId::Scope => table.scope_violation.as_ref().map(|s| &s.response),
            _ => None,
        };
        if let Some(s3) = via {
            rows.push(format!("s3.{s3}"));
        }
    }
    rows
}

#[test]
fn every_table_row_has_a_case() {
    for name in ["documented", "aws"] {
        let table = ErrorTable::load(name).unwrap();
        let proven = proven(&table);
        for row in table.row_names() {
            assert!(proven.contains(&row), "{name}: no case proves {row}");
        }
    }
}

#[test]
fn every_case_names_a_row_of_both_tables() {
    for name in ["documented", "aws"] {
        let table = ErrorTable::load(name).unwrap();
        for case in all() {
            assert!(
                table.has_row(case.row),
                "{name}: case {} names missing row {}",
                case.name,
                case.row
            );
        }
    }
}

#[test]
fn the_named_errors_md_cases_exist() {
    let names: Vec<&str> = all().iter().map(|c| c.name).collect();
    for wanted in [
        "request.unrecognised_shape",
        "request.delete_objects_malformed_xml",
        "request.max_keys_negative",
        "request.presign_expires_too_long",
        "request.content_sha256_mismatch",
        "request.bad_content_md5",
        "request.invalid_content_md5",
        "request.streaming_without_length",
        "presign.expired",
        "objects.not_modified",
        "limits.quota_exceeded",
        "limits.rate_limited_credential",
        "sts.expired_session",
        "sts.internal_error",
        "wire.escaping",
        "wire.head_error_no_body",
    ] {
        assert!(names.contains(&wanted), "missing case {wanted}");
    }
}
