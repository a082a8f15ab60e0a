//! POST Object: browser form uploads (`POST /{bucket}` with a
//! `multipart/form-data` body), the protocol side.
//!
//! - [`multipart`]: the streaming form reader;
//! - [`PostForm`] and [`FormCollector`]: the text fields before the file,
//!   read under S3's cap of [`MAX_PRE_DATA_BYTES`], and the file part's
//!   name and type; fields after the file are ignored, as S3 does;
//! - [`policy`]: the policy document and the check of a form against it;
//! - [`signature`]: the form signature over the base64 policy (SigV4 with
//!   the credential scope's signing key, or SigV2);
//! - [`answer`]: what a successful upload answers (204, 200, 201 with a
//!   `PostResponse`, or a 303 to `success_action_redirect`).
//!
//! The gateway streams the file part into the backend's put; this module
//! reads no network and stores nothing.

pub mod answer;
pub mod multipart;
pub mod policy;
pub mod signature;

use std::collections::BTreeMap;

use crate::error::{S3Error, S3ErrorCode};
use multipart::{FormError, FormEvent, PartHead};

/// S3's cap on the form bytes before the file's content (its fields and
/// part headers), 20 KiB.
pub const MAX_PRE_DATA_BYTES: u64 = 20 * 1024;

/// The most fields a form may have before the file.
pub const MAX_FIELDS: usize = 200;

/// The form's fields (names lowercase, in order) and its file part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PostForm {
    fields: BTreeMap<String, String>,
    /// The file part's `filename`, when it has one.
    pub filename: Option<String>,
    /// The file part's own `Content-Type`, when given.
    pub file_content_type: Option<String>,
    /// The request's bucket, which the policy sees as field `bucket`.
    bucket: String,
}

impl PostForm {
    /// A form for `bucket` with `fields` (names in any case) and no file;
    /// for tests and tools.
    ///
    /// # Errors
    ///
    /// InvalidArgument for a field given twice.
    pub fn new<'a>(
        bucket: &str,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, S3Error> {
        let mut form = Self {
            bucket: bucket.to_owned(),
            ..Self::default()
        };
        for (name, value) in fields {
            form.insert(name, value.to_owned())?;
        }
        Ok(form)
    }

    fn insert(&mut self, name: &str, value: String) -> Result<(), S3Error> {
        let name = name.to_ascii_lowercase();
        if self.fields.contains_key(&name) {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!("the form field `{name}` is given more than once"),
            ));
        }
        self.fields.insert(name, value);
        Ok(())
    }

    /// A field's value as sent (`name` lowercase), `bucket` being the
    /// request's bucket and `key` the key with `${filename}` replaced.
    pub fn value(&self, name: &str) -> Option<&str> {
        match name {
            "bucket" => Some(&self.bucket),
            _ => self.fields.get(name).map(String::as_str),
        }
    }

    /// The raw field as sent (`key` before `${filename}` is replaced).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Every field name, lowercase, `bucket` included.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once("bucket").chain(
            self.fields
                .keys()
                .map(String::as_str)
                .filter(|name| *name != "bucket"),
        )
    }

    /// Every field and its value (`bucket` the form's own, if sent).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The request's bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key: the `key` field with every `${filename}` replaced
    /// by the file part's file name (its last path segment, as browsers
    /// on some systems send a whole path).
    ///
    /// # Errors
    ///
    /// InvalidArgument when there is no `key` field, or it is empty.
    pub fn key(&self) -> Result<String, S3Error> {
        let raw = self.field("key").ok_or_else(|| missing_field("key"))?;
        let filename = self.filename.as_deref().unwrap_or_default();
        let filename = filename.rsplit(['/', '\\']).next().unwrap_or_default();
        let key = raw.replace("${filename}", filename);
        if key.is_empty() {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                "User key must have a length greater than 0.",
            ));
        }
        Ok(key)
    }

    /// Replaces the `key` field by the final key, so the policy checks the
    /// key that is stored.
    pub fn resolve_key(&mut self) -> Result<String, S3Error> {
        let key = self.key()?;
        self.fields.insert("key".to_owned(), key.clone());
        Ok(key)
    }
}

/// S3's answer to a form without a required field.
pub fn missing_field(name: &str) -> S3Error {
    S3Error::new(
        S3ErrorCode::InvalidArgument,
        format!(
            "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
        ),
    )
}

/// Maps a form syntax error to its S3 error.
pub fn form_error(error: &FormError) -> S3Error {
    match error {
        FormError::NotMultipart => S3Error::new(
            S3ErrorCode::InvalidArgument,
            "POST requires the multipart/form-data enclosure type with a boundary",
        ),
        FormError::Truncated => S3Error::new(
            S3ErrorCode::IncompleteBody,
            "the body ended before the form's closing boundary",
        ),
        FormError::Malformed(_) | FormError::HeadersTooLarge => S3Error::new(
            S3ErrorCode::MalformedPOSTRequest,
            "The body of your POST request is not well-formed multipart/form-data.",
        )
        .with_detail(error),
    }
}

fn pre_data_too_large() -> S3Error {
    S3Error::new(
        S3ErrorCode::MaxPostPreDataLengthExceeded,
        format!(
            "Your POST request fields preceding the upload file were too large (the limit is {MAX_PRE_DATA_BYTES} bytes)."
        ),
    )
}

/// Gathers the fields before the file from a reader's events.
#[derive(Debug)]
pub struct FormCollector {
    form: PostForm,
    current: Option<(String, Vec<u8>)>,
    count: usize,
}

/// What [`FormCollector::collect`] found.
#[derive(Debug)]
pub enum Collected {
    /// More events are needed.
    More,
    /// The file part starts: the fields are complete.
    File(PostForm),
}

impl FormCollector {
    /// A collector for a form posted to `bucket`.
    pub fn new(bucket: &str) -> Self {
        Self {
            form: PostForm {
                bucket: bucket.to_owned(),
                ..PostForm::default()
            },
            current: None,
            count: 0,
        }
    }

    /// Takes one event; `consumed` is the reader's count of input dealt
    /// with so far, held to [`MAX_PRE_DATA_BYTES`].
    ///
    /// # Errors
    ///
    /// MaxPostPreDataLengthExceeded past the cap or [`MAX_FIELDS`],
    /// InvalidArgument for a field that is not UTF-8 or given twice.
    pub fn collect(&mut self, event: FormEvent, consumed: u64) -> Result<Collected, S3Error> {
        if consumed > MAX_PRE_DATA_BYTES {
            return Err(pre_data_too_large());
        }
        match event {
            FormEvent::Part(PartHead {
                name,
                filename,
                content_type,
            }) => {
                if name.eq_ignore_ascii_case("file") {
                    let mut form = std::mem::take(&mut self.form);
                    form.filename = filename;
                    form.file_content_type = content_type;
                    return Ok(Collected::File(form));
                }
                self.count += 1;
                if self.count > MAX_FIELDS {
                    return Err(pre_data_too_large());
                }
                self.current = Some((name, Vec::new()));
            }
            FormEvent::Data(data) => {
                if let Some((_, value)) = &mut self.current {
                    value.extend_from_slice(&data);
                }
            }
            FormEvent::PartEnd => {
                if let Some((name, value)) = self.current.take() {
                    let value = String::from_utf8(value).map_err(|_| {
                        S3Error::new(
                            S3ErrorCode::InvalidArgument,
                            format!("the form field `{name}` is not UTF-8"),
                        )
                    })?;
                    self.form.insert(&name, value)?;
                }
            }
        }
        Ok(Collected::More)
    }
}

/// S3's answer to a form that ends without a file.
pub fn no_file() -> S3Error {
    S3Error::new(
        S3ErrorCode::IncorrectNumberOfFilesInPostRequest,
        "POST requires exactly one file upload per request.",
    )
}

#[cfg(test)]
mod tests;
