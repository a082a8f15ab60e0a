//! [`BodyPlan`]: how a request body must be decoded and verified, decided
//! from the request headers and the signed payload hash before any body byte
//! is read (end of the *authenticate* stage).
//!
//! Rules, each refusal with its documented S3 error:
//!
//! - `x-amz-content-sha256: STREAMING-...` selects `aws-chunked` decoding in
//!   one of the [`StreamingMode`]s; another `STREAMING-` value (SigV4a's
//!   `STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD`, ...) is NotImplemented.
//!   `x-amz-decoded-content-length` is then required (MissingContentLength)
//!   and must be a decimal integer (InvalidRequest). `Content-Encoding:
//!   aws-chunked` is not required: clients that omit it are still decoded
//!   (see [`stored_content_encoding`] for what to store).
//! - `x-amz-trailer` names the trailers that may follow the final chunk: only
//!   `x-amz-checksum-*` names, only in a `...-TRAILER` mode (InvalidRequest).
//! - At most one checksum algorithm per request, from one
//!   `x-amz-checksum-<algorithm>` header or one declared trailer
//!   (InvalidRequest); a header value that is not base64 of the right
//!   length is InvalidDigest before the body is read. Other
//!   `x-amz-checksum-*` headers (`-type`, `-algorithm`) and
//!   `x-amz-sdk-checksum-algorithm` are not checksums and are ignored here.

use http::HeaderMap;

use super::checksum::{CHECKSUM_HEADER_PREFIX, ChecksumAlgorithm};
use super::chunked::{ChunkedLimits, StreamingMode};
use crate::error::{S3Error, S3ErrorCode};
use crate::sigv4::{PayloadHash, SigningContext};

/// `x-amz-decoded-content-length`: the payload length of an `aws-chunked` body.
pub const DECODED_CONTENT_LENGTH: &str = "x-amz-decoded-content-length";
/// `x-amz-trailer`: the trailers an `aws-chunked` body will carry.
pub const TRAILER: &str = "x-amz-trailer";

/// Where the expected checksum comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChecksumSource {
    /// An `x-amz-checksum-*` request header with this value.
    Header(String),
    /// The trailer of the same name.
    Trailer,
}

/// The `aws-chunked` part of a plan.
#[derive(Clone, Debug)]
pub struct Chunked {
    /// Which `STREAMING-*` mode the payload hash selected.
    pub mode: StreamingMode,
    /// Key and seed signature of the chunk chain (signed modes only).
    pub signing: Option<SigningContext>,
    /// The trailers `x-amz-trailer` declared.
    pub declared_trailers: Vec<String>,
    /// `x-amz-decoded-content-length`.
    pub decoded_length: u64,
}

/// How to decode and verify one request body; built by
/// [`BodyPlan::from_request`], consumed by the service's body reader.
#[derive(Clone, Debug)]
pub struct BodyPlan {
    /// The `aws-chunked` decoding, when the body is chunked.
    pub chunked: Option<Chunked>,
    /// The checksum the body must match, and where its value comes from.
    pub checksum: Option<(ChecksumAlgorithm, ChecksumSource)>,
    /// Limits of the `aws-chunked` decoder.
    pub limits: ChunkedLimits,
}

impl BodyPlan {
    /// Plans the body of a request whose headers are `headers`, whose
    /// signed payload hash is `payload`, signed with `signing` (`None` for
    /// anonymous requests, which cannot use the signed streaming modes).
    pub fn from_request(
        headers: &HeaderMap,
        payload: &PayloadHash,
        signing: Option<&SigningContext>,
    ) -> Result<Self, S3Error> {
        let header_checksum = checksum_header(headers)?;
        let declared_trailers = declared_trailers(headers)?;
        let trailer_checksum = match declared_trailers.as_slice() {
            [] => None,
            [name] => ChecksumAlgorithm::from_header_name(name),
            [_, _, ..] => {
                return Err(invalid(
                    "x-amz-trailer may declare only one checksum trailer",
                ));
            }
        };
        let checksum = match (header_checksum, trailer_checksum) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "a checksum may be sent as a header or as a trailer, not both",
                ));
            }
            (Some((algorithm, value)), None) => Some((algorithm, ChecksumSource::Header(value))),
            (None, Some(algorithm)) => Some((algorithm, ChecksumSource::Trailer)),
            (None, None) => None,
        };
        let chunked = match payload {
            PayloadHash::Streaming(value) => {
                Some(plan_chunked(headers, value, signing, declared_trailers)?)
            }
            PayloadHash::Unsigned | PayloadHash::Sha256(_) if !declared_trailers.is_empty() => {
                return Err(invalid(
                    "x-amz-trailer requires an aws-chunked `STREAMING-*-TRAILER` payload",
                ));
            }
            PayloadHash::Unsigned | PayloadHash::Sha256(_) => None,
        };
        Ok(Self {
            chunked,
            checksum,
            limits: ChunkedLimits::default(),
        })
    }

    /// Replaces the default `aws-chunked` limits.
    pub fn with_limits(mut self, limits: ChunkedLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The `aws-chunked` mode, when the body is `aws-chunked`.
    pub fn streaming_mode(&self) -> Option<StreamingMode> {
        self.chunked.as_ref().map(|chunked| chunked.mode)
    }

    /// The payload length from `x-amz-decoded-content-length`, for
    /// `aws-chunked` bodies (the object's size; `Content-Length` is the wire
    /// length). `None` for plain bodies, whose length is `Content-Length`.
    pub fn decoded_content_length(&self) -> Option<u64> {
        self.chunked.as_ref().map(|chunked| chunked.decoded_length)
    }

    /// The checksum algorithm the body is verified with, if any.
    pub fn checksum_algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.checksum.as_ref().map(|(algorithm, _)| *algorithm)
    }
}

fn plan_chunked(
    headers: &HeaderMap,
    value: &str,
    signing: Option<&SigningContext>,
    declared_trailers: Vec<String>,
) -> Result<Chunked, S3Error> {
    let mode = StreamingMode::from_content_sha256(value).ok_or_else(|| {
        S3Error::new(
            S3ErrorCode::NotImplemented,
            format!("payload mode `{value}` is not supported"),
        )
    })?;
    if !mode.has_trailers() && !declared_trailers.is_empty() {
        return Err(invalid(format!(
            "x-amz-trailer is not allowed with `{}`",
            mode.as_str()
        )));
    }
    let signing = match (mode.is_signed(), signing) {
        (true, None) => {
            return Err(invalid(format!(
                "`{}` requires a signed request",
                mode.as_str()
            )));
        }
        (true, Some(signing)) => Some(signing.clone()),
        (false, _) => None,
    };
    let decoded_length = single_value(headers, DECODED_CONTENT_LENGTH)?.ok_or_else(|| {
        S3Error::new(
            S3ErrorCode::MissingContentLength,
            "an aws-chunked upload must carry x-amz-decoded-content-length",
        )
    })?;
    let decoded_length = Some(decoded_length)
        .filter(|v| !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| invalid("x-amz-decoded-content-length is not a decimal integer"))?;
    Ok(Chunked {
        mode,
        signing,
        declared_trailers,
        decoded_length,
    })
}

/// The one `x-amz-checksum-<algorithm>` header, its value validated.
fn checksum_header(headers: &HeaderMap) -> Result<Option<(ChecksumAlgorithm, String)>, S3Error> {
    let mut found: Option<(ChecksumAlgorithm, String)> = None;
    for name in headers.keys() {
        let Some(algorithm) = ChecksumAlgorithm::from_header_name(name.as_str()) else {
            continue;
        };
        if found.is_some() {
            return Err(invalid(
                "expecting a single x-amz-checksum- header; multiple checksum types are not allowed",
            ));
        }
        let value = single_value(headers, name.as_str())?.unwrap_or_default();
        algorithm.decode_value(value)?;
        found = Some((algorithm, value.to_owned()));
    }
    Ok(found)
}

/// The lowercased names of `x-amz-trailer` (comma-separated, possibly
/// repeated), each an `x-amz-checksum-*` name.
fn declared_trailers(headers: &HeaderMap) -> Result<Vec<String>, S3Error> {
    let mut names = Vec::new();
    for value in headers.get_all(TRAILER) {
        let value = value
            .to_str()
            .map_err(|_| invalid("x-amz-trailer is not ASCII"))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_ascii_lowercase();
            if !name.starts_with(CHECKSUM_HEADER_PREFIX)
                || ChecksumAlgorithm::from_header_name(&name).is_none()
            {
                return Err(invalid(format!(
                    "x-amz-trailer names `{name}`, which is not a supported x-amz-checksum-* trailer"
                )));
            }
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// The value of a header that must appear at most once, as ASCII.
fn single_value<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, S3Error> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid(format!("{name} was sent more than once")));
    }
    value
        .to_str()
        .map(|v| Some(v.trim()))
        .map_err(|_| invalid(format!("{name} is not ASCII")))
}

/// `Content-Encoding` as it should be stored: as the client spelled it (S3
/// returns `deflate, gzip` as sent), except that the `aws-chunked` coding and
/// the separator next to it are removed (S3 removes them); `None` when
/// nothing remains. Several `Content-Encoding` lines are joined with `, `.
pub fn stored_content_encoding(headers: &HeaderMap) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(without_aws_chunked)
        .filter(|value| !value.is_empty())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// One `Content-Encoding` value without its `aws-chunked` codings: each
/// coding keeps the spacing that followed its separator.
fn without_aws_chunked(value: &str) -> String {
    let codings: Vec<&str> = value
        .split(',')
        .filter(|coding| !coding.trim().eq_ignore_ascii_case("aws-chunked"))
        .collect();
    let joined = codings.join(",");
    let kept = joined.trim();
    if kept.split(',').all(|coding| coding.trim().is_empty()) {
        String::new()
    } else {
        kept.to_owned()
    }
}

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidRequest, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::chunked::tests::signing;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    type Expected = Result<
        (
            Option<StreamingMode>,
            Option<u64>,
            Option<ChecksumAlgorithm>,
        ),
        S3ErrorCode,
    >;

    /// Name, payload hash, headers, whether the request is signed, outcome.
    type Case<'a> = (
        &'a str,
        &'a PayloadHash,
        Vec<(&'a str, &'a str)>,
        bool,
        Expected,
    );

    #[test]
    fn plans_follow_the_documented_rules() {
        use ChecksumAlgorithm::*;
        use S3ErrorCode as C;
        use StreamingMode::*;
        let unsigned = PayloadHash::Streaming(UnsignedPayloadTrailer.as_str().into());
        let signed = PayloadHash::Streaming(SignedPayload.as_str().into());
        let signed_trailer = PayloadHash::Streaming(SignedPayloadTrailer.as_str().into());
        let ecdsa = PayloadHash::Streaming("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD".into());
        let sha = PayloadHash::Sha256([0; 32]);
        let length = ("x-amz-decoded-content-length", "3000");
        let crc_trailer = ("x-amz-trailer", "x-amz-checksum-crc32");
        let crc_header = ("x-amz-checksum-crc32", "DUoRhQ==");
        let ok = |mode, length, algorithm| -> Expected { Ok((mode, length, algorithm)) };
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            ("botocore trailer", &unsigned, vec![length, crc_trailer], false, ok(Some(UnsignedPayloadTrailer), Some(3000), Some(Crc32))),
            ("upper-case trailer name", &unsigned, vec![length, ("x-amz-trailer", " X-Amz-Checksum-SHA256 ")], false, ok(Some(UnsignedPayloadTrailer), Some(3000), Some(Sha256))),
            ("signed chunks", &signed, vec![length], true, ok(Some(SignedPayload), Some(3000), None)),
            ("signed chunks and header checksum", &signed, vec![length, crc_header], true, ok(Some(SignedPayload), Some(3000), Some(Crc32))),
            ("signed trailer", &signed_trailer, vec![length, ("x-amz-trailer", "x-amz-checksum-crc64nvme")], true, ok(Some(SignedPayloadTrailer), Some(3000), Some(Crc64Nvme))),
            ("trailer mode without trailers", &unsigned, vec![length], false, ok(Some(UnsignedPayloadTrailer), Some(3000), None)),
            ("plain with checksum header", &sha, vec![crc_header], false, ok(None, None, Some(Crc32))),
            ("not checksums", &PayloadHash::Unsigned, vec![("x-amz-checksum-type", "FULL_OBJECT"), ("x-amz-checksum-algorithm", "CRC32"), ("x-amz-sdk-checksum-algorithm", "CRC32")], false, ok(None, None, None)),
            ("no decoded length", &unsigned, vec![crc_trailer], false, Err(C::MissingContentLength)),
            ("decoded length not a number", &unsigned, vec![("x-amz-decoded-content-length", "-1")], false, Err(C::InvalidRequest)),
            ("decoded length overflows", &unsigned, vec![("x-amz-decoded-content-length", "99999999999999999999")], false, Err(C::InvalidRequest)),
            ("decoded length twice", &unsigned, vec![length, length], false, Err(C::InvalidRequest)),
            ("sigv4a streaming", &ecdsa, vec![length], true, Err(C::NotImplemented)),
            ("signed mode unsigned request", &signed, vec![length], false, Err(C::InvalidRequest)),
            ("trailer with signed chunks", &signed, vec![length, crc_trailer], true, Err(C::InvalidRequest)),
            ("trailer on a plain body", &PayloadHash::Unsigned, vec![crc_trailer], false, Err(C::InvalidRequest)),
            ("two trailers", &unsigned, vec![length, ("x-amz-trailer", "x-amz-checksum-crc32,x-amz-checksum-sha1")], false, Err(C::InvalidRequest)),
            ("non-checksum trailer", &unsigned, vec![length, ("x-amz-trailer", "x-amz-meta-a")], false, Err(C::InvalidRequest)),
            ("unknown checksum trailer", &unsigned, vec![length, ("x-amz-trailer", "x-amz-checksum-md5")], false, Err(C::InvalidRequest)),
            ("header and trailer", &unsigned, vec![length, crc_trailer, crc_header], false, Err(C::InvalidRequest)),
            ("two checksum headers", &sha, vec![crc_header, ("x-amz-checksum-sha1", "Kq5sNclPz7QV2+lfQIuc6R7oRu0=")], false, Err(C::InvalidRequest)),
            ("checksum header twice", &sha, vec![crc_header, crc_header], false, Err(C::InvalidRequest)),
            ("malformed checksum header", &sha, vec![("x-amz-checksum-crc32", "DUoRhQ")], false, Err(C::InvalidDigest)),
            ("checksum of the wrong length", &sha, vec![("x-amz-checksum-sha256", "DUoRhQ==")], false, Err(C::InvalidDigest)),
        ];
        let context = signing("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
        for (name, payload, pairs, signed, expected) in cases {
            let plan =
                BodyPlan::from_request(&headers(&pairs), payload, signed.then_some(&context));
            let actual = plan
                .map(|p| {
                    (
                        p.streaming_mode(),
                        p.decoded_content_length(),
                        p.checksum_algorithm(),
                    )
                })
                .map_err(|e| e.code());
            assert_eq!(actual, expected, "{name}");
        }
    }

    #[test]
    fn stored_content_encoding_drops_aws_chunked_and_keeps_the_spelling() {
        for (sent, stored) in [
            (vec!["aws-chunked"], None),
            (vec!["gzip,aws-chunked"], Some("gzip")),
            (vec!["AWS-CHUNKED, gzip"], Some("gzip")),
            (vec!["aws-chunked", "br"], Some("br")),
            (vec!["deflate, gzip"], Some("deflate, gzip")),
            (vec!["deflate,gzip"], Some("deflate,gzip")),
            (vec!["deflate, aws-chunked, gzip"], Some("deflate, gzip")),
            (vec!["deflate,  gzip", "br"], Some("deflate,  gzip, br")),
            (vec!["aws-chunked, "], None),
            (vec![], None),
        ] {
            let pairs: Vec<(&str, &str)> = sent.iter().map(|v| ("content-encoding", *v)).collect();
            assert_eq!(
                stored_content_encoding(&headers(&pairs)).as_deref(),
                stored,
                "{sent:?}"
            );
        }
    }
}
