//! Parsing of the SigV4 authentication fields, from the `Authorization`
//! header or from presigned-URL query parameters, and of SigV4 dates.
//!
//! Only syntax is checked here; what the values must equal (scope, clock,
//! signed headers) is checked by the caller, [`super::verify`].

use http::HeaderMap;
use http::header::{AUTHORIZATION, DATE, HeaderValue};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::canonical::QueryParam;
use super::signing::ALGORITHM;
use super::{AuthFailure, AuthFailureReason};

/// Query parameter names of presigned URLs.
pub(crate) mod param {
    pub(crate) const ALGORITHM: &[u8] = b"X-Amz-Algorithm";
    pub(crate) const CREDENTIAL: &[u8] = b"X-Amz-Credential";
    pub(crate) const DATE: &[u8] = b"X-Amz-Date";
    pub(crate) const EXPIRES: &[u8] = b"X-Amz-Expires";
    pub(crate) const SIGNED_HEADERS: &[u8] = b"X-Amz-SignedHeaders";
    pub(crate) const SIGNATURE: &[u8] = b"X-Amz-Signature";
}

/// The authentication fields of a request, syntactically valid.
#[derive(Debug)]
pub(crate) struct ParsedAuth {
    pub(crate) scope: Scope,
    pub(crate) signed_headers: String,
    pub(crate) signature: [u8; 32],
    /// The request time as signed, `yyyymmddThhmmssZ`.
    pub(crate) amz_date: String,
    pub(crate) request_time: OffsetDateTime,
    /// `X-Amz-Expires` in seconds, for presigned URLs.
    pub(crate) expires: Option<u64>,
}

/// The parts of `Credential=access-key/date/region/service/terminator`.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) access_key: String,
    pub(crate) date: String,
    pub(crate) region: String,
    pub(crate) service: String,
    pub(crate) terminator: String,
}

impl Scope {
    /// `date/region/service/terminator`, the credential scope proper.
    pub(crate) fn without_access_key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

fn required<'a>(slot: Option<&'a str>, name: &str) -> Result<&'a str, AuthFailure> {
    slot.ok_or_else(|| bad_format(format!("the authorization header has no `{name}=`")))
}

fn failure(reason: AuthFailureReason, message: impl Into<String>) -> AuthFailure {
    AuthFailure::new(reason, message)
}

fn bad_format(message: impl Into<String>) -> AuthFailure {
    failure(AuthFailureReason::BadAuthorizationFormat, message)
}

/// Parses `AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..`
/// (components in any order, spaces around them ignored) and the request date
/// (`x-amz-date`, else `date`).
pub(crate) fn from_header(headers: &HeaderMap) -> Result<ParsedAuth, AuthFailure> {
    if headers.get_all(AUTHORIZATION).iter().nth(1).is_some() {
        return Err(bad_format(
            "the request carries more than one authorization header",
        ));
    }
    let value = headers
        .get(AUTHORIZATION)
        .map(HeaderValue::to_str)
        .and_then(Result::ok)
        .ok_or_else(|| bad_format("the authorization header is not visible ascii"))?;
    let Some(components) = value
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
    else {
        return Err(bad_format(format!(
            "the authorization header must start with `{ALGORITHM} `"
        )));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for component in components.split(',').map(str::trim) {
        let Some((name, value)) = component.split_once('=') else {
            return Err(bad_format(format!(
                "authorization component `{component}` is not `name=value`"
            )));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(bad_format(format!(
                    "unknown authorization component `{other}`"
                )));
            }
        };
        if slot.replace(value.trim()).is_some() {
            return Err(bad_format(format!(
                "authorization component `{}` is repeated",
                name.trim()
            )));
        }
    }
    let scope = split_credential(required(credential, "Credential")?)?;
    let with_key = |failure: AuthFailure| failure.with_access_key(&scope.access_key);
    let signed_headers = required(signed_headers, "SignedHeaders").map_err(with_key)?;
    let signature = required(signature, "Signature")
        .and_then(decode_signature)
        .map_err(with_key)?;
    let (amz_date, request_time) = header_date(headers).map_err(with_key)?;
    Ok(ParsedAuth {
        scope,
        signed_headers: signed_headers.to_owned(),
        signature,
        amz_date,
        request_time,
        expires: None,
    })
}

/// Parses the `X-Amz-*` parameters of a presigned URL.
pub(crate) fn from_query(params: &[QueryParam]) -> Result<ParsedAuth, AuthFailure> {
    let get = |name: &[u8]| -> Result<Option<String>, AuthFailure> {
        let mut values = params.iter().filter(|p| p.name == name);
        let label = String::from_utf8_lossy(name);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(bad_format(format!("query parameter `{label}` is repeated")));
        }
        String::from_utf8(first.value.clone())
            .map(Some)
            .map_err(|_| bad_format(format!("query parameter `{label}` is not utf-8")))
    };
    let require = |name: &[u8]| {
        get(name)?.ok_or_else(|| {
            bad_format(format!(
                "presigned url has no `{}` parameter",
                String::from_utf8_lossy(name)
            ))
        })
    };
    let algorithm = require(param::ALGORITHM)?;
    if algorithm != ALGORITHM {
        return Err(bad_format(format!(
            "`X-Amz-Algorithm` must be `{ALGORITHM}`, got `{algorithm}`"
        )));
    }
    let scope = split_credential(&require(param::CREDENTIAL)?)?;
    let with_key = |failure: AuthFailure| failure.with_access_key(&scope.access_key);
    let signed_headers = require(param::SIGNED_HEADERS).map_err(with_key)?;
    let signature = require(param::SIGNATURE)
        .and_then(|signature| decode_signature(&signature))
        .map_err(with_key)?;
    let date = get(param::DATE).map_err(with_key)?.ok_or_else(|| {
        failure(
            AuthFailureReason::BadDate,
            "presigned url has no `X-Amz-Date` parameter",
        )
        .with_access_key(&scope.access_key)
    })?;
    let request_time = parse_amz_date(&date)
        .ok_or_else(|| bad_date("X-Amz-Date", &date))
        .map_err(with_key)?;
    let expires = require(param::EXPIRES).map_err(with_key)?;
    let expires = expires
        .parse::<u64>()
        .ok()
        .filter(|secs| (1..=super::MAX_PRESIGNED_EXPIRES).contains(secs))
        .ok_or_else(|| {
            failure(
                AuthFailureReason::InvalidExpires,
                format!(
                    "`X-Amz-Expires` must be a number of seconds from 1 to {}, got `{expires}`",
                    super::MAX_PRESIGNED_EXPIRES
                ),
            )
            .with_access_key(&scope.access_key)
        })?;
    Ok(ParsedAuth {
        scope,
        signed_headers,
        signature,
        amz_date: date,
        request_time,
        expires: Some(expires),
    })
}

fn split_credential(credential: &str) -> Result<Scope, AuthFailure> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = parts[..] else {
        return Err(failure(
            AuthFailureReason::BadCredentialField,
            format!(
                "credential `{credential}` is not `access-key/yyyymmdd/region/service/aws4_request`"
            ),
        ));
    };
    if parts.iter().any(|part| part.is_empty()) {
        return Err(failure(
            AuthFailureReason::BadCredentialField,
            format!("credential `{credential}` has an empty part"),
        ));
    }
    Ok(Scope {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        terminator: terminator.to_owned(),
    })
}

fn decode_signature(signature: &str) -> Result<[u8; 32], AuthFailure> {
    let not_hex = || {
        bad_format(format!(
            "signature `{signature}` is not 64 lowercase hex digits"
        ))
    };
    // SigV4 signatures are lowercase hex; chunk and trailer signatures are
    // held to the same rule.
    if !signature
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(not_hex());
    }
    let mut decoded = [0u8; 32];
    hex::decode_to_slice(signature, &mut decoded).map_err(|_| not_hex())?;
    Ok(decoded)
}

/// The request time of header authentication: `x-amz-date`
/// (`yyyymmddThhmmssZ`), or when absent the `date` header in that format or
/// in the HTTP date format (`Sun, 30 Aug 2015 12:36:00 GMT`).
fn header_date(headers: &HeaderMap) -> Result<(String, OffsetDateTime), AuthFailure> {
    let (name, value) = match headers.get("x-amz-date") {
        Some(value) => ("x-amz-date", value),
        None => match headers.get(DATE) {
            Some(value) => ("date", value),
            None => {
                return Err(failure(
                    AuthFailureReason::BadDate,
                    "the request has neither an `x-amz-date` nor a `date` header",
                ));
            }
        },
    };
    let text = value.to_str().map_err(|_| bad_date(name, "(not ascii)"))?;
    if let Some(time) = parse_amz_date(text) {
        return Ok((text.to_owned(), time));
    }
    if name == "date"
        && let Some(time) = parse_http_date(text)
    {
        return Ok((format_amz_date(time), time));
    }
    Err(bad_date(name, text))
}

/// A `Date` header: the HTTP forms (IMF-fixdate, RFC 850, asctime), or
/// RFC 2822 with a numeric zone (`Sun, 06 Dec 2026 23:01:43 -0000`, as
/// some clients write it).
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    if let Ok(time) = httpdate::parse_http_date(text) {
        return Some(OffsetDateTime::from(time));
    }
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822).ok()
}

fn bad_date(name: &str, value: &str) -> AuthFailure {
    failure(
        AuthFailureReason::BadDate,
        format!("`{name}` value `{value}` is not a date of the form `yyyymmddThhmmssZ`"),
    )
}

/// Parses `yyyymmddThhmmssZ` (UTC), strictly.
pub(crate) fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = bytes.get(range)?;
        digits.iter().try_fold(0u32, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(number(4..6)?).ok()?).ok()?;
    let day = u8::try_from(number(6..8)?).ok()?;
    let hour = u8::try_from(number(9..11)?).ok()?;
    let minute = u8::try_from(number(11..13)?).ok()?;
    let second = u8::try_from(number(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Formats a time as `yyyymmddThhmmssZ` (UTC).
pub(crate) fn format_amz_date(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse_strictly() {
        let time = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(format_amz_date(time), "20150830T123600Z");
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015083OT123600Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T246000Z",
            "+0150830T123600Z",
            "2015-08-30T12:36:00Z",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn date_headers_take_the_http_and_rfc_2822_forms() {
        let expected = parse_amz_date("20261206T230143Z").unwrap();
        for text in [
            "Sun, 06 Dec 2026 23:01:43 GMT",
            "Sun, 06 Dec 2026 23:01:43 -0000",
            "Sun, 06 Dec 2026 23:01:43 +0000",
            "Mon, 07 Dec 2026 01:01:43 +0200",
            "Sunday, 06-Dec-26 23:01:43 GMT",
        ] {
            assert_eq!(parse_http_date(text), Some(expected), "{text}");
        }
        for bad in ["", "20261206T230143Z", "Sun, 06 Dec 2026", "yesterday"] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn signatures_must_be_lowercase_hex() {
        let lower = "ab".repeat(32);
        assert!(decode_signature(&lower).is_ok());
        for bad in [
            "AB".repeat(32),
            "ab".repeat(31),
            format!("{}zz", "ab".repeat(31)),
        ] {
            let error = decode_signature(&bad).expect_err(&bad);
            assert_eq!(
                error.reason,
                super::super::AuthFailureReason::BadAuthorizationFormat
            );
        }
    }
}
