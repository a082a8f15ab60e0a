//! Unit tests of the quota ledger's arithmetic and bucket scan.

use super::*;

#[test]
fn deltas_are_signed_and_saturate() {
    assert_eq!(delta(10, 4), 6);
    assert_eq!(delta(4, 10), -6);
    assert_eq!(delta(u64::MAX, 0), i64::MAX);
    assert_eq!(negative(u64::MAX), i64::MIN);
}

#[tokio::test]
async fn a_prefixed_bucket_measures_only_its_prefix() {
    use cedargate_backends::fs::FsBackend;
    use cedargate_backends::{Backend, MemoryBody, PutOptions};

    let dir = tempfile::tempdir().expect("temp dir");
    let fs = Arc::new(FsBackend::new(dir.path()).expect("fs backend"));
    fs.create_bucket_dir("shared").await.expect("bucket");
    let objects = [
        ("tenants/g/a", 3),
        ("tenants/g/d/b", 5),
        ("tenants/g/", 13),
        ("tenants/gx", 17),
        ("tenants/h/c", 7),
        ("top", 11),
    ];
    for (key, size) in objects {
        let data = vec![b'x'; size];
        let mut body = MemoryBody::from(data.as_slice());
        let options = PutOptions {
            content_length: Some(size as u64),
            ..PutOptions::default()
        };
        fs.put_object("shared", key, &mut body, options)
            .await
            .expect("put");
    }
    let target = |prefix: &str| BucketTarget {
        name: "gamma".into(),
        backend: fs.clone(),
        backend_name: "local".into(),
        backend_bucket: "shared".into(),
        prefix: prefix.into(),
        configured: true,
        cors: Default::default(),
    };
    let cases = [
        ("", 56),
        ("tenants/", 45),
        ("tenants/g/", 8),
        ("tenants/g", 38),
    ];
    for (prefix, used) in cases {
        let size = bucket_size(&target(prefix)).await.expect("scan");
        assert_eq!(size, used, "{prefix:?}");
    }
    let gamma = target("tenants/g/");
    assert_eq!(object_size(&gamma, "d/b", None).await.ok(), Some(Some(5)));
    assert_eq!(object_size(&gamma, "top", None).await.ok(), Some(None));
}
