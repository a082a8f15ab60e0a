//! Request targets as S3 wants them: bucket and key in the path (or the
//! bucket in the host), every byte of a key percent-encoded except the
//! unreserved characters and `/`, query parameters encoded the same way
//! (including `/`) and sorted, as SigV4's canonical form expects.
//!
//! # Keys that would mean another key
//!
//! `.` and `/` are sent as they are, so an upstream (or anything between)
//! that resolves dot segments or merges slashes in the path, as URL rules
//! allow, would read `t1/../t2/x` as `t2/x`, outside a bucket's prefix.
//! Percent-encoding the dots would not help: RFC 3986 makes `%2E` the same
//! as `.`. So [`check_key`] refuses, before anything is sent, a key with a
//! `.` or `..` segment, an empty segment other than the last (`a//b`, a
//! leading `/`; `dir/` stays valid) or a backslash (which some servers
//! read as `/`). Every key of a request goes through it: the path's, a
//! copy's source and the keys of a batch delete.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{BackendError, BackendResult};

/// Everything but the unreserved characters `A-Z a-z 0-9 - _ . ~`.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// As [`QUERY`], but `/` stays as it is.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// Percent-encodes an object key for the request path.
pub(super) fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, PATH).to_string()
}

/// Percent-encodes a query parameter name or value (or a header value
/// that S3 decodes, such as `x-amz-copy-source`'s key).
pub(super) fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY).to_string()
}

/// `/bucket/key` as `x-amz-copy-source` wants it (URL-encoded), for a key
/// [`check_key`] accepts.
pub(super) fn copy_source(
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> BackendResult<String> {
    check_key(key)?;
    let mut source = format!("/{}/{}", encode_query(bucket), encode_key(key));
    if let Some(version_id) = version_id {
        source.push_str("?versionId=");
        source.push_str(&encode_query(version_id));
    }
    Ok(source)
}

/// Refuses a key that an upstream could read as another key (see the
/// module docs).
pub(crate) fn check_key(key: &str) -> BackendResult<()> {
    let why = if key.contains('\\') {
        "a backslash, which the bucket's storage may read as `/`"
    } else {
        let mut segments = key.split('/').peekable();
        let mut why = None;
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            if segment == "." || segment == ".." {
                why = Some(
                    "a `.` or `..` segment, which the bucket's storage would resolve to another key",
                );
                break;
            }
            if segment.is_empty() && !last {
                why = Some(
                    "an empty segment (`//` or a leading `/`), which the bucket's storage may merge into another key",
                );
                break;
            }
        }
        match why {
            Some(why) => why,
            None => return Ok(()),
        }
    };
    Err(BackendError::invalid_argument(format!(
        "the object key has {why}; such keys cannot be used in this bucket"
    )))
}

/// Checks a bucket name before it is put into a path or a host name.
pub(super) fn check_bucket(bucket: &str, path_style: bool) -> BackendResult<()> {
    let valid = !bucket.is_empty()
        && bucket.len() <= 255
        && if path_style {
            !bucket.contains('/')
        } else {
            bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
                && !bucket.starts_with(['.', '-'])
                && !bucket.ends_with(['.', '-'])
        };
    if valid {
        Ok(())
    } else {
        Err(BackendError::invalid_argument(
            "the bucket name cannot be used with the s3 backend",
        ))
    }
}

/// The path and query of a request: `/bucket[/key]` (path style) or
/// `/[key]` (virtual-hosted), then `?` and the parameters sorted by name,
/// each `name=value` encoded (a parameter without value is `name=`).
pub(super) fn path_and_query(
    path_style: bool,
    bucket: &str,
    key: Option<&str>,
    query: &[(&str, String)],
) -> String {
    let mut path = String::from("/");
    if path_style {
        path.push_str(&encode_query(bucket));
        if key.is_some() {
            path.push('/');
        }
    }
    if let Some(key) = key {
        path.push_str(&encode_key(key));
    }
    let mut params: Vec<(String, String)> = query
        .iter()
        .map(|(name, value)| (encode_query(name), encode_query(value)))
        .collect();
    params.sort();
    for (i, (name, value)) in params.iter().enumerate() {
        path.push(if i == 0 { '?' } else { '&' });
        path.push_str(name);
        path.push('=');
        path.push_str(value);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_as_s3_wants() {
        let cases = [
            ("plain/key.txt", "plain/key.txt"),
            ("a b", "a%20b"),
            ("a+b", "a%2Bb"),
            ("100%", "100%25"),
            ("%2E%2E", "%252E%252E"),
            ("ü/ñ", "%C3%BC/%C3%B1"),
            ("x//y", "x//y"),
            ("dir/", "dir/"),
            ("/leading", "/leading"),
            ("../escape", "../escape"),
            ("semi;colon", "semi%3Bcolon"),
            ("q?x=1&y=2", "q%3Fx%3D1%26y%3D2"),
            ("#hash", "%23hash"),
            ("~tilde-_.", "~tilde-_."),
            ("back\\slash", "back%5Cslash"),
            ("tab\there", "tab%09here"),
            ("emoji 😀", "emoji%20%F0%9F%98%80"),
            ("a*b(c)!'$,:@", "a%2Ab%28c%29%21%27%24%2C%3A%40"),
        ];
        for (key, encoded) in cases {
            assert_eq!(encode_key(key), encoded, "{key:?}");
        }
        assert_eq!(encode_query("a/b c+d"), "a%2Fb%20c%2Bd");
        assert_eq!(
            copy_source("bkt", "x y/z+", None).ok().as_deref(),
            Some("/bkt/x%20y/z%2B")
        );
        assert_eq!(
            copy_source("bkt", "k", Some("3/L+x")).ok().as_deref(),
            Some("/bkt/k?versionId=3%2FL%2Bx")
        );
        assert!(copy_source("bkt", "t1/../t2/x", None).is_err());
    }

    #[test]
    fn keys_an_upstream_could_read_as_others_are_refused() {
        let accepted = [
            "plain", "dir/", "a/b/c", "a.b", "...", "a/.../b", ".hidden", "a/..b", "%2E%2E",
            "a/%2E/b", "a b/c+d", "t1/dir/",
        ];
        for key in accepted {
            assert!(check_key(key).is_ok(), "{key:?}");
        }
        let refused = [
            ("..", "`..`"),
            (".", "`..`"),
            ("../x", "`..`"),
            ("t1/../t2/x", "`..`"),
            ("a/./b", "`..`"),
            ("up/..", "`..`"),
            ("t1/./", "`..`"),
            ("a//b", "empty"),
            ("/lead", "empty"),
            ("t1//lead", "empty"),
            ("/", "empty"),
            ("dir//", "empty"),
            ("a\\b", "backslash"),
            ("..\\x", "backslash"),
        ];
        for (key, why) in refused {
            let message = check_key(key)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(why), "{key:?}: {message}");
        }
    }

    #[test]
    fn paths_and_queries_are_canonical() {
        let query = [
            ("uploadId", "abc/+=".to_owned()),
            ("partNumber", "3".to_owned()),
        ];
        assert_eq!(
            path_and_query(true, "bkt", Some("a b/c"), &query),
            "/bkt/a%20b/c?partNumber=3&uploadId=abc%2F%2B%3D"
        );
        assert_eq!(
            path_and_query(false, "bkt", Some("/k"), &[]),
            "//k",
            "a leading slash stays"
        );
        assert_eq!(
            path_and_query(true, "bkt", None, &[("uploads", String::new())]),
            "/bkt?uploads="
        );
        assert_eq!(path_and_query(false, "bkt", None, &[]), "/");
    }

    #[test]
    fn bucket_names_are_checked() {
        assert!(check_bucket("my.bucket-1", false).is_ok());
        assert!(check_bucket("My_Bucket", true).is_ok());
        for bad in ["", "My_Bucket", "a/b", "-x", "x.", "a b"] {
            assert!(check_bucket(bad, false).is_err(), "{bad:?}");
        }
        assert!(check_bucket("a/b", true).is_err());
        assert!(check_bucket("", true).is_err());
    }
}
