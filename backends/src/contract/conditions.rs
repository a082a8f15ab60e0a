//! Contract cases for preconditions: conditional reads (304 / 412) and
//! conditional writes (`If-None-Match: *`, `If-Match`), including a race
//! between concurrent creators.

use std::time::Duration;

use super::{assert_err, clean, declared, fail, get_bytes, must, put, put_with};
use crate::{Backend, BackendError, Conditions, GetOptions, MemoryBody, PutOptions};

/// If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since on
/// reads answer 412 / 304 as S3 does.
pub async fn read_conditions(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/conditions/";
    clean(backend, bucket, prefix).await;
    let key = "contract/conditions/object";
    let etag = put(backend, bucket, key, b"conditional").await.etag;
    let modified = must(
        backend
            .head_object(bucket, key, GetOptions::default())
            .await,
        "head",
    )
    .last_modified;
    let (earlier, later) = (
        modified - Duration::from_secs(3600),
        modified + Duration::from_secs(3600),
    );
    let none = Conditions::default();
    let ok = [
        Conditions {
            if_match: Some(etag.clone()),
            ..none.clone()
        },
        Conditions {
            if_match: Some(format!("\"{etag}\"")),
            ..none.clone()
        },
        Conditions {
            if_match: Some(format!("\"nope\", \"{etag}\"")),
            ..none.clone()
        },
        Conditions {
            if_none_match: Some("\"other\"".into()),
            ..none.clone()
        },
        Conditions {
            if_modified_since: Some(earlier),
            ..none.clone()
        },
        Conditions {
            if_unmodified_since: Some(later),
            ..none.clone()
        },
    ];
    let failed = [
        Conditions {
            if_match: Some("\"nope\"".into()),
            ..none.clone()
        },
        Conditions {
            if_unmodified_since: Some(earlier),
            ..none.clone()
        },
    ];
    let not_modified = [
        Conditions {
            if_none_match: Some(format!("\"{etag}\"")),
            ..none.clone()
        },
        Conditions {
            if_none_match: Some("*".into()),
            ..none.clone()
        },
        Conditions {
            if_modified_since: Some(later),
            ..none.clone()
        },
    ];
    for conditions in ok {
        let options = GetOptions {
            conditions: conditions.clone(),
            ..GetOptions::default()
        };
        must(
            backend.get_object(bucket, key, options.clone()).await,
            &format!("get {conditions:?}"),
        );
        must(
            backend.head_object(bucket, key, options).await,
            &format!("head {conditions:?}"),
        );
    }
    for conditions in failed {
        let options = GetOptions {
            conditions: conditions.clone(),
            ..GetOptions::default()
        };
        let got = backend.get_object(bucket, key, options.clone()).await;
        assert_err!(got, BackendError::PreconditionFailed, "get {conditions:?}");
        let head = backend.head_object(bucket, key, options).await;
        assert_err!(
            head,
            BackendError::PreconditionFailed,
            "head {conditions:?}"
        );
    }
    for conditions in not_modified {
        let options = GetOptions {
            conditions: conditions.clone(),
            ..GetOptions::default()
        };
        match backend.get_object(bucket, key, options.clone()).await {
            Err(BackendError::NotModified { etag: current, .. }) => assert_eq!(current, etag),
            other => fail(format!(
                "get {conditions:?}: expected NotModified, got {:?}",
                other.map(|_| ())
            )),
        }
        let head = backend.head_object(bucket, key, options).await;
        assert_err!(
            head,
            BackendError::NotModified { .. },
            "head {conditions:?}"
        );
    }
    clean(backend, bucket, prefix).await;
}

/// Conditional writes: `If-None-Match: *` creates only, `If-Match` replaces
/// only that version; among concurrent creators exactly one wins.
pub async fn conditional_put(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/conditional-put/";
    clean(backend, bucket, prefix).await;
    let key = "contract/conditional-put/object";
    let create_only = PutOptions {
        conditions: Conditions {
            if_none_match: Some("*".into()),
            ..Conditions::default()
        },
        ..PutOptions::default()
    };
    let first = put_with(backend, bucket, key, b"first", create_only.clone()).await;
    let mut body = MemoryBody::from(&b"second"[..]);
    let again = backend
        .put_object(
            bucket,
            key,
            &mut body,
            declared(create_only.clone(), b"second"),
        )
        .await;
    assert_err!(
        again,
        BackendError::PreconditionFailed,
        "If-None-Match: * on an existing key"
    );
    assert_eq!(get_bytes(backend, bucket, key).await, b"first");

    let if_match = |etag: &str| PutOptions {
        conditions: Conditions {
            if_match: Some(format!("\"{etag}\"")),
            ..Conditions::default()
        },
        ..PutOptions::default()
    };
    let second = put_with(backend, bucket, key, b"second", if_match(&first.etag)).await;
    let mut body = MemoryBody::from(&b"third"[..]);
    let stale = backend
        .put_object(
            bucket,
            key,
            &mut body,
            declared(if_match(&first.etag), b"third"),
        )
        .await;
    assert_err!(
        stale,
        BackendError::PreconditionFailed,
        "If-Match with a stale ETag"
    );
    assert_eq!(get_bytes(backend, bucket, key).await, b"second");
    let mut body = MemoryBody::from(&b"x"[..]);
    let missing = "contract/conditional-put/missing";
    let result = backend
        .put_object(
            bucket,
            missing,
            &mut body,
            declared(if_match(&second.etag), b"x"),
        )
        .await;
    assert_err!(result, BackendError::NoSuchKey, "If-Match on a missing key");

    let racer = "contract/conditional-put/race";
    let bodies: Vec<Vec<u8>> = (0..8).map(|i| format!("writer {i}").into_bytes()).collect();
    let writes = bodies.iter().map(|data| {
        let options = declared(create_only.clone(), data);
        async move {
            let mut body = MemoryBody::from(data.as_slice());
            backend.put_object(bucket, racer, &mut body, options).await
        }
    });
    let results = futures::future::join_all(writes).await;
    let winners: Vec<usize> = (0..results.len()).filter(|i| results[*i].is_ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one concurrent If-None-Match: * write wins: {results:?}"
    );
    let winner = &bodies[winners[0]];
    assert_eq!(&get_bytes(backend, bucket, racer).await, winner);
    clean(backend, bucket, prefix).await;
}
