//! Fuzzes the *route* and *classify* stages: the first line is the method,
//! the second the `Host`, the third the request target (path and query),
//! the rest headers (`name: value` lines). Neither stage may panic; a
//! routed bucket is a valid S3 bucket name, a key is at most what the path
//! carried, and every request that classifies has a name AWS uses.

#![no_main]

use cedargate_s3::classify::classify;
use cedargate_s3::query::Query;
use cedargate_s3::route::route;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let (Some(method), Some(host), Some(target)) = (lines.next(), lines.next(), lines.next())
    else {
        return;
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.trim().as_bytes()),
                HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let suffixes = ["s3.example.com".to_owned()];
    let Ok(routed) = route(Some(host), path, &suffixes) else {
        return;
    };
    if let Some(bucket) = &routed.bucket {
        assert!((3..=63).contains(&bucket.len()), "{bucket:?}");
        assert!(
            bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'),
            "{bucket:?}"
        );
    }
    if let Some(key) = &routed.key {
        assert!(key.len() <= path.len(), "{key:?} from {path:?}");
    }
    let Ok(query) = Query::parse(query) else {
        return;
    };
    if let Ok(operation) = classify(&method, &routed, &query, &headers) {
        assert!(!operation.name().is_empty());
        if routed.bucket.is_none() {
            assert_eq!(operation.name(), "ListBuckets");
        }
    }
});
