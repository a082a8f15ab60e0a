//! The string builder behind every document, and the value encodings
//! (XML escaping, timestamps, `encoding-type=url`).

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;

use super::{Owner, S3_NAMESPACE, XML_DECLARATION};

/// Escapes `value` for XML text: `&`, `<`, `>`, `"` and `'` as entities,
/// CR, LF and the other control characters (all but tab) as decimal
/// character references (`&#13;`), as AWS writes them.
pub fn escape(value: &str) -> Cow<'_, str> {
    let escaped = quick_xml::escape::escape(value);
    if !escaped.bytes().any(|b| b < 0x20 && b != b'\t') {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 8);
    for ch in escaped.chars() {
        if ch < ' ' && ch != '\t' {
            let _ = write!(out, "&#{};", u32::from(ch));
        } else {
            out.push(ch);
        }
    }
    Cow::Owned(out)
}

/// Formats `time` as S3 does in XML: ISO 8601 UTC with milliseconds,
/// `2009-10-12T17:50:30.000Z`. Times outside years 0000-9999 are written as
/// the Unix epoch.
pub fn timestamp(time: SystemTime) -> String {
    let nanos = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    };
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .filter(|at| (0..=9999).contains(&at.year()))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// What S3 leaves unencoded under `encoding-type=url`: letters, digits,
/// `-`, `_`, `.`, `*` and `/`. A space becomes `%20`, as any other byte.
const URL_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/');

/// URL-encodes a key-like value as S3 does for `encoding-type=url`
/// (`a+ b/c~` becomes `a%2B%20b/c%7E`).
pub fn url_encode(value: &str) -> String {
    utf8_percent_encode(value, URL_ENCODE_SET).to_string()
}

/// Builds one document: declaration, root with the S3 namespace, elements.
#[derive(Debug)]
pub struct Doc {
    out: String,
    root: &'static str,
}

impl Doc {
    /// Starts a result document whose root carries the S3 namespace.
    pub fn new(root: &'static str) -> Self {
        Self {
            out: format!("{XML_DECLARATION}\n<{root} xmlns=\"{S3_NAMESPACE}\">"),
            root,
        }
    }

    /// Starts a document whose root has no namespace (`<Error>`).
    pub fn without_namespace_root(root: &'static str) -> Self {
        Self {
            out: format!("{XML_DECLARATION}\n<{root}>"),
            root,
        }
    }

    /// Opens a container element.
    pub fn open(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.out, "<{name}>");
        self
    }

    /// Opens a container element with fixed attributes (never client data).
    pub fn open_with(&mut self, name: &str, attributes: &'static str) -> &mut Self {
        let _ = write!(self.out, "<{name} {attributes}>");
        self
    }

    /// Closes a container element.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.out, "</{name}>");
        self
    }

    /// Writes `<name>value</name>` with `value` escaped.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        let _ = write!(self.out, "<{name}>{}</{name}>", escape(value));
        self
    }

    /// Writes escaped text directly inside the current element.
    pub fn content(&mut self, value: &str) -> &mut Self {
        self.out.push_str(&escape(value));
        self
    }

    /// Writes the element only when `value` is given.
    pub fn text_opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.text(name, value);
        }
        self
    }

    /// Writes a key-like value, URL-encoded when `url` is set.
    pub fn key(&mut self, name: &str, value: &str, url: bool) -> &mut Self {
        if url {
            self.text(name, &url_encode(value))
        } else {
            self.text(name, value)
        }
    }

    /// Writes a number or boolean.
    pub fn value(&mut self, name: &str, value: impl Display) -> &mut Self {
        self.text(name, &value.to_string())
    }

    /// Writes an ETag, quoted as S3 does.
    pub fn etag(&mut self, etag: &str) -> &mut Self {
        self.text("ETag", &format!("\"{etag}\""))
    }

    /// Writes a timestamp element.
    pub fn time(&mut self, name: &str, time: SystemTime) -> &mut Self {
        self.text(name, &timestamp(time))
    }

    /// Writes an `Owner`-shaped element (`Owner`, `Initiator`).
    pub fn owner(&mut self, name: &str, owner: &Owner) -> &mut Self {
        self.open(name)
            .text("ID", &owner.id)
            .text_opt("DisplayName", owner.display_name.as_deref())
            .close(name)
    }

    /// Closes the root and returns the document.
    pub fn finish(mut self) -> String {
        let root = self.root;
        self.close(root);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn escapes_hostile_values() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(
            escape(r#"<a href="x">&'b'</a>]]>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;b&apos;&lt;/a&gt;]]&gt;"
        );
        assert_eq!(escape("a\r\nb\tc\u{1}"), "a&#13;&#10;b\tc&#1;");
    }

    #[test]
    fn formats_timestamps_with_milliseconds() {
        let at = UNIX_EPOCH + Duration::from_millis(1_255_369_830_123);
        assert_eq!(timestamp(at), "2009-10-12T17:50:30.123Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(timestamp(before), "1969-12-31T00:00:00.000Z");
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(timestamp(far), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn url_encodes_like_s3() {
        assert_eq!(url_encode("a+ b.txt"), "a%2B%20b.txt");
        assert_eq!(url_encode("quux ab/"), "quux%20ab/");
        assert_eq!(url_encode("dir/a*b-c_d~e%20"), "dir/a*b-c_d%7Ee%2520");
        assert_eq!(url_encode("été\n&"), "%C3%A9t%C3%A9%0A%26");
    }
}
