//! Request bodies the gateway reads: `<Delete>` (DeleteObjects),
//! `<CompleteMultipartUpload>` and `<AccessControlPolicy>` (PutObjectAcl,
//! PutBucketAcl).
//!
//! The caller caps the body it buffers (use [`MAX_DELETE_BODY_BYTES`],
//! [`MAX_COMPLETE_BODY_BYTES`] and [`MAX_ACL_BODY_BYTES`]); the parsers
//! check the cap again, limit nesting depth and item counts, refuse DTDs
//! and unknown entities, and ignore elements they do not know (newer SDK
//! fields such as checksums or conditional-delete ETags, an ACL's
//! `DisplayName`). Element names are matched on their local
//! name, so `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
//! `<s3:Delete xmlns:s3="...">` and a bare `<Delete>` are all accepted.
//! Text is taken exactly as sent (keys are never trimmed); only numbers and
//! booleans are trimmed of surrounding whitespace.

use quick_xml::events::Event;
use quick_xml::{Reader, escape::resolve_predefined_entity};

/// The most keys a DeleteObjects request may name.
pub const MAX_DELETE_OBJECTS: usize = 1000;
/// The most parts a CompleteMultipartUpload request may list.
pub const MAX_PARTS: usize = 10_000;
/// The largest `<Delete>` body accepted (1000 keys of up to 1024 bytes,
/// with room for escaping).
pub const MAX_DELETE_BODY_BYTES: usize = 4 << 20;
/// The largest `<CompleteMultipartUpload>` body accepted (10000 parts with
/// checksums).
pub const MAX_COMPLETE_BODY_BYTES: usize = 4 << 20;
/// The most grants an ACL may hold (S3's limit).
pub const MAX_ACL_GRANTS: usize = 100;
/// The largest `<AccessControlPolicy>` body accepted.
pub const MAX_ACL_BODY_BYTES: usize = 64 << 10;
/// The deepest element nesting accepted.
const MAX_DEPTH: usize = 8;

/// Why a request body was refused. Messages are safe to show clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not well-formed, or not the expected document.
    #[error("{0}")]
    Malformed(String),
    /// A `PartNumber` outside 1..=10000.
    #[error("part number `{0}` is not between 1 and 10000")]
    InvalidPartNumber(String),
    /// Parts not in strictly ascending order.
    #[error("parts must be listed in ascending order: part {later} follows part {earlier}")]
    InvalidPartOrder {
        /// The part listed first.
        earlier: u32,
        /// The part listed after it.
        later: u32,
    },
}

impl XmlError {
    /// The S3 error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "MalformedXML",
            Self::InvalidPartNumber(_) => "InvalidArgument",
            Self::InvalidPartOrder { .. } => "InvalidPartOrder",
        }
    }

    /// The client-safe message.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

fn malformed(message: impl Into<String>) -> XmlError {
    XmlError::Malformed(message.into())
}

/// A parsed DeleteObjects body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// `<Quiet>true</Quiet>`: report only failures.
    pub quiet: bool,
    /// The objects to delete, in request order (1..=1000).
    pub objects: Vec<ObjectToDelete>,
}

/// One `<Object>` of a DeleteObjects body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectToDelete {
    /// The key, exactly as sent (never empty; length and content are
    /// checked per key by the caller, as for path keys).
    pub key: String,
    /// `<VersionId>`, when given.
    pub version_id: Option<String>,
}

/// A parsed CompleteMultipartUpload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteMultipartUpload {
    /// The parts in ascending part-number order (1..=10000 of them), ETags
    /// without quotes.
    pub parts: Vec<CompletedPart>,
}

/// One `<Part>` of a CompleteMultipartUpload body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// `<PartNumber>` (1..=10000).
    pub part_number: u32,
    /// `<ETag>`, without quotes.
    pub etag: String,
    /// `<ChecksumCRC32>`... : the part's checksum as the client lists it,
    /// with the algorithm the element names (`CRC32`: what follows
    /// `Checksum`).
    pub checksum: Option<(String, String)>,
}

/// One `<Grant>` of an `<AccessControlPolicy>` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclGrant {
    /// The grantee's canonical user `ID`; `None` for a group (`URI`) or
    /// e-mail grantee.
    pub canonical_id: Option<String>,
    /// The grantee's group `URI`; `None` for a canonical user or e-mail
    /// grantee.
    pub group_uri: Option<String>,
    /// `FULL_CONTROL`, `READ`, `WRITE`, `READ_ACP` or `WRITE_ACP`, as sent.
    pub permission: String,
}

/// Parses the grants of a PutObjectAcl / PutBucketAcl body.
pub fn parse_access_control_policy(body: &[u8]) -> Result<Vec<AclGrant>, XmlError> {
    const GRANT: &[&str] = &["AccessControlPolicy", "AccessControlList", "Grant"];
    let mut grants = Vec::new();
    // (ID, URI, e-mail given, Permission) of the grant being read.
    type Current = (Option<String>, Option<String>, bool, Option<String>);
    let mut current: Option<Current> = None;
    walk(body, GRANT[0], MAX_ACL_BODY_BYTES, |node| {
        match node {
            Node::Open(path) if is(path, GRANT) => {
                if grants.len() >= MAX_ACL_GRANTS {
                    return Err(malformed("an acl may hold at most 100 grants"));
                }
                current = Some((None, None, false, None));
            }
            Node::Open(_) => {}
            Node::Close(path, text) => {
                let Some((id, uri, email, permission)) = &mut current else {
                    return Ok(());
                };
                match path.get(3..).unwrap_or_default() {
                    [grantee, field] if grantee == "Grantee" && field == "ID" => *id = Some(text),
                    [grantee, field] if grantee == "Grantee" && field == "URI" => {
                        *uri = Some(text.trim().to_owned());
                    }
                    [grantee, field] if grantee == "Grantee" && field == "EmailAddress" => {
                        *email = true;
                    }
                    [field] if field == "Permission" => *permission = Some(text.trim().to_owned()),
                    [] if is(path, GRANT) => {
                        let Some((id, uri, email, Some(permission))) = current.take() else {
                            return Err(malformed("every `Grant` needs a `Permission`"));
                        };
                        // A grantee is one of the three; naming more than one
                        // is none of them.
                        let (canonical_id, group_uri) = match (id, uri, email) {
                            (Some(id), None, false) => (Some(id), None),
                            (None, Some(uri), false) => (None, Some(uri)),
                            _ => (None, None),
                        };
                        grants.push(AclGrant {
                            canonical_id,
                            group_uri,
                            permission,
                        });
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    })?;
    Ok(grants)
}

/// Parses a DeleteObjects body.
pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, XmlError> {
    let mut request = DeleteRequest {
        quiet: false,
        objects: Vec::new(),
    };
    let mut current: Option<(Option<String>, Option<String>)> = None;
    walk(body, "Delete", MAX_DELETE_BODY_BYTES, |node| {
        match node {
            Node::Open(path) if is(path, &["Delete", "Object"]) => {
                if request.objects.len() >= MAX_DELETE_OBJECTS {
                    return Err(malformed("a delete request may name at most 1000 objects"));
                }
                current = Some((None, None));
            }
            Node::Open(_) => {}
            Node::Close(path, text) => {
                if is(path, &["Delete", "Quiet"]) {
                    request.quiet = parse_bool("Quiet", &text)?;
                } else if is(path, &["Delete", "Object", "Key"]) {
                    if let Some((key @ None, _)) = &mut current {
                        *key = Some(text);
                    } else {
                        return Err(malformed("an `Object` has more than one `Key`"));
                    }
                } else if is(path, &["Delete", "Object", "VersionId"]) {
                    if let Some((_, version_id)) = &mut current {
                        *version_id = Some(text);
                    }
                } else if is(path, &["Delete", "Object"]) {
                    let Some((Some(key), version_id)) = current.take() else {
                        return Err(malformed("every `Object` needs a `Key`"));
                    };
                    if key.is_empty() {
                        return Err(malformed("an `Object` has an empty `Key`"));
                    }
                    request.objects.push(ObjectToDelete { key, version_id });
                }
            }
        }
        Ok(())
    })?;
    if request.objects.is_empty() {
        return Err(malformed(
            "a delete request must name at least one `Object`",
        ));
    }
    Ok(request)
}

/// Parses a CompleteMultipartUpload body.
pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<CompleteMultipartUpload, XmlError> {
    const ROOT: &str = "CompleteMultipartUpload";
    let mut parts: Vec<CompletedPart> = Vec::new();
    let mut current: Option<(Option<u32>, Option<String>)> = None;
    let mut checksum: Option<(String, String)> = None;
    walk(body, ROOT, MAX_COMPLETE_BODY_BYTES, |node| {
        match node {
            Node::Open(path) if is(path, &[ROOT, "Part"]) => {
                if parts.len() >= MAX_PARTS {
                    return Err(malformed("a multipart upload may list at most 10000 parts"));
                }
                current = Some((None, None));
                checksum = None;
            }
            Node::Open(_) => {}
            Node::Close(path, text)
                if path.len() == 3
                    && is(&path[..2], &[ROOT, "Part"])
                    && path[2].starts_with("Checksum") =>
            {
                let name = &path[2]["Checksum".len()..];
                if !name.is_empty() && name != "Type" {
                    checksum = Some((name.to_owned(), text.trim().to_owned()));
                }
            }
            Node::Close(path, text) => {
                if is(path, &[ROOT, "Part", "PartNumber"]) {
                    if let Some((number, _)) = &mut current {
                        *number = Some(parse_part_number(&text)?);
                    }
                } else if is(path, &[ROOT, "Part", "ETag"]) {
                    if let Some((_, etag)) = &mut current {
                        *etag = Some(unquote(&text).to_owned());
                    }
                } else if is(path, &[ROOT, "Part"]) {
                    let Some((Some(part_number), Some(etag))) = current.take() else {
                        return Err(malformed("every `Part` needs a `PartNumber` and an `ETag`"));
                    };
                    if etag.is_empty() {
                        return Err(malformed("a `Part` has an empty `ETag`"));
                    }
                    if let Some(previous) = parts.last()
                        && previous.part_number >= part_number
                    {
                        return Err(XmlError::InvalidPartOrder {
                            earlier: previous.part_number,
                            later: part_number,
                        });
                    }
                    parts.push(CompletedPart {
                        part_number,
                        etag,
                        checksum: checksum.take(),
                    });
                }
            }
        }
        Ok(())
    })?;
    if parts.is_empty() {
        return Err(malformed(
            "a multipart upload must list at least one `Part`",
        ));
    }
    Ok(CompleteMultipartUpload { parts })
}

fn parse_bool(element: &str, text: &str) -> Result<bool, XmlError> {
    match text.trim() {
        value if value.eq_ignore_ascii_case("true") => Ok(true),
        value if value.eq_ignore_ascii_case("false") => Ok(false),
        value => Err(malformed(format!(
            "`{element}` must be true or false, not `{value}`"
        ))),
    }
}

fn parse_part_number(text: &str) -> Result<u32, XmlError> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!(
            "`PartNumber` must be a number, not `{text}`"
        )));
    }
    match text.parse::<u32>() {
        Ok(number @ 1..=10_000) => Ok(number),
        _ => Err(XmlError::InvalidPartNumber(text.to_owned())),
    }
}

/// An ETag without surrounding whitespace and quotes (SDKs send it quoted).
fn unquote(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(etag)
}

/// The largest Tagging document accepted (ten tags fit in under 5 KiB).
pub const MAX_TAGGING_BODY_BYTES: usize = 64 << 10;

/// Parses a PutObjectTagging body: `<Tagging><TagSet><Tag><Key/><Value/>`
/// ... The tags are in document order; the caller checks S3's rules.
pub fn parse_tagging(body: &[u8]) -> Result<Vec<(String, String)>, XmlError> {
    let mut tags = Vec::new();
    let mut current: (Option<String>, Option<String>) = (None, None);
    walk(body, "Tagging", MAX_TAGGING_BODY_BYTES, |node| {
        match node {
            Node::Open(path) if is(path, &["Tagging", "TagSet", "Tag"]) => {
                if tags.len() >= 64 {
                    return Err(malformed("the tag set has too many tags"));
                }
                current = (None, None);
            }
            Node::Close(path, text) if is(path, &["Tagging", "TagSet", "Tag", "Key"]) => {
                current.0 = Some(text);
            }
            Node::Close(path, text) if is(path, &["Tagging", "TagSet", "Tag", "Value"]) => {
                current.1 = Some(text);
            }
            Node::Close(path, _) if is(path, &["Tagging", "TagSet", "Tag"]) => {
                let (Some(key), Some(value)) = (current.0.take(), current.1.take()) else {
                    return Err(malformed("every Tag needs a Key and a Value"));
                };
                tags.push((key, value));
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(tags)
}

/// The largest VersioningConfiguration document accepted.
pub const MAX_VERSIONING_BODY_BYTES: usize = 16 << 10;

/// A parsed PutBucketVersioning body; values as sent, trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersioningConfiguration {
    /// `<Status>` (`Enabled` or `Suspended`), when given.
    pub status: Option<String>,
    /// `<MfaDelete>` (`Enabled` or `Disabled`), when given.
    pub mfa_delete: Option<String>,
}

/// Parses a PutBucketVersioning body:
/// `<VersioningConfiguration><Status/><MfaDelete/>`.
pub fn parse_versioning(body: &[u8]) -> Result<VersioningConfiguration, XmlError> {
    let mut config = VersioningConfiguration::default();
    walk(
        body,
        "VersioningConfiguration",
        MAX_VERSIONING_BODY_BYTES,
        |node| {
            match node {
                Node::Close(path, text) if is(path, &["VersioningConfiguration", "Status"]) => {
                    config.status = Some(text.trim().to_owned());
                }
                Node::Close(path, text) if is(path, &["VersioningConfiguration", "MfaDelete"]) => {
                    config.mfa_delete = Some(text.trim().to_owned());
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    Ok(config)
}

fn is(path: &[String], expected: &[&str]) -> bool {
    path.len() == expected.len() && path.iter().zip(expected).all(|(name, want)| name == want)
}

/// What [`walk`] reports: an element opened (with the local names from
/// the root down to it), or closed with its text content.
enum Node<'p> {
    Open(&'p [String]),
    Close(&'p [String], String),
}

/// Pulls `body` through quick-xml, checking the root's local name and the
/// limits, and reports each element to `visit`.
fn walk(
    body: &[u8],
    root: &str,
    max_bytes: usize,
    mut visit: impl FnMut(Node<'_>) -> Result<(), XmlError>,
) -> Result<(), XmlError> {
    if body.len() > max_bytes {
        return Err(malformed(format!(
            "the request body is larger than {max_bytes} bytes"
        )));
    }
    let text = std::str::from_utf8(body).map_err(|_| malformed("the request body is not utf-8"))?;
    let mut reader = Reader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut seen_root = false;
    loop {
        let event = reader.read_event().map_err(|_| {
            malformed(format!(
                "the xml is not well-formed (at byte {})",
                reader.error_position()
            ))
        })?;
        let (open, close, content) = match &event {
            Event::Start(start) => (Some(start.local_name().into_inner()), false, None),
            Event::Empty(start) => (Some(start.local_name().into_inner()), true, None),
            Event::End(_) => (None, true, None),
            Event::Text(text) => (None, false, Some(text.xml10_content())),
            Event::CData(cdata) => (None, false, Some(cdata.clone().into_inner())),
            Event::GeneralRef(reference) => (None, false, Some(resolve(reference)?.into())),
            Event::DocType(_) => {
                return Err(malformed("document type declarations are not allowed"));
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => (None, false, None),
        };
        if let Some(name) = open {
            if path.is_empty() && seen_root {
                return Err(malformed("the body has content after the root element"));
            }
            if path.is_empty() && name != root {
                return Err(malformed(format!(
                    "the root element must be `{root}`, not `{name}`"
                )));
            }
            if path.len() >= MAX_DEPTH {
                return Err(malformed("the xml is nested too deeply"));
            }
            seen_root = true;
            path.push(name.to_owned());
            texts.push(String::new());
            visit(Node::Open(&path))?;
        }
        if let Some(content) = content {
            if content.chars().any(|c| !is_xml_char(c)) {
                return Err(malformed(
                    "the xml contains a character XML 1.0 does not allow",
                ));
            }
            match texts.last_mut() {
                Some(text) => text.push_str(&content),
                None if content.trim().is_empty() => {}
                None => return Err(malformed("the body has text outside the root element")),
            }
        }
        if close {
            let text = texts.pop().unwrap_or_default();
            visit(Node::Close(&path, text))?;
            path.pop();
        }
    }
    if !seen_root {
        return Err(malformed(format!("the body must be a `{root}` document")));
    }
    if !path.is_empty() {
        return Err(malformed(format!("the body ends before `</{root}>`")));
    }
    Ok(())
}

/// Whether XML 1.0 allows `c` in a document (`Char` of the specification):
/// not the control characters but tab, LF and CR, nor U+FFFE and U+FFFF.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Resolves `&name;` / `&#N;` to its text; unknown entities are refused.
fn resolve(reference: &quick_xml::events::BytesRef<'_>) -> Result<String, XmlError> {
    match reference.resolve_char_ref() {
        Ok(Some(ch)) => Ok(ch.to_string()),
        Ok(None) => resolve_predefined_entity(reference)
            .map(str::to_owned)
            .ok_or_else(|| malformed(format!("unknown entity `&{};`", &**reference))),
        Err(_) => Err(malformed(format!(
            "invalid character reference `&{};`",
            &**reference
        ))),
    }
}

#[cfg(test)]
mod tests;
