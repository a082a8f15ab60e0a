//! Header values as text: how the bytes of a request header become a
//! string, and how a stored string goes back on the wire.
//!
//! HTTP header values are bytes; S3 reads them as UTF-8 and answers in
//! ISO-8859-1 where it can. User metadata sent as `Hello Worldé` (UTF-8, as
//! boto3 and the AWS CLI send it) is stored as that text and answered with
//! the single byte `0xE9` for `é`, which every HTTP client reads back as
//! `é`. A value that ISO-8859-1 cannot carry (`日本`, control characters)
//! is answered RFC 2047 encoded, `=?UTF-8?B?5pel5pys?=`, as S3 documents
//! for non-US-ASCII metadata.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The text of a header value: UTF-8 when the bytes are UTF-8, otherwise
/// ISO-8859-1 (each byte one character), so no byte is ever lost.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().copied().map(char::from).collect(),
    }
}

/// The bytes written on the wire for a header's text: the text itself when
/// it is visible US-ASCII, ISO-8859-1 when every character fits it, and an
/// RFC 2047 `=?UTF-8?B?...?=` encoded word otherwise.
pub fn encode(text: &str) -> Vec<u8> {
    if text.bytes().all(is_plain) {
        return text.as_bytes().to_vec();
    }
    let latin1: Option<Vec<u8>> = text
        .chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .ok()
                .filter(|b| is_plain(*b) || *b >= 0xA0)
        })
        .collect();
    latin1.unwrap_or_else(|| format!("=?UTF-8?B?{}?=", STANDARD.encode(text)).into_bytes())
}

/// Visible US-ASCII, space and tab.
fn is_plain(byte: u8) -> bool {
    byte == b'\t' || (0x20..0x7F).contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_back_as_iso_8859_1_or_rfc_2047() {
        let table: &[(&str, &[u8])] = &[
            ("plain value", b"plain value"),
            ("", b""),
            ("Hello World\u{e9}", b"Hello World\xe9"),
            ("\u{a0}\u{ff}", b"\xa0\xff"),
            ("\u{65e5}\u{672c}", b"=?UTF-8?B?5pel5pys?="),
            ("caf\u{e9} \u{2615}", b"=?UTF-8?B?Y2Fmw6kg4piV?="),
            ("\u{4}mymeta", b"=?UTF-8?B?BG15bWV0YQ==?="),
            ("\u{85}", b"=?UTF-8?B?woU=?="),
        ];
        for (text, wire) in table {
            assert_eq!(encode(text), *wire, "{text:?}");
        }
    }

    #[test]
    fn request_bytes_are_utf_8_or_else_iso_8859_1() {
        let table: &[(&[u8], &str)] = &[
            (b"Hello World\xc3\xa9", "Hello World\u{e9}"),
            (b"Hello World\xe9", "Hello World\u{e9}"),
            (b"ascii", "ascii"),
        ];
        for (bytes, text) in table {
            assert_eq!(decode(bytes), *text, "{bytes:?}");
            assert_eq!(decode(&encode(text)), *text, "round trip of {text:?}");
        }
    }
}
