//! The checksum of an object assembled from parts (CompleteMultipartUpload)
//! and the rules of `x-amz-checksum-type`.
//!
//! S3 knows two kinds of object checksum:
//!
//! - **FULL_OBJECT**: the digest of the whole content. A single PutObject
//!   always stores this kind. For a multipart upload only the CRCs allow
//!   it: the object's CRC is combined from the parts' CRCs and lengths
//!   ([`combine_crc`], the GF(2) polynomial arithmetic of zlib's
//!   `crc32_combine`), so the assembled object is never read again.
//! - **COMPOSITE**: for a multipart upload, the digest of the concatenated
//!   binary part digests, written `base64-N` with the part count
//!   ([`composite`]). CRC64NVME has no composite form.
//!
//! When CreateMultipartUpload names an algorithm without a type, CRC64NVME
//! is FULL_OBJECT and every other algorithm COMPOSITE.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::checksum::ChecksumAlgorithm;
use crate::error::{S3Error, S3ErrorCode};

/// `x-amz-checksum-type`: how an object's checksum was computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChecksumType {
    /// The digest of the whole content.
    #[default]
    FullObject,
    /// The digest of the part digests, `base64-N`.
    Composite,
}

impl ChecksumType {
    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullObject => "FULL_OBJECT",
            Self::Composite => "COMPOSITE",
        }
    }

    /// Parses `FULL_OBJECT` or `COMPOSITE` (ASCII case-insensitive).
    pub fn parse(value: &str) -> Option<Self> {
        [Self::FullObject, Self::Composite]
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(value.trim()))
    }

    /// The type a multipart upload of `algorithm` gets when none is named.
    pub fn default_for(algorithm: ChecksumAlgorithm) -> Self {
        if algorithm == ChecksumAlgorithm::Crc64Nvme {
            Self::FullObject
        } else {
            Self::Composite
        }
    }

    /// Whether a multipart upload may use this type with `algorithm`:
    /// COMPOSITE for every algorithm but CRC64NVME, FULL_OBJECT for the CRCs.
    pub fn allows(self, algorithm: ChecksumAlgorithm) -> bool {
        match self {
            Self::FullObject => algorithm.is_crc(),
            Self::Composite => algorithm != ChecksumAlgorithm::Crc64Nvme,
        }
    }
}

/// The checksum settings of a CreateMultipartUpload from its
/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` values, with S3's
/// errors: a type without an algorithm, an unknown name, or a pair S3 does
/// not allow is InvalidRequest.
pub fn multipart_settings(
    algorithm: Option<&str>,
    kind: Option<&str>,
) -> Result<Option<(ChecksumAlgorithm, ChecksumType)>, S3Error> {
    let invalid = |message: String| S3Error::new(S3ErrorCode::InvalidRequest, message);
    let Some(algorithm) = algorithm else {
        return match kind {
            None => Ok(None),
            Some(_) => Err(invalid(
                "the x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header"
                    .to_owned(),
            )),
        };
    };
    let algorithm = ChecksumAlgorithm::from_name(algorithm)
        .ok_or_else(|| invalid(format!("checksum algorithm `{algorithm}` is not supported")))?;
    let kind = match kind {
        None => ChecksumType::default_for(algorithm),
        Some(value) => ChecksumType::parse(value)
            .ok_or_else(|| invalid(format!("checksum type `{value}` is not supported")))?,
    };
    if !kind.allows(algorithm) {
        return Err(invalid(format!(
            "the {} checksum type cannot be used with the {} checksum algorithm",
            kind.as_str(),
            algorithm.lowercase_name()
        )));
    }
    Ok(Some((algorithm, kind)))
}

/// The COMPOSITE checksum of parts whose base64 digests are `parts`, in
/// order: `base64(digest(concat(part digests)))-N`. A value that is not a
/// digest of `algorithm` is InvalidDigest.
pub fn composite(algorithm: ChecksumAlgorithm, parts: &[&str]) -> Result<String, S3Error> {
    let mut joined = Vec::with_capacity(parts.len() * algorithm.digest_len());
    for part in parts {
        joined.extend(algorithm.decode_value(part)?);
    }
    Ok(format!(
        "{}-{}",
        algorithm.digest_base64(&joined),
        parts.len()
    ))
}

/// The FULL_OBJECT checksum of parts given as `(base64 CRC, length)`, in
/// order, combined without reading the content. `None` for the SHAs,
/// which cannot be combined.
pub fn full_object(
    algorithm: ChecksumAlgorithm,
    parts: &[(&str, u64)],
) -> Result<Option<String>, S3Error> {
    let Some(crc) = Crc::of(algorithm) else {
        return Ok(None);
    };
    let mut combined: Option<u64> = None;
    for (value, length) in parts {
        let digest = algorithm.decode_value(value)?;
        let part = digest
            .iter()
            .fold(0u64, |acc, byte| acc << 8 | u64::from(*byte));
        combined = Some(match combined {
            None => part,
            Some(previous) => combine_crc(crc, previous, part, *length),
        });
    }
    let value = combined.unwrap_or(0);
    let bytes = value.to_be_bytes();
    Ok(Some(STANDARD.encode(&bytes[8 - algorithm.digest_len()..])))
}

/// A reflected CRC whose initial value equals its final XOR (all three of
/// S3's CRCs), for [`combine_crc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crc {
    /// The reflected polynomial.
    poly: u64,
    /// The bit standing for x^0 in the reflected representation.
    top: u64,
}

impl Crc {
    /// The CRC of `algorithm`, `None` for the SHAs.
    pub fn of(algorithm: ChecksumAlgorithm) -> Option<Self> {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Some(Self {
                poly: 0xEDB8_8320,
                top: 1 << 31,
            }),
            ChecksumAlgorithm::Crc32c => Some(Self {
                poly: 0x82F6_3B78,
                top: 1 << 31,
            }),
            ChecksumAlgorithm::Crc64Nvme => Some(Self {
                poly: 0x9A6C_9329_AC4B_C9B5,
                top: 1 << 63,
            }),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
        }
    }

    /// `a * b mod P` in the reflected representation.
    fn multiply(self, a: u64, mut b: u64) -> u64 {
        let mut product = 0;
        let mut bit = self.top;
        while bit != 0 {
            if a & bit != 0 {
                product ^= b;
            }
            bit >>= 1;
            b = if b & 1 == 1 {
                (b >> 1) ^ self.poly
            } else {
                b >> 1
            };
        }
        product
    }

    /// `x^(8 * bytes) mod P`.
    fn shift(self, bytes: u64) -> u64 {
        // x^1, squared at each step: x^(2^k).
        let mut power = self.top >> 1;
        let mut result = self.top;
        // Three squarings turn x into x^8: one step per byte.
        for _ in 0..3 {
            power = self.multiply(power, power);
        }
        let mut n = bytes;
        while n != 0 {
            if n & 1 == 1 {
                result = self.multiply(power, result);
            }
            n >>= 1;
            power = self.multiply(power, power);
        }
        result
    }
}

/// The CRC of `A || B` from the CRC of `A`, the CRC of `B` and B's length.
pub fn combine_crc(crc: Crc, first: u64, second: u64, second_len: u64) -> u64 {
    crc.multiply(crc.shift(second_len), first) ^ second
}

#[cfg(test)]
mod tests {
    use super::ChecksumAlgorithm::*;
    use super::*;

    #[test]
    fn combined_crcs_equal_the_crc_of_the_whole() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for algorithm in [Crc32, Crc32c, Crc64Nvme] {
            let whole = algorithm.digest_base64(&data);
            for cuts in [
                vec![1usize],
                vec![0, 4999],
                vec![100, 2048, 4096],
                vec![2500],
            ] {
                let mut bounds = vec![0];
                bounds.extend(cuts);
                bounds.push(data.len());
                let values: Vec<(String, u64)> = bounds
                    .windows(2)
                    .map(|w| {
                        let piece = &data[w[0]..w[1]];
                        (algorithm.digest_base64(piece), piece.len() as u64)
                    })
                    .collect();
                let parts: Vec<(&str, u64)> =
                    values.iter().map(|(v, n)| (v.as_str(), *n)).collect();
                assert_eq!(
                    full_object(algorithm, &parts).unwrap().as_deref(),
                    Some(whole.as_str()),
                    "{algorithm:?} {bounds:?}"
                );
            }
        }
        assert_eq!(full_object(Sha256, &[("x", 1)]).unwrap(), None);
    }

    #[test]
    fn composite_is_the_digest_of_the_part_digests() {
        // Two parts "hello " and "world": CRC32 of the 8 bytes of their CRC32s.
        let parts = [
            Crc32.digest_base64(b"hello "),
            Crc32.digest_base64(b"world"),
        ];
        let mut joined = Crc32.decode_value(&parts[0]).unwrap();
        joined.extend(Crc32.decode_value(&parts[1]).unwrap());
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        assert_eq!(
            composite(Crc32, &refs).unwrap(),
            format!("{}-2", Crc32.digest_base64(&joined))
        );
        let bad = composite(Sha256, &["AAAA"]).unwrap_err();
        assert_eq!(bad.code(), S3ErrorCode::InvalidDigest);
    }

    #[test]
    fn settings_follow_s3s_rules() {
        use ChecksumType::*;
        type Row<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<(ChecksumAlgorithm, ChecksumType)>,
        );
        let table: &[Row<'_>] = &[
            (None, None, None),
            (Some("CRC32"), None, Some((Crc32, Composite))),
            (Some("crc64nvme"), None, Some((Crc64Nvme, FullObject))),
            (Some("SHA256"), Some("COMPOSITE"), Some((Sha256, Composite))),
            (
                Some("CRC32C"),
                Some("FULL_OBJECT"),
                Some((Crc32c, FullObject)),
            ),
        ];
        for (algorithm, kind, expected) in table {
            assert_eq!(&multipart_settings(*algorithm, *kind).unwrap(), expected);
        }
        for (algorithm, kind) in [
            (None, Some("COMPOSITE")),
            (Some("MD5"), None),
            (Some("SHA1"), Some("FULL_OBJECT")),
            (Some("CRC64NVME"), Some("COMPOSITE")),
            (Some("CRC32"), Some("PARTIAL")),
        ] {
            let error = multipart_settings(algorithm, kind).unwrap_err();
            assert_eq!(
                error.code(),
                S3ErrorCode::InvalidRequest,
                "{algorithm:?} {kind:?}"
            );
        }
    }
}
