//! Contract cases for whole objects: round trips, ETags, failed bodies,
//! ranges, conditions, awkward keys, copies and batch deletes.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use md5::{Digest, Md5};

use super::{
    FailingBody, all_keys, assert_err, clean, declared, fail, get_bytes, md5_hex, must, put,
    put_with,
};
use crate::{
    Backend, BackendError, ByteRange, ChecksumAlgorithm, Conditions, GetOptions, ListOptions,
    MemoryBody, ObjectChecksum, ObjectHeaders, ObjectIdentifier, PutOptions,
};

/// Operations on a bucket that does not exist answer `NoSuchBucket`; the
/// bucket under test exists.
pub async fn missing_bucket(backend: &dyn Backend, bucket: &str) {
    must(
        backend.head_bucket(bucket).await,
        "head the bucket under test",
    );
    let missing = "cedargate-contract-no-such-bucket";
    assert_err!(
        backend.head_bucket(missing).await,
        BackendError::NoSuchBucket,
        "head_bucket"
    );
    let listed = backend.list_objects(missing, ListOptions::default()).await;
    assert_err!(listed, BackendError::NoSuchBucket, "list_objects");
    let got = backend
        .get_object(missing, "k", GetOptions::default())
        .await;
    assert_err!(got, BackendError::NoSuchBucket, "get_object");
    let mut body = MemoryBody::from(&b"x"[..]);
    let put = backend
        .put_object(
            missing,
            "k",
            &mut body,
            declared(PutOptions::default(), b"x"),
        )
        .await;
    assert_err!(put, BackendError::NoSuchBucket, "put_object");
}

pub(super) fn sample_headers() -> ObjectHeaders {
    ObjectHeaders {
        content_type: Some("text/plain; charset=utf-8".into()),
        content_encoding: Some("identity".into()),
        content_disposition: Some("attachment; filename=\"a b.txt\"".into()),
        content_language: Some("en".into()),
        cache_control: Some("max-age=60".into()),
        expires: Some("Wed, 21 Oct 2037 07:28:00 GMT".into()),
        ..ObjectHeaders::default()
    }
}

pub(super) fn sample_metadata() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("color".to_owned(), "blue".to_owned()),
        ("shape".to_owned(), "round and flat".to_owned()),
    ])
}

/// Put, head, get and delete keep content, ETag (MD5), headers and user
/// metadata; an overwrite replaces metadata; deletes are idempotent.
pub async fn put_get_head_delete(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/roundtrip/";
    clean(backend, bucket, prefix).await;
    let key = "contract/roundtrip/object.txt";
    let data = b"hello, contract";
    let options = PutOptions {
        headers: sample_headers(),
        user_metadata: sample_metadata(),
        content_length: Some(data.len() as u64),
        content_md5: Some(Md5::digest(data).into()),
        conditions: Conditions::default(),
        // The CRC32 of `data`: upstreams that verify checksums accept it.
        checksum: Some(ObjectChecksum::full_object(
            ChecksumAlgorithm::Crc32,
            "cxrd2A==",
        )),
        multipart_checksum: None,
    };
    let before = SystemTime::now() - Duration::from_secs(300);
    let written = put_with(backend, bucket, key, data, options).await;
    assert_eq!(written.etag, md5_hex(data), "put answers the MD5 ETag");
    assert_eq!(written.size, data.len() as u64);

    let meta = must(
        backend
            .head_object(bucket, key, GetOptions::default())
            .await,
        "head",
    );
    assert_eq!(meta.key, key);
    assert_eq!(meta.size, data.len() as u64);
    assert_eq!(meta.etag, written.etag);
    assert_eq!(meta.headers, sample_headers(), "headers survive");
    assert_eq!(
        meta.user_metadata,
        sample_metadata(),
        "user metadata survives"
    );
    assert_eq!(meta.parts_count, None);
    assert!(meta.last_modified > before, "last_modified is recent");
    assert!(meta.last_modified < SystemTime::now() + Duration::from_secs(300));

    let got = must(
        backend.get_object(bucket, key, GetOptions::default()).await,
        "get",
    );
    assert_eq!(got.range, None);
    assert_eq!(got.meta, meta, "get and head agree");
    let body = crate::collect_body(got.body)
        .await
        .unwrap_or_else(|e| fail(e.to_string()));
    assert_eq!(body, data);

    let chunks = [&b"multi"[..], b"-", b"chunk body"].map(Bytes::from_static);
    let mut body = MemoryBody::new(chunks);
    let options = declared(PutOptions::default(), b"multi-chunk body");
    let rewritten = must(
        backend.put_object(bucket, key, &mut body, options).await,
        "overwrite",
    );
    assert_eq!(
        rewritten.etag,
        md5_hex(b"multi-chunk body"),
        "ETag covers every chunk"
    );
    let meta = must(
        backend
            .head_object(bucket, key, GetOptions::default())
            .await,
        "head",
    );
    assert_eq!(meta.etag, rewritten.etag);
    assert!(
        meta.user_metadata.is_empty(),
        "an overwrite replaces metadata"
    );
    assert_eq!(
        meta.headers.content_type, None,
        "an overwrite replaces headers"
    );
    assert_eq!(get_bytes(backend, bucket, key).await, b"multi-chunk body");

    let empty = put(backend, bucket, "contract/roundtrip/empty", b"").await;
    assert_eq!(empty.etag, "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        get_bytes(backend, bucket, "contract/roundtrip/empty").await,
        b""
    );

    must(backend.delete_object(bucket, key).await, "delete");
    let head = backend
        .head_object(bucket, key, GetOptions::default())
        .await;
    assert_err!(head, BackendError::NoSuchKey, "head after delete");
    let get = backend.get_object(bucket, key, GetOptions::default()).await;
    assert_err!(get, BackendError::NoSuchKey, "get after delete");
    must(
        backend.delete_object(bucket, key).await,
        "deleting a missing key succeeds",
    );
    clean(backend, bucket, prefix).await;
}

/// A Content-MD5 mismatch, a wrong declared length or a failing body
/// stores nothing and leaves the previous object intact.
pub async fn failed_bodies_store_nothing(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/failed/";
    clean(backend, bucket, prefix).await;
    let (old, new) = ("contract/failed/old", "contract/failed/new");
    put(backend, bucket, old, b"previous content").await;
    for key in [old, new] {
        let wrong_md5 = PutOptions {
            content_md5: Some(Md5::digest(b"something else").into()),
            ..declared(PutOptions::default(), b"replacement")
        };
        let mut body = MemoryBody::from(&b"replacement"[..]);
        let result = backend.put_object(bucket, key, &mut body, wrong_md5).await;
        assert_err!(
            result,
            BackendError::BadDigest,
            "Content-MD5 mismatch on `{key}`"
        );
        for declared in [10, 12] {
            let options = PutOptions {
                content_length: Some(declared),
                ..PutOptions::default()
            };
            let mut body = MemoryBody::from(&b"replacement"[..]);
            let result = backend.put_object(bucket, key, &mut body, options).await;
            assert_err!(
                result,
                BackendError::IncompleteBody,
                "length {declared} for 11 bytes"
            );
        }
        let mut body = FailingBody {
            chunks: vec![Bytes::from_static(b"partial")],
        };
        let options = declared(PutOptions::default(), b"partial, then more");
        let result = backend.put_object(bucket, key, &mut body, options).await;
        assert_err!(result, BackendError::Body(_), "failing body on `{key}`");
    }
    assert_eq!(get_bytes(backend, bucket, old).await, b"previous content");
    let head = backend
        .head_object(bucket, new, GetOptions::default())
        .await;
    assert_err!(head, BackendError::NoSuchKey, "nothing was stored");
    assert_eq!(
        all_keys(backend, bucket, prefix).await,
        vec![old.to_owned()]
    );
    clean(backend, bucket, prefix).await;
}

/// Ranges are resolved as S3 does; unsatisfiable ones answer InvalidRange.
pub async fn ranges(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/ranges/";
    clean(backend, bucket, prefix).await;
    let key = "contract/ranges/digits";
    put(backend, bucket, key, b"0123456789").await;
    let from_to = |first, last| ByteRange::FromTo { first, last };
    let cases = [
        (from_to(0, Some(4)), (0, 4), &b"01234"[..]),
        (from_to(2, None), (2, 9), b"23456789"),
        (from_to(5, Some(100)), (5, 9), b"56789"),
        (from_to(9, Some(9)), (9, 9), b"9"),
        (ByteRange::Suffix(3), (7, 9), b"789"),
        (ByteRange::Suffix(30), (0, 9), b"0123456789"),
    ];
    for (range, expected, content) in cases {
        let options = GetOptions {
            range: Some(range),
            ..GetOptions::default()
        };
        let got = must(backend.get_object(bucket, key, options).await, "ranged get");
        assert_eq!(got.range, Some(expected), "{range:?}");
        assert_eq!(got.meta.size, 10, "meta.size is the whole object's size");
        let body = crate::collect_body(got.body)
            .await
            .unwrap_or_else(|e| fail(e.to_string()));
        assert_eq!(body, content, "{range:?}");
    }
    for range in [
        from_to(10, None),
        from_to(10, Some(20)),
        ByteRange::Suffix(0),
    ] {
        let options = GetOptions {
            range: Some(range),
            ..GetOptions::default()
        };
        let got = backend.get_object(bucket, key, options.clone()).await;
        assert_err!(
            got,
            BackendError::InvalidRange { size: 10 },
            "get {range:?}"
        );
        let head = backend.head_object(bucket, key, options).await;
        assert_err!(
            head,
            BackendError::InvalidRange { size: 10 },
            "head {range:?}"
        );
    }
    clean(backend, bucket, prefix).await;
}

/// Keys with spaces, `+`, `%`, unicode, empty segments, trailing `/`, `.`
/// and `..` segments are stored, read back and listed as themselves.
pub async fn awkward_keys(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/awkward/";
    clean(backend, bucket, prefix).await;
    let names = [
        "a b",
        "a+b",
        "100%",
        "%2E%2E",
        "ü/ñ",
        "x//y",
        "dir/",
        "../escape",
        "a/./b",
        ".",
        "up/..",
        "semi;colon",
        "q?x=1&y=2",
        "#hash",
        "~tilde",
        "back\\slash",
        "tab\there",
    ];
    let named: Vec<String> = names.iter().map(|name| format!("{prefix}{name}")).collect();
    // A key the backend would not store as itself is refused, whatever
    // the operation, and never stored; every other key round-trips.
    let (mut keys, refused): (Vec<String>, Vec<String>) = named
        .into_iter()
        .chain(["../contract-escape", "/contract-leading-slash"].map(String::from))
        .partition(|key| backend.check_key(key).is_ok());
    let outside: Vec<&str> = ["../contract-escape", "/contract-leading-slash"]
        .into_iter()
        .filter(|key| keys.iter().any(|k| k == key))
        .collect();
    keys.retain(|key| key.starts_with(prefix));
    for key in &refused {
        let mut body = MemoryBody::from(&b"x"[..]);
        let written = backend
            .put_object(bucket, key, &mut body, PutOptions::default())
            .await;
        assert_err!(written, BackendError::InvalidArgument { .. }, "put `{key}`");
        let read = backend.get_object(bucket, key, GetOptions::default()).await;
        assert_err!(read, BackendError::InvalidArgument { .. }, "get `{key}`");
    }
    for key in keys
        .iter()
        .map(String::as_str)
        .chain(outside.iter().copied())
    {
        let written = put(backend, bucket, key, key.as_bytes()).await;
        assert_eq!(written.etag, md5_hex(key.as_bytes()), "`{key}`");
    }
    for key in keys
        .iter()
        .map(String::as_str)
        .chain(outside.iter().copied())
    {
        assert_eq!(
            get_bytes(backend, bucket, key).await,
            key.as_bytes(),
            "`{key}`"
        );
        let meta = must(
            backend
                .head_object(bucket, key, GetOptions::default())
                .await,
            key,
        );
        assert_eq!(meta.key, key);
    }
    keys.sort();
    assert_eq!(
        all_keys(backend, bucket, prefix).await,
        keys,
        "listed in byte order"
    );
    for key in outside.iter().copied() {
        assert_eq!(all_keys(backend, bucket, key).await, vec![key.to_owned()]);
        must(backend.delete_object(bucket, key).await, key);
    }
    let options = ListOptions {
        prefix: prefix.to_owned(),
        delimiter: Some("/".into()),
        ..ListOptions::default()
    };
    let page = must(
        backend.list_objects(bucket, options).await,
        "list with delimiter",
    );
    let mut expected: Vec<String> = keys
        .iter()
        .filter_map(|key| {
            let rest = key.strip_prefix(prefix)?;
            let folder = rest.find('/')?;
            Some(format!("{prefix}{}", &rest[..=folder]))
        })
        .collect();
    expected.dedup();
    assert_eq!(page.common_prefixes, expected);
    clean(backend, bucket, prefix).await;
    assert!(
        all_keys(backend, bucket, prefix).await.is_empty(),
        "all deleted"
    );
}

/// DeleteObjects answers one success per key, missing keys included.
pub async fn delete_objects(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/delete-many/";
    clean(backend, bucket, prefix).await;
    let keys: Vec<String> = ["one", "two/deep", "missing", "three"]
        .iter()
        .map(|k| format!("{prefix}{k}"))
        .collect();
    for key in keys.iter().filter(|k| !k.ends_with("missing")) {
        put(backend, bucket, key, b"x").await;
    }
    let objects: Vec<ObjectIdentifier> = keys.iter().map(ObjectIdentifier::key).collect();
    let results = must(
        backend.delete_objects(bucket, &objects).await,
        "delete_objects",
    );
    assert_eq!(results.len(), keys.len(), "one result per key");
    for (key, result) in keys.iter().zip(results) {
        must(result, &format!("deleting `{key}`"));
    }
    assert!(
        all_keys(backend, bucket, prefix).await.is_empty(),
        "everything deleted"
    );
}
