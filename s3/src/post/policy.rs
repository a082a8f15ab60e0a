//! The POST policy document: base64 JSON with an `expiration` and the
//! `conditions` every form must meet, and the check of a form against it.
//!
//! Conditions, as S3 reads them (field names are case-insensitive, values
//! are not):
//!
//! - `{"field": "value"}` and `["eq", "$field", "value"]`: exact match;
//! - `["starts-with", "$field", "prefix"]`: the value starts with the prefix
//!   (an empty prefix allows anything); for `Content-Type`, each
//!   comma-separated type must;
//! - `["content-length-range", min, max]`: the file's size, checked while it
//!   streams (see [`PolicyCheck::length_range`]).
//!
//! Every field of the form must be named by some condition, except the ones
//! S3 exempts ([`is_exempt`]); `bucket` is always a field (the request's
//! bucket). A failed check is AccessDenied "Invalid according to Policy:
//! ..." as S3 words it; a document that does not parse is
//! InvalidPolicyDocument.

use std::time::SystemTime;

use base64::Engine as _;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::PostForm;
use crate::error::{S3Error, S3ErrorCode};

/// The largest policy document accepted, in bytes of base64.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// One condition of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The field (lowercase) equals the value.
    Eq {
        /// Lowercase field name, without `$`.
        field: String,
        /// The value.
        value: String,
    },
    /// The field (lowercase) starts with the prefix.
    StartsWith {
        /// Lowercase field name, without `$`.
        field: String,
        /// The prefix.
        prefix: String,
    },
    /// The file's size is within `min..=max` bytes.
    ContentLengthRange {
        /// Smallest size.
        min: u64,
        /// Largest size.
        max: u64,
    },
}

impl Condition {
    /// The field the condition names (`None` for a length range).
    fn field(&self) -> Option<&str> {
        match self {
            Self::Eq { field, .. } | Self::StartsWith { field, .. } => Some(field),
            Self::ContentLengthRange { .. } => None,
        }
    }

    /// The condition as S3 quotes it in an error message.
    fn describe(&self) -> String {
        match self {
            Self::Eq { field, value } => format!("[\"eq\", \"${field}\", \"{value}\"]"),
            Self::StartsWith { field, prefix } => {
                format!("[\"starts-with\", \"${field}\", \"{prefix}\"]")
            }
            Self::ContentLengthRange { min, max } => {
                format!("[\"content-length-range\", {min}, {max}]")
            }
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// When the policy stops being valid.
    pub expiration: OffsetDateTime,
    /// The conditions, in order.
    pub conditions: Vec<Condition>,
}

/// What a passed check leaves to enforce while the file streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyCheck {
    /// `content-length-range`, when the policy has one (the tightest, when
    /// it has several).
    pub length_range: Option<(u64, u64)>,
}

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidPolicyDocument, message)
}

fn denied(reason: impl std::fmt::Display) -> S3Error {
    S3Error::new(
        S3ErrorCode::AccessDenied,
        format!("Invalid according to Policy: {reason}"),
    )
}

impl PolicyDocument {
    /// Parses the form's `policy` field (base64 of a JSON document).
    ///
    /// # Errors
    ///
    /// InvalidPolicyDocument when it is not base64 of a JSON object with a
    /// valid `expiration` and a `conditions` list of valid conditions.
    pub fn parse(encoded: &str) -> Result<Self, S3Error> {
        if encoded.len() > MAX_POLICY_BYTES {
            return Err(invalid("the policy document is too large"));
        }
        let compact: String = encoded.split_ascii_whitespace().collect();
        let json = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| invalid("Invalid Policy: Invalid 'POST' policy document: not base64"))?;
        let document: Value =
            serde_json::from_slice(&json).map_err(|_| invalid("Invalid Policy: Invalid JSON."))?;
        let Value::Object(document) = document else {
            return Err(invalid(
                "Invalid Policy: the document is not a JSON object.",
            ));
        };
        let expiration = match document.get("expiration") {
            Some(Value::String(text)) => OffsetDateTime::parse(text, &Rfc3339)
                .ok()
                .filter(|_| text.as_bytes().get(10) == Some(&b'T') && text.ends_with('Z'))
                .ok_or_else(|| {
                    invalid(format!(
                        "Invalid Policy: Invalid 'expiration' value: '{text}'"
                    ))
                })?,
            Some(_) => return Err(invalid("Invalid Policy: Invalid 'expiration' value.")),
            None => {
                return Err(invalid("Invalid Policy: Policy missing expiration."));
            }
        };
        let Some(Value::Array(list)) = document.get("conditions") else {
            return Err(invalid("Invalid Policy: Policy missing conditions."));
        };
        let conditions = list
            .iter()
            .map(parse_condition)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            expiration,
            conditions,
        })
    }

    /// Checks `form` against the policy at time `now`: not expired, every
    /// condition met, every field covered.
    ///
    /// # Errors
    ///
    /// AccessDenied "Invalid according to Policy: ..." naming what failed.
    pub fn check(&self, form: &PostForm, now: SystemTime) -> Result<PolicyCheck, S3Error> {
        if OffsetDateTime::from(now) >= self.expiration {
            return Err(denied("Policy expired."));
        }
        let mut check = PolicyCheck::default();
        for condition in &self.conditions {
            let met = match condition {
                Condition::Eq { field, value } => form.value(field) == Some(value.as_str()),
                Condition::StartsWith { field, prefix } => match form.value(field) {
                    None => prefix.is_empty(),
                    Some(value) if field == "content-type" => value
                        .split(',')
                        .all(|one| one.trim_start().starts_with(prefix.as_str())),
                    Some(value) => value.starts_with(prefix.as_str()),
                },
                Condition::ContentLengthRange { min, max } => {
                    let (low, high) = check.length_range.unwrap_or((0, u64::MAX));
                    check.length_range = Some((low.max(*min), high.min(*max)));
                    true
                }
            };
            if !met {
                return Err(denied(format_args!(
                    "Policy Condition failed: {}",
                    condition.describe()
                )));
            }
        }
        let extra: Vec<&str> = form
            .names()
            .filter(|name| !is_exempt(name))
            .filter(|name| !self.conditions.iter().any(|c| c.field() == Some(*name)))
            .collect();
        if !extra.is_empty() {
            return Err(denied(format_args!(
                "Extra input fields: {}",
                extra.join(", ")
            )));
        }
        Ok(check)
    }
}

/// Whether a (lowercase) field needs no condition: the signature, the
/// policy itself, the file, and `x-ignore-*` fields.
pub fn is_exempt(name: &str) -> bool {
    matches!(
        name,
        "x-amz-signature" | "signature" | "awsaccesskeyid" | "file" | "policy"
    ) || name.starts_with("x-ignore-")
}

/// A condition's value: a string, or a number written as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `$field` to the lowercase field name.
fn field_name(value: &Value) -> Option<String> {
    let name = value.as_str()?.strip_prefix('$')?;
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

fn parse_condition(value: &Value) -> Result<Condition, S3Error> {
    let bad = || invalid(format!("Invalid Policy: Invalid Condition: {value}"));
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (field, value) = map.iter().next().ok_or_else(bad)?;
            Ok(Condition::Eq {
                field: field.to_ascii_lowercase(),
                value: text(value).ok_or_else(bad)?,
            })
        }
        Value::Array(items) => {
            let op = items
                .first()
                .and_then(Value::as_str)
                .ok_or_else(bad)?
                .to_ascii_lowercase();
            match (op.as_str(), items.as_slice()) {
                ("eq", [_, field, value]) => Ok(Condition::Eq {
                    field: field_name(field).ok_or_else(bad)?,
                    value: text(value).ok_or_else(bad)?,
                }),
                ("starts-with", [_, field, prefix]) => Ok(Condition::StartsWith {
                    field: field_name(field).ok_or_else(bad)?,
                    prefix: text(prefix).ok_or_else(bad)?,
                }),
                ("content-length-range", [_, min, max]) => {
                    let bound = |v: &Value| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    };
                    let (min, max) = (bound(min).ok_or_else(bad)?, bound(max).ok_or_else(bad)?);
                    if min > max {
                        return Err(bad());
                    }
                    Ok(Condition::ContentLengthRange { min, max })
                }
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
