//! What a successful POST upload answers, as S3 does:
//!
//! - `success_action_redirect` (or the older `redirect`) holding an
//!   `http(s)` URL: 303 See Other to it, with `bucket`, `key` and `etag`
//!   added to its query;
//! - else `success_action_status` `200` (empty), `201` (a `PostResponse`
//!   document: Location, Bucket, Key, ETag), anything else or nothing:
//!   204 No Content.
//!
//! Every answer carries the `ETag` and `Location` headers.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::PostForm;
use crate::xml::Doc;

/// What is left unescaped in a query value: RFC 3986's unreserved set.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What is left unescaped in a key in a URL path: unreserved and `/`.
const PATH: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// The answer to a stored upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostAnswer {
    /// 200, 201, 204 or 303.
    pub status: u16,
    /// Headers to send (`ETag`, `Location`, and `Content-Type` with a body).
    pub headers: Vec<(&'static str, String)>,
    /// The `PostResponse` document for 201, else empty.
    pub body: String,
}

/// The object's URL: `base` (`scheme://host`, no trailing slash) with the
/// bucket and the key path-encoded, path style.
pub fn object_url(base: &str, bucket: &str, key: &str) -> String {
    format!("{base}/{bucket}/{}", utf8_percent_encode(key, PATH))
}

/// The answer to the upload of `key` into the form's bucket, whose
/// (unquoted) ETag is `etag`; `base` as for [`object_url`].
pub fn success(form: &PostForm, key: &str, etag: &str, base: &str) -> PostAnswer {
    let bucket = form.bucket();
    let quoted = format!("\"{etag}\"");
    let location = object_url(base, bucket, key);
    let mut headers = vec![("etag", quoted.clone()), ("location", location.clone())];
    let redirect = form
        .field("success_action_redirect")
        .or_else(|| form.field("redirect"))
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
    if let Some(url) = redirect {
        let separator = if url.contains('?') { '&' } else { '?' };
        let encode = |value: &str| utf8_percent_encode(value, QUERY_VALUE).to_string();
        let target = format!(
            "{url}{separator}bucket={}&key={}&etag={}",
            encode(bucket),
            encode(key),
            encode(&quoted)
        );
        headers.retain(|(name, _)| *name != "location");
        headers.push(("location", target));
        return PostAnswer {
            status: 303,
            headers,
            body: String::new(),
        };
    }
    match form.field("success_action_status") {
        Some("200") => PostAnswer {
            status: 200,
            headers,
            body: String::new(),
        },
        Some("201") => {
            let mut doc = Doc::without_namespace_root("PostResponse");
            doc.text("Location", &location)
                .text("Bucket", bucket)
                .text("Key", key)
                .text("ETag", &quoted);
            headers.push(("content-type", "application/xml".to_owned()));
            PostAnswer {
                status: 201,
                headers,
                body: doc.finish(),
            }
        }
        _ => PostAnswer {
            status: 204,
            headers,
            body: String::new(),
        },
    }
}
