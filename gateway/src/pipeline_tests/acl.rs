//! Canned ACLs decided by policy: the ACL a policy reads is looked up only
//! when the live set reads `resource.acl`, it is the stored one for reads
//! and the one a write sets for writes, and what is decided is stored.

use super::{ADMIN, Harness};

/// `admin` may do everything but read objects marked `public-read-write`
/// (a policy that reads `resource.acl`).
const ACL_POLICIES: &str = r#"
@id("admin-may-do-everything")
permit (principal == Credential::"admin", action, resource);

@id("no-world-writable-reads")
forbid (principal, action == Action::"s3:GetObject", resource)
when { resource.acl == "public-read-write" };

@id("no-world-writable-buckets-listed")
forbid (principal, action == Action::"s3:ListObjectsV2", resource)
when { resource.acl == "public-read-write" };
"#;

#[test]
fn reads_are_decided_on_the_stored_acl_and_writes_on_the_one_they_set() {
    let harness = Harness::with_policies("", ACL_POLICIES);
    let admin = Some(ADMIN);
    let put = |key: &str, acl: &str| {
        let target = format!("/source/{key}");
        harness.send(admin, "PUT", &target, &[("x-amz-acl", acl)], b"data")
    };
    // A write is decided on the ACL it sets: nothing to look up.
    let written = put("open", "public-read");
    assert_eq!(
        (written.status, &written.calls[..]),
        (200, &["put_object"][..])
    );
    let read = harness.send(admin, "GET", "/source/open", &[], b"");
    assert_eq!(read.status, 200);
    assert_eq!(read.calls, ["get_object_acl", "get_object"]);
    put("world", "public-read-write");
    let refused = harness.send(admin, "GET", "/source/world", &[], b"");
    assert_eq!(refused.status, 403);
    assert_eq!(refused.calls, ["get_object_acl"], "refused before any read");
    // Changing the stored ACL changes the decision.
    let changed = harness.send(
        admin,
        "PUT",
        "/source/world?acl",
        &[("x-amz-acl", "private")],
        b"",
    );
    assert_eq!(changed.status, 200);
    assert_eq!(changed.calls, ["get_object_acl", "put_object_acl"]);
    assert_eq!(
        harness.send(admin, "GET", "/source/world", &[], b"").status,
        200
    );
    // An invalid ACL is refused before anything is decided or stored.
    let invalid = put("bad", "Public-Read-Write");
    assert_eq!(
        (invalid.status, invalid.code.as_deref()),
        (400, Some("InvalidArgument"))
    );
    assert!(invalid.calls.is_empty(), "{:?}", invalid.calls);
    // Buckets: the stored bucket ACL.
    let bucket = harness.send(
        admin,
        "PUT",
        "/source?acl",
        &[("x-amz-acl", "public-read-write")],
        b"",
    );
    assert_eq!(bucket.calls, ["get_bucket_acl", "put_bucket_acl"]);
    let listed = harness.send(admin, "GET", "/source?list-type=2", &[], b"");
    assert_eq!(
        (listed.status, &listed.calls[..]),
        (403, &["get_bucket_acl"][..])
    );
}

#[test]
fn without_a_policy_reading_acls_nothing_is_looked_up() {
    let harness = Harness::new("");
    let admin = Some(ADMIN);
    let written = harness.send(
        admin,
        "PUT",
        "/source/k",
        &[("x-amz-acl", "public-read-write")],
        b"x",
    );
    assert_eq!(written.status, 200);
    let read = harness.send(admin, "GET", "/source/k", &[], b"");
    assert_eq!((read.status, &read.calls[..]), (200, &["get_object"][..]));
}
