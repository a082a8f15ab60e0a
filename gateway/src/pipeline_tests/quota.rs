//! The quota stage on a capped bucket: writes wait for the usage to be
//! known, one over the hard cap is refused before the backend is asked,
//! and the usage follows PUT and DELETE.

use super::{ADMIN, Harness};

const CAPPED: &str = r#"
[buckets.capped]
backend = "local"
quota = { hard = 100 }
"#;

impl Harness {
    /// The capped bucket's (used, reserved) bytes, `None` while unknown.
    fn usage(&self, bucket: &str) -> Option<(u64, u64)> {
        let rows = self.runtime.block_on(self.gateway.quotas.view());
        let row = rows.into_iter().find(|row| row.bucket == bucket)?;
        Some((row.used?, row.reserved?))
    }
}

#[test]
fn a_capped_bucket_refuses_a_write_over_its_hard_cap_and_counts_puts_and_deletes() {
    let harness = Harness::new(CAPPED);
    let put = |key: &str, size: usize| {
        let body = vec![b'x'; size];
        harness.send(Some(ADMIN), "PUT", &format!("/capped/{key}"), &[], &body)
    };
    // Usage unknown until the bucket is scanned: quotas fail closed (the
    // bytes the key stores, which a write replaces, are looked up first).
    let early = put("a", 10);
    assert_eq!(
        (early.status, early.code.as_deref(), &early.calls[..]),
        (
            503,
            Some("ServiceUnavailable"),
            &["get_bucket_versioning", "head_object"][..]
        ),
        "{}",
        early.body
    );
    assert_eq!(harness.usage("capped"), None);
    harness.runtime.block_on(
        harness
            .gateway
            .quotas
            .scan_unknown(&harness.gateway.buckets.load_full()),
    );
    assert_eq!(harness.usage("capped"), Some((0, 0)));

    let first = put("a", 60);
    assert_eq!(
        (first.status, &first.calls[..]),
        (
            200,
            &["get_bucket_versioning", "head_object", "put_object"][..]
        ),
        "{}",
        first.body
    );
    assert_eq!(harness.usage("capped"), Some((60, 0)));

    // 60 + 60 > 100: refused by the base policy's EntityTooLarge (507 in
    // the `documented` error profile) before the backend is asked.
    let over = put("b", 60);
    assert_eq!(
        (over.status, over.code.as_deref(), &over.calls[..]),
        (507, Some("EntityTooLarge"), &[][..]),
        "{}",
        over.body
    );
    assert_eq!(harness.usage("capped"), Some((60, 0)));

    let deleted = harness.send(Some(ADMIN), "DELETE", "/capped/a", &[], b"");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(harness.usage("capped"), Some((0, 0)));

    let fits = put("b", 60);
    assert_eq!(fits.status, 200, "{}", fits.body);
    assert_eq!(harness.usage("capped"), Some((60, 0)));
}

#[test]
fn a_versioned_bucket_counts_every_stored_version() {
    let harness = Harness::new(CAPPED);
    harness.runtime.block_on(
        harness
            .gateway
            .quotas
            .scan_unknown(&harness.gateway.buckets.load_full()),
    );
    let enable = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    let enabled = harness.send(
        Some(ADMIN),
        "PUT",
        "/capped?versioning",
        &[],
        enable.as_bytes(),
    );
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    let put = |size: usize| {
        let sent = harness.send(Some(ADMIN), "PUT", "/capped/a", &[], &vec![b'x'; size]);
        assert_eq!(sent.status, 200, "{}", sent.body);
        sent.headers
            .iter()
            .find(|(name, _)| name == "x-amz-version-id")
            .map(|(_, value)| value.clone())
            .expect("a version id")
    };
    let old = put(30);
    put(40);
    assert_eq!(harness.usage("capped"), Some((70, 0)));
    // 70 + 40 > 100: the old version still counts.
    let over = harness.send(Some(ADMIN), "PUT", "/capped/b", &[], &[b'x'; 40]);
    assert_eq!(over.status, 507, "{}", over.body);

    // A delete marker frees nothing.
    let marked = harness.send(Some(ADMIN), "DELETE", "/capped/a", &[], b"");
    assert_eq!(marked.status, 204, "{}", marked.body);
    assert_eq!(harness.usage("capped"), Some((70, 0)));

    // Deleting a version frees its bytes.
    let target = format!("/capped/a?versionId={old}");
    let removed = harness.send(Some(ADMIN), "DELETE", &target, &[], b"");
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert_eq!(harness.usage("capped"), Some((40, 0)));
}
