//! The SigV4 canonical request, rebuilt from the request exactly as the
//! client sent it.
//!
//! - URI, S3 ([`ServiceRules::S3`]): each `/`-separated segment of the raw
//!   path is percent-decoded once and URI-encoded again (`A-Z a-z 0-9 - . _ ~`
//!   kept, every other byte `%XX` uppercase). No dot-segment removal, no
//!   merging of `//`, no double encoding; an empty path is `/`. `+` stays a
//!   literal `+` (encoded `%2B`).
//! - URI, other services ([`ServiceRules::Generic`]): optional RFC 3986
//!   dot-segment and empty-segment removal, then the raw path is URI-encoded
//!   once more (`%` becomes `%25`), `/` kept. Used by AWS's test vectors.
//! - Query: the pairs of [`crate::query::Query::parse`], the one query
//!   decoding every stage reads (`&`-split, empty pieces skipped, `acl`
//!   means `acl=`, `+` a space, one strict percent-decoding), each
//!   URI-encoded again; sorted by encoded name, then encoded value.
//!   Presigned requests leave out `X-Amz-Signature`. A query that does not
//!   decode is refused, never canonicalised some other way.
//! - Headers: the client's `SignedHeaders` list, in its order; each value with
//!   leading and trailing spaces and tabs removed and inner runs of spaces
//!   collapsed to one; repeated headers joined with `,` in arrival order.

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};

use super::ServiceRules;
use crate::query::{Query, QueryError};

/// Everything except the SigV4 unreserved characters `A-Z a-z 0-9 - . _ ~`.
const AWS_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// As [`AWS_ENCODE`] but keeping `/` (whole-path encoding).
const AWS_ENCODE_PATH: &AsciiSet = &AWS_ENCODE.remove(b'/');

/// A query parameter, percent-decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct QueryParam {
    pub(crate) name: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

/// Splits and decodes a raw query string (without `?`) with the
/// gateway's one query decoding, [`Query::parse`].
pub(crate) fn parse_query(raw_query: &str) -> Result<Vec<QueryParam>, QueryError> {
    Ok(Query::parse(raw_query)?
        .iter()
        .map(|(name, value)| QueryParam {
            name: name.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
        })
        .collect())
}

/// Inputs of a canonical request; `params` are all the query parameters.
pub(crate) struct CanonicalInput<'a> {
    pub(crate) method: &'a str,
    pub(crate) raw_path: &'a str,
    pub(crate) params: &'a [QueryParam],
    /// Parameter left out of the canonical query (`X-Amz-Signature`).
    pub(crate) exclude_param: Option<&'a [u8]>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) signed_headers: &'a [&'a str],
    pub(crate) signed_headers_raw: &'a str,
    pub(crate) payload_hash: &'a str,
}

/// A signed header the request does not carry.
#[derive(Debug)]
pub(crate) struct MissingHeader<'a>(pub(crate) &'a str);

/// Builds the canonical request bytes.
pub(crate) fn canonical_request<'a>(
    input: &CanonicalInput<'a>,
    rules: ServiceRules,
) -> Result<Vec<u8>, MissingHeader<'a>> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(input.method.as_bytes());
    out.push(b'\n');
    match rules {
        ServiceRules::S3 => write_s3_uri(&mut out, input.raw_path),
        ServiceRules::Generic {
            normalize_path: normalize,
        } => {
            let path = if normalize {
                normalize_path(input.raw_path)
            } else if input.raw_path.is_empty() {
                "/".to_owned()
            } else {
                input.raw_path.to_owned()
            };
            push_encoded(&mut out, path.as_bytes(), AWS_ENCODE_PATH);
        }
    }
    out.push(b'\n');
    write_query(&mut out, input.params, input.exclude_param);
    out.push(b'\n');
    for &name in input.signed_headers {
        let mut values = input.headers.get_all(name).iter().peekable();
        if values.peek().is_none() {
            return Err(MissingHeader(name));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed(&mut out, value.as_bytes());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(input.signed_headers_raw.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(input.payload_hash.as_bytes());
    Ok(out)
}

fn push_encoded(out: &mut Vec<u8>, bytes: &[u8], set: &'static AsciiSet) {
    for chunk in percent_encode(bytes, set) {
        out.extend_from_slice(chunk.as_bytes());
    }
}

fn write_s3_uri(out: &mut Vec<u8>, raw_path: &str) {
    if raw_path.is_empty() {
        out.push(b'/');
        return;
    }
    for (i, segment) in raw_path.split('/').enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        let decoded: Vec<u8> = percent_decode(segment.as_bytes()).collect();
        push_encoded(out, &decoded, AWS_ENCODE);
    }
}

fn write_query(out: &mut Vec<u8>, params: &[QueryParam], exclude: Option<&[u8]>) {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|param| Some(param.name.as_slice()) != exclude)
        .map(|param| {
            (
                percent_encode(&param.name, AWS_ENCODE).to_string(),
                percent_encode(&param.value, AWS_ENCODE).to_string(),
            )
        })
        .collect();
    encoded.sort_unstable();
    for (i, (name, value)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
    }
}

/// Trims spaces and tabs at both ends and collapses inner runs of spaces.
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value
        .iter()
        .position(|b| !is_blank(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_blank(b))
        .map_or(start, |i| i + 1);
    let mut previous_space = false;
    for &b in &value[start..end] {
        if b == b' ' && previous_space {
            continue;
        }
        previous_space = b == b' ';
        out.push(b);
    }
}

/// RFC 3986 remove-dot-segments plus removal of empty segments, as AWS
/// specifies for services other than S3.
fn normalize_path(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let mut normalized = String::with_capacity(path.len() + 1);
    for segment in &kept {
        normalized.push('/');
        normalized.push_str(segment);
    }
    let trailing_slash = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if normalized.is_empty() || (trailing_slash && !kept.is_empty()) {
        normalized.push('/');
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3_uri(raw: &str) -> String {
        let mut out = Vec::new();
        write_s3_uri(&mut out, raw);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn s3_uri_is_decoded_once_and_re_encoded() {
        for (raw, canonical) in [
            ("", "/"),
            ("/", "/"),
            ("/bucket/a%20b", "/bucket/a%20b"),
            ("/bucket/a b", "/bucket/a%20b"),
            ("/bucket/a+b", "/bucket/a%2Bb"),
            ("/bucket/a%2Bb", "/bucket/a%2Bb"),
            ("/bucket/%2525", "/bucket/%2525"),
            ("/bucket/a%2fb", "/bucket/a%2Fb"),
            ("/bucket//x/../y/./z", "/bucket//x/../y/./z"),
            ("/bucket/%E1%88%B4", "/bucket/%E1%88%B4"),
            ("/bucket/ሴ", "/bucket/%E1%88%B4"),
            ("/bucket/~-._!*", "/bucket/~-._%21%2A"),
        ] {
            assert_eq!(s3_uri(raw), canonical, "{raw}");
        }
    }

    #[test]
    fn paths_normalise_like_rfc_3986() {
        for (raw, normalized) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/c", "/a/b/c"),
        ] {
            assert_eq!(normalize_path(raw), normalized, "{raw}");
        }
    }

    #[test]
    fn query_is_decoded_sorted_and_re_encoded() {
        let params = parse_query("b=2&a=%7e&acl&&a=1&x=a+b%2Bc&k=&e%3D=%26").unwrap();
        let mut out = Vec::new();
        write_query(&mut out, &params, Some(b"x"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a=1&a=~&acl=&b=2&e%3D=%26&k="
        );
        assert_eq!(params[4].value, b"a b+c");
    }

    fn canonical_query(raw: &str) -> String {
        let mut out = Vec::new();
        write_query(&mut out, &parse_query(raw).unwrap(), None);
        String::from_utf8(out).unwrap()
    }

    /// Raw queries a client or a proxy may send for the same pairs, or
    /// nearly the same: `+`, `%20`, `%2B`, `%25`, `=` in values, empty
    /// names and values, repeated names, UTF-8, reserved characters.
    const TRICKY: &[&str] = &[
        "prefix=team+a/",
        "prefix=team%20a/",
        "prefix=team%20a%2F",
        "prefix=team%2Ba/",
        "prefix=team+%2B+a",
        "prefix=%2B%2b+",
        "a+b=c+d&a%20b=c%20d",
        "prefix=100%25&delimiter=%2F",
        "prefix=%252B",
        "v=a=b&e%3D=%26&acl&&k=",
        "prefix=%C3%A9t%C3%A9+%E2%82%AC",
        "prefix=ሴ+x",
        "list-type=2&prefix=a&prefix=b",
        "x-id=GetObject&response-content-type=text%2Fplain%3B+charset%3Dutf-8",
        "prefix=*!'();:@$,[]",
        "prefix=~-._",
        "++=++",
    ];

    #[test]
    fn canonical_query_and_query_agree_on_every_byte() {
        for raw in TRICKY {
            let query = Query::parse(raw).unwrap();
            let params = parse_query(raw).unwrap();
            assert_eq!(params.len(), query.len(), "{raw}");
            for (param, (name, value)) in params.iter().zip(query.iter()) {
                assert_eq!(param.name, name.as_bytes(), "{raw}");
                assert_eq!(param.value, value.as_bytes(), "{raw}");
            }
            // The canonical query is the decoded pairs encoded once more:
            // decoding it gives the same pairs, sorted.
            let canonical = canonical_query(raw);
            let mut sorted: Vec<(String, String)> = query
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
            sorted.sort_by(|a, b| {
                let encode = |(n, v): &(String, String)| {
                    (
                        percent_encode(n.as_bytes(), AWS_ENCODE).to_string(),
                        percent_encode(v.as_bytes(), AWS_ENCODE).to_string(),
                    )
                };
                encode(a).cmp(&encode(b))
            });
            let again: Vec<(String, String)> = Query::parse(&canonical)
                .unwrap()
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
            assert_eq!(again, sorted, "{raw} -> {canonical}");
        }
        for invalid in ["a=%", "a=%zz", "a=%ff", "%g1=x", "a=+%"] {
            assert!(Query::parse(invalid).is_err(), "{invalid}");
            assert!(parse_query(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn a_space_and_a_plus_sign_differently() {
        let space = canonical_query("prefix=team%20a%2F");
        assert_eq!(space, "prefix=team%20a%2F");
        assert_eq!(canonical_query("prefix=team+a/"), space);
        assert_eq!(canonical_query("prefix=team%20a/"), space);
        assert_eq!(canonical_query("prefix=team%2Ba/"), "prefix=team%2Ba%2F");
        assert_eq!(
            Query::parse("prefix=team+a/").unwrap().get("prefix"),
            Some("team a/")
        );
        assert_eq!(
            Query::parse("prefix=team%2Ba/").unwrap().get("prefix"),
            Some("team+a/")
        );
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        for (value, trimmed) in [
            ("  a   b  ", "a b"),
            ("\ta\t b", "a\t b"),
            ("\"a   b   c\"", "\"a b c\""),
            ("", ""),
            ("   ", ""),
        ] {
            let mut out = Vec::new();
            push_trimmed(&mut out, value.as_bytes());
            assert_eq!(String::from_utf8(out).unwrap(), trimmed, "{value:?}");
        }
    }
}
