//! A streaming `multipart/form-data` reader (RFC 7578 over RFC 2046),
//! without I/O: bytes are pushed in as they arrive and come out as
//! [`FormEvent`]s, so a part's content (the file of a POST upload) streams
//! through and is never held whole.
//!
//! Memory is bounded: part contents are handed out as soon as they cannot
//! be the start of a delimiter (all but the delimiter's length minus one
//! bytes), a part's header block is refused past
//! [`MAX_PART_HEADER_BYTES`], and a preamble past the same size.
//!
//! Strict where S3 is: the body must reach its closing delimiter
//! (`--boundary--`); input that ends before it is [`FormError::Truncated`],
//! so a caller that commits only at [`Step::End`] never keeps a part cut
//! short. A part needs a `Content-Disposition: form-data` header with a
//! `name`; quoted parameters may carry backslash escapes.

use bytes::{Bytes, BytesMut};
use memchr::memmem::Finder;

/// The largest header block of one part, in bytes (and the largest
/// preamble before the first delimiter).
pub const MAX_PART_HEADER_BYTES: usize = 8 * 1024;

/// The longest boundary RFC 2046 allows.
const MAX_BOUNDARY_LEN: usize = 70;

/// Why a body is not a well-formed form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// The `Content-Type` is not `multipart/form-data` with a valid boundary.
    #[error("the content type must be multipart/form-data with a boundary")]
    NotMultipart,
    /// The body breaks the multipart syntax.
    #[error("the body is not well-formed multipart/form-data: {0}")]
    Malformed(&'static str),
    /// A part's header block (or the preamble) is too large.
    #[error("a part's headers exceed {MAX_PART_HEADER_BYTES} bytes")]
    HeadersTooLarge,
    /// The body ended before its closing delimiter.
    #[error("the body ended before the closing boundary")]
    Truncated,
}

/// What one part declares in its headers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartHead {
    /// The field name (`Content-Disposition` `name`), as sent.
    pub name: String,
    /// The file name, for a file part (`filename`), as sent.
    pub filename: Option<String>,
    /// The part's `Content-Type`, when given.
    pub content_type: Option<String>,
}

/// One thing the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormEvent {
    /// A part starts.
    Part(PartHead),
    /// Some of the current part's content.
    Data(Bytes),
    /// The current part ended (its delimiter was found).
    PartEnd,
}

/// What [`FormReader::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An event.
    Event(FormEvent),
    /// Nothing can be said before more input is pushed.
    NeedMore,
    /// The closing delimiter was read: the form is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Right after a delimiter: `--` closes, else the line ends.
    AfterDelimiter,
    /// In a part's header block.
    Headers,
    /// In a part's content.
    Content,
    /// After the closing delimiter.
    Done,
}

/// The reader: push input with [`Self::push`], take events with
/// [`Self::step`], and say the input ended with [`Self::finish`].
#[derive(Debug)]
pub struct FormReader {
    /// `\r\n--boundary`.
    delimiter: Vec<u8>,
    finder: Finder<'static>,
    buf: BytesMut,
    state: State,
    /// Input bytes taken out of the buffer so far.
    consumed: u64,
}

impl FormReader {
    /// A reader for a body of `content_type` (which names the boundary).
    ///
    /// # Errors
    ///
    /// [`FormError::NotMultipart`] unless the type is `multipart/form-data`
    /// with a boundary of 1 to 70 characters.
    pub fn new(content_type: &str) -> Result<Self, FormError> {
        let boundary = boundary(content_type).ok_or(FormError::NotMultipart)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let finder = Finder::new(&delimiter).into_owned();
        // The first delimiter may open the body without a line break before it.
        let mut buf = BytesMut::with_capacity(8 * 1024);
        buf.extend_from_slice(b"\r\n");
        Ok(Self {
            delimiter,
            finder,
            buf,
            state: State::Preamble,
            consumed: 0,
        })
    }

    /// Adds input.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Input bytes the reader has taken in and dealt with (handed out or
    /// parsed), not counting what it still buffers.
    pub fn consumed(&self) -> u64 {
        self.consumed.saturating_sub(2)
    }

    /// Bytes pushed but not yet dealt with.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The input ended.
    ///
    /// # Errors
    ///
    /// [`FormError::Truncated`] unless the closing delimiter was read.
    pub fn finish(&self) -> Result<(), FormError> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(FormError::Truncated),
        }
    }

    fn take(&mut self, n: usize) -> BytesMut {
        self.consumed += n as u64;
        self.buf.split_to(n)
    }

    /// The next event, or what the reader waits for.
    ///
    /// # Errors
    ///
    /// [`FormError::Malformed`] or [`FormError::HeadersTooLarge`]; the
    /// reader is of no further use after an error.
    pub fn step(&mut self) -> Result<Step, FormError> {
        loop {
            match self.state {
                State::Done => return Ok(Step::End),
                State::Preamble => match self.finder.find(&self.buf) {
                    Some(at) => {
                        self.take(at + self.delimiter.len());
                        self.state = State::AfterDelimiter;
                    }
                    None if self.buf.len() > MAX_PART_HEADER_BYTES => {
                        return Err(FormError::HeadersTooLarge);
                    }
                    None => return Ok(Step::NeedMore),
                },
                State::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return Ok(Step::NeedMore);
                    }
                    if self.buf.starts_with(b"--") {
                        let rest = self.buf.len();
                        self.take(rest);
                        self.state = State::Done;
                        return Ok(Step::End);
                    }
                    // Transport padding, then the line break.
                    let padding = self
                        .buf
                        .iter()
                        .take_while(|b| **b == b' ' || **b == b'\t')
                        .count();
                    if padding > MAX_BOUNDARY_LEN {
                        return Err(FormError::Malformed("too much padding after a boundary"));
                    }
                    if self.buf.len() < padding + 2 {
                        return Ok(Step::NeedMore);
                    }
                    if &self.buf[padding..padding + 2] != b"\r\n" {
                        return Err(FormError::Malformed(
                            "a boundary is not followed by a line break",
                        ));
                    }
                    self.take(padding + 2);
                    self.state = State::Headers;
                }
                State::Headers => {
                    let Some(end) = memchr::memmem::find(&self.buf, b"\r\n\r\n") else {
                        if self.buf.starts_with(b"\r\n") {
                            return Err(FormError::Malformed("a part has no headers"));
                        }
                        if self.buf.len() > MAX_PART_HEADER_BYTES {
                            return Err(FormError::HeadersTooLarge);
                        }
                        return Ok(Step::NeedMore);
                    };
                    if end > MAX_PART_HEADER_BYTES {
                        return Err(FormError::HeadersTooLarge);
                    }
                    let block = self.take(end + 4);
                    let head = parse_head(&block[..end])?;
                    self.state = State::Content;
                    return Ok(Step::Event(FormEvent::Part(head)));
                }
                State::Content => {
                    return Ok(match self.finder.find(&self.buf) {
                        Some(0) => {
                            self.take(self.delimiter.len());
                            self.state = State::AfterDelimiter;
                            Step::Event(FormEvent::PartEnd)
                        }
                        Some(at) => Step::Event(FormEvent::Data(self.take(at).freeze())),
                        None => {
                            // What could still be the start of a delimiter stays.
                            let safe = self
                                .buf
                                .len()
                                .saturating_sub(self.delimiter.len().saturating_sub(1));
                            if safe == 0 {
                                Step::NeedMore
                            } else {
                                Step::Event(FormEvent::Data(self.take(safe).freeze()))
                            }
                        }
                    });
                }
            }
        }
    }
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let value = parameters(params)
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value)?;
    let valid = !value.is_empty()
        && value.len() <= MAX_BOUNDARY_LEN
        && value.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !value.ends_with(' ');
    valid.then_some(value)
}

/// Parses one part's header block (lines without the final blank line).
fn parse_head(block: &[u8]) -> Result<PartHead, FormError> {
    let text = std::str::from_utf8(block)
        .map_err(|_| FormError::Malformed("a part's headers are not UTF-8"))?;
    let mut disposition = None;
    let mut content_type = None;
    for line in text.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or(FormError::Malformed("a part header has no colon"))?;
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(FormError::Malformed("a part header has an invalid name"));
        }
        if name.eq_ignore_ascii_case("content-disposition") {
            if disposition.is_some() {
                return Err(FormError::Malformed(
                    "a part has two Content-Disposition headers",
                ));
            }
            disposition = Some(value.trim());
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    let disposition =
        disposition.ok_or(FormError::Malformed("a part has no Content-Disposition"))?;
    let (kind, params) = disposition.split_once(';').unwrap_or((disposition, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(FormError::Malformed("a part is not form-data"));
    }
    let params = parameters(params);
    let find = |wanted: &str| {
        params
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.clone())
    };
    let name = find("name").ok_or(FormError::Malformed("a part has no name"))?;
    Ok(PartHead {
        name,
        filename: find("filename"),
        content_type,
    })
}

/// `; name=value; name="quoted \"value\""` parameters, in order. A
/// malformed parameter (no `=`) is skipped.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ';' || c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ';') {
            name.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            while chars.next_if(|c| *c != ';').is_some() {}
        } else {
            while let Some(c) = chars.next_if(|c| *c != ';') {
                value.push(c);
            }
            value.truncate(value.trim_end().len());
        }
        out.push((name.trim().to_owned(), value));
    }
}

#[cfg(test)]
#[path = "multipart_tests.rs"]
mod tests;
