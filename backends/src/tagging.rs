//! Object tags: S3's rules for a tag set, and the `x-amz-tagging` header
//! form (`k1=v1&k2=v2`, URL-encoded) that PutObject, CopyObject and
//! CreateMultipartUpload carry. The gateway checks a request's tags here
//! before authorizing it; backends that store tags read the header with
//! the same function, so both agree on every tag.

use crate::{BackendError, BackendResult, TagSet};

/// The most tags an object may carry.
pub const MAX_TAGS: usize = 10;
/// The most tags a bucket may carry.
pub const MAX_BUCKET_TAGS: usize = 50;
/// The longest tag key, in characters.
pub const MAX_KEY_CHARS: usize = 128;
/// The longest tag value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;

fn invalid(message: impl Into<String>) -> BackendError {
    BackendError::InvalidTag {
        message: message.into(),
    }
}

/// Whether `c` may appear in a tag key or value: letters, digits, spaces
/// and `+ - = . _ : / @`, as S3 allows.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c)
}

/// Checks `pairs` against S3's rules and returns them as a tag set: at
/// most ten, keys unique, 1 to 128 characters, values up to 256, only the
/// allowed characters, no key in the reserved `aws:` namespace.
pub fn tag_set(pairs: impl IntoIterator<Item = (String, String)>) -> BackendResult<TagSet> {
    checked(pairs, MAX_TAGS, "an object")
}

/// As [`tag_set`], for a bucket's tags: at most fifty.
pub fn bucket_tag_set(pairs: impl IntoIterator<Item = (String, String)>) -> BackendResult<TagSet> {
    checked(pairs, MAX_BUCKET_TAGS, "a bucket")
}

fn checked(
    pairs: impl IntoIterator<Item = (String, String)>,
    max: usize,
    holder: &str,
) -> BackendResult<TagSet> {
    let mut tags = TagSet::new();
    for (key, value) in pairs {
        let chars = key.chars().count();
        if chars == 0 || chars > MAX_KEY_CHARS {
            return Err(invalid(format!(
                "a tag key must be 1 to {MAX_KEY_CHARS} characters long"
            )));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "the value of tag `{key}` is longer than {MAX_VALUE_CHARS} characters"
            )));
        }
        if !key.chars().chain(value.chars()).all(is_tag_char) {
            return Err(invalid(format!(
                "tag `{key}` has a character tags cannot contain"
            )));
        }
        if key.starts_with("aws:") {
            return Err(invalid("tag keys starting with `aws:` are reserved"));
        }
        if tags.insert(key.clone(), value).is_some() {
            return Err(invalid(format!("tag key `{key}` appears more than once")));
        }
        if tags.len() > max {
            return Err(invalid(format!("{holder} can have at most {max} tags")));
        }
    }
    Ok(tags)
}

/// The tag set of an `x-amz-tagging` header value.
pub fn parse_header(value: &str) -> BackendResult<TagSet> {
    let mut pairs = Vec::new();
    for pair in value.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push((decode(key)?, decode(value)?));
    }
    tag_set(pairs)
}

/// The `x-amz-tagging` header value of a tag set.
pub fn to_header(tags: &TagSet) -> String {
    let mut out = String::new();
    for (i, (key, value)) in tags.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode(key));
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// Percent-decodes one component, `+` meaning a space (form encoding).
fn decode(component: &str) -> BackendResult<String> {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| invalid("the x-amz-tagging header is not valid UTF-8"))
}

/// Percent-encodes every byte but the unreserved characters.
fn encode(component: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(component, SET).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_and_round_trip() {
        let tags = parse_header("project=blue&team=data+eng&note=a%2Fb%20c&empty=").unwrap();
        assert_eq!(tags.len(), 4);
        assert_eq!(tags["team"], "data eng");
        assert_eq!(tags["note"], "a/b c");
        assert_eq!(tags["empty"], "");
        assert_eq!(parse_header(&to_header(&tags)).unwrap(), tags);
        assert!(parse_header("").unwrap().is_empty());
        let unicode = parse_header("r%C3%A9gion=%E6%9D%B1%E4%BA%AC").unwrap();
        assert_eq!(unicode["région"], "東京");
    }

    #[test]
    fn rule_breaking_tags_are_refused() {
        let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
        let long_key = format!("{}=v", "k".repeat(129));
        let long_value = format!("k={}", "v".repeat(257));
        let cases = [
            eleven.join("&"),
            long_key,
            long_value,
            "a=1&a=2".to_owned(),
            "=v".to_owned(),
            "aws:x=1".to_owned(),
            "k=%3Cscript%3E".to_owned(),
            "k=%FF".to_owned(),
        ];
        for case in cases {
            assert!(
                matches!(parse_header(&case), Err(BackendError::InvalidTag { .. })),
                "{case:?}"
            );
        }
        let ten: Vec<String> = (0..10).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_header(&ten.join("&")).unwrap().len(), 10);
        let longest = format!("{}={}", "k".repeat(128), "v".repeat(256));
        assert!(parse_header(&longest).is_ok());
    }
}
