//! Reads S3 `<Error>` and STS `<ErrorResponse>` bodies with quick-xml into
//! a flat list of element paths and their unescaped text, so checks can ask
//! for `Code` or `Error/Code` without caring about layout.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, Event};

/// Deepest element nesting the reader accepts.
const MAX_DEPTH: usize = 8;

/// A parsed error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDoc {
    /// Whether the body opened with an XML declaration.
    pub declaration: bool,
    /// The root element's name.
    pub root: String,
    /// Leaf elements under the root: path relative to the root
    /// (`Code`, `Error/Code`) and text.
    pub fields: Vec<(String, String)>,
}

impl ErrorDoc {
    /// The text of the first element at `path`.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses `body`; errors describe why it is not well-formed XML.
pub fn parse(body: &[u8]) -> Result<ErrorDoc, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not utf-8".to_owned())?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut doc = ErrorDoc::default();
    let mut path: Vec<String> = Vec::new();
    let mut text_buf = String::new();
    let mut seen_element = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed xml: {e}"))?;
        match event {
            Event::Decl(_) => doc.declaration = !seen_element && path.is_empty(),
            Event::Start(start) => {
                let name = start.local_name().into_inner().to_owned();
                if path.is_empty() {
                    if seen_element {
                        return Err("content after the root element".into());
                    }
                    doc.root.clone_from(&name);
                }
                seen_element = true;
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err("the xml is nested too deeply".into());
                }
                text_buf.clear();
            }
            Event::Empty(start) => {
                let name = start.local_name().into_inner().to_owned();
                if path.is_empty() {
                    doc.root = name;
                    seen_element = true;
                } else {
                    let mut p = path[1..].to_vec();
                    p.push(name);
                    doc.fields.push((p.join("/"), String::new()));
                }
            }
            Event::Text(t) => text_buf.push_str(&t.xml10_content()),
            Event::CData(c) => text_buf.push_str(&c.into_inner()),
            Event::GeneralRef(r) => text_buf.push_str(&resolve(&r)?),
            Event::End(_) => {
                if path.len() > 1 {
                    doc.fields.push((path[1..].join("/"), text_buf.clone()));
                }
                text_buf.clear();
                path.pop();
            }
            Event::DocType(_) => return Err("document type declarations are not allowed".into()),
            Event::Eof => break,
            Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !path.is_empty() {
        return Err("the xml ends inside an element".into());
    }
    if !seen_element {
        return Err("the body has no xml element".into());
    }
    // Keep leaves only: an element with children also produced an entry.
    let parents: Vec<String> = doc
        .fields
        .iter()
        .filter_map(|(p, _)| p.rsplit_once('/').map(|(parent, _)| parent.to_owned()))
        .collect();
    doc.fields.retain(|(p, _)| !parents.contains(p));
    Ok(doc)
}

fn resolve(reference: &BytesRef<'_>) -> Result<String, String> {
    match reference.resolve_char_ref() {
        Ok(Some(ch)) => Ok(ch.to_string()),
        Ok(None) => {
            let name: &str = reference;
            resolve_predefined_entity(name)
                .map(str::to_owned)
                .ok_or_else(|| format!("unknown entity `&{name};`"))
        }
        Err(e) => Err(format!("invalid character reference: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_s3_error_with_escapes() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>no such key</Message>
<Resource>/b/&lt;x&gt;&amp;&quot;y&quot;&#33;</Resource><RequestId>r1</RequestId></Error>"#;
        let doc = parse(body).unwrap();
        assert!(doc.declaration);
        assert_eq!(doc.root, "Error");
        assert_eq!(doc.get("Code"), Some("NoSuchKey"));
        assert_eq!(doc.get("Resource"), Some("/b/<x>&\"y\"!"));
        assert_eq!(doc.get("RequestId"), Some("r1"));
    }

    #[test]
    fn reads_an_sts_error() {
        let body = b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
<Message>m</Message></Error><RequestId>x</RequestId></ErrorResponse>";
        let doc = parse(body).unwrap();
        assert!(!doc.declaration);
        assert_eq!(doc.root, "ErrorResponse");
        assert_eq!(doc.get("Error/Code"), Some("InvalidIdentityToken"));
        assert_eq!(doc.get("Error/Type"), Some("Sender"));
        assert_eq!(doc.get("RequestId"), Some("x"));
        assert_eq!(doc.get("Error"), None);
    }

    #[test]
    fn refuses_broken_xml() {
        assert!(parse(b"<Error><Code>x</Error>").is_err());
        assert!(parse(b"<Error><Key><x>&\"y\"</Key></Error>").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"<Error></Error><Error></Error>").is_err());
    }
}
