//! `x-amz-checksum-*` verification of a request body (the *dispatch* stage's
//! body, after `aws-chunked` decoding).
//!
//! A client names one algorithm — CRC32, CRC32C, CRC64/NVME, SHA-1 or
//! SHA-256 — and sends the base64 of the big-endian digest of the payload
//! either as a request header (`x-amz-checksum-crc32: DUoRhQ==`) or as an
//! `aws-chunked` trailer declared in `x-amz-trailer`. [`ChecksumVerifier`]
//! hashes the decoded bytes as they pass and compares at the end: a value
//! that is not valid base64 of the right length is `InvalidDigest`, a
//! mismatch is `BadDigest` (docs/errors.md).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{S3Error, S3ErrorCode};

/// The prefix of every checksum header and trailer name.
pub const CHECKSUM_HEADER_PREFIX: &str = "x-amz-checksum-";

/// A checksum algorithm S3 accepts in `x-amz-checksum-<algorithm>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC, as zlib).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, for tables.
    pub const ALL: [Self; 5] = [
        Self::Crc32,
        Self::Crc32c,
        Self::Crc64Nvme,
        Self::Sha1,
        Self::Sha256,
    ];

    /// The algorithm of a header or trailer name such as
    /// `x-amz-checksum-crc32` (ASCII case-insensitive).
    pub fn from_header_name(name: &str) -> Option<Self> {
        let prefix = name.get(..CHECKSUM_HEADER_PREFIX.len())?;
        if !prefix.eq_ignore_ascii_case(CHECKSUM_HEADER_PREFIX) {
            return None;
        }
        let suffix = &name[CHECKSUM_HEADER_PREFIX.len()..];
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.suffix().eq_ignore_ascii_case(suffix))
    }

    /// The header and trailer name, e.g. `x-amz-checksum-crc64nvme`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The name as S3 writes it in `x-amz-sdk-checksum-algorithm` and XML.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The algorithm named as S3 writes it (`CRC32`, `crc64nvme`...), ASCII
    /// case-insensitive: `x-amz-checksum-algorithm`, `x-amz-sdk-checksum-algorithm`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The lowercase name used in header names (`crc64nvme`).
    pub fn lowercase_name(self) -> &'static str {
        self.suffix()
    }

    /// Whether this is one of the CRCs, which S3 can combine into a
    /// full-object checksum of a multipart upload.
    pub fn is_crc(self) -> bool {
        matches!(self, Self::Crc32 | Self::Crc32c | Self::Crc64Nvme)
    }

    /// The base64 digest of `data`.
    pub fn digest_base64(self, data: &[u8]) -> String {
        let mut hasher = Hasher::new(self);
        hasher.update(data);
        STANDARD.encode(hasher.finalize())
    }

    /// Length in bytes of the digest.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }

    fn suffix(self) -> &'static str {
        &self.header_name()[CHECKSUM_HEADER_PREFIX.len()..]
    }

    /// Decodes a client-sent value: standard base64 (with padding) of a
    /// digest of [`Self::digest_len`] bytes, else `InvalidDigest`.
    pub fn decode_value(self, value: &str) -> Result<Vec<u8>, S3Error> {
        let invalid = || {
            S3Error::new(
                S3ErrorCode::InvalidDigest,
                format!(
                    "the value of `{}` is not the base64 of a {}-byte digest",
                    self.header_name(),
                    self.digest_len()
                ),
            )
        };
        let digest = STANDARD.decode(value.trim()).map_err(|_| invalid())?;
        if digest.len() == self.digest_len() {
            Ok(digest)
        } else {
            Err(invalid())
        }
    }
}

/// A running digest of one algorithm.
#[derive(Clone)]
enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc64fast_nvme::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Self::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => Self::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => Self::Crc64Nvme(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => Self::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => Self::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Crc32(hasher) => hasher.update(data),
            Self::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            Self::Crc64Nvme(digest) => digest.write(data),
            Self::Sha1(hasher) => hasher.update(data),
            Self::Sha256(hasher) => hasher.update(data),
        }
    }

    /// The big-endian digest bytes.
    fn finalize(self) -> Vec<u8> {
        match self {
            Self::Crc32(hasher) => hasher.finalize().to_be_bytes().to_vec(),
            Self::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            Self::Crc64Nvme(digest) => digest.sum64().to_be_bytes().to_vec(),
            Self::Sha1(hasher) => hasher.finalize().to_vec(),
            Self::Sha256(hasher) => hasher.finalize().to_vec(),
        }
    }
}

/// Hashes a payload as it passes and checks it against the value the
/// client sent (in a header, known up front, or a trailer, known at the end).
#[derive(Clone)]
pub struct ChecksumVerifier {
    algorithm: ChecksumAlgorithm,
    hasher: Hasher,
}

impl std::fmt::Debug for ChecksumVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChecksumVerifier")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl ChecksumVerifier {
    /// A verifier with an empty running digest.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        Self {
            algorithm,
            hasher: Hasher::new(algorithm),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    /// Adds payload bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    /// Compares the payload's digest with `expected` (the client's base64
    /// value) and returns the computed base64 value: `InvalidDigest` when
    /// `expected` is malformed, `BadDigest` when it differs.
    pub fn verify(self, expected: &str) -> Result<String, S3Error> {
        let algorithm = self.algorithm;
        let expected = algorithm.decode_value(expected)?;
        let actual = self.hasher.finalize();
        if actual == expected {
            Ok(STANDARD.encode(actual))
        } else {
            Err(S3Error::new(
                S3ErrorCode::BadDigest,
                format!(
                    "the {} you specified did not match the calculated checksum",
                    algorithm.header_name()
                ),
            ))
        }
    }

    /// The base64 digest of everything seen so far.
    pub fn value(&self) -> String {
        STANDARD.encode(self.hasher.clone().finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::ChecksumAlgorithm::*;
    use super::*;

    /// Expected values from botocore 1.43.11's own checksum classes
    /// (`Crc32Checksum`, `CrtCrc32cChecksum`, `CrtCrc64NvmeChecksum` with
    /// awscrt 0.38.1, `Sha1Checksum`, `Sha256Checksum`). They agree with the
    /// catalogue check values of "123456789" (CRC-32C 0xE3069283,
    /// CRC-64/NVME 0xAE8B14860A799888) and AWS's signed-trailer example
    /// (CRC-32C of 66560 `a` is `sOO8/Q==`).
    const VECTORS: &[(ChecksumAlgorithm, &[u8], &str)] = &[
        (Crc32, b"", "AAAAAA=="),
        (Crc32, b"hello world", "DUoRhQ=="),
        (Crc32, b"123456789", "y/Q5Jg=="),
        (Crc32c, b"", "AAAAAA=="),
        (Crc32c, b"hello world", "yZRlqg=="),
        (Crc32c, b"123456789", "4waSgw=="),
        (Crc64Nvme, b"", "AAAAAAAAAAA="),
        (Crc64Nvme, b"hello world", "jSnVw/bqjr4="),
        (Crc64Nvme, b"123456789", "rosUhgp5mIg="),
        (Sha1, b"", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
        (Sha1, b"hello world", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="),
        (Sha1, b"123456789", "98O8HYCOBHMq32eZZczDTKeuNEE="),
        (Sha256, b"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        (
            Sha256,
            b"hello world",
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
        ),
        (
            Sha256,
            b"123456789",
            "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=",
        ),
    ];

    /// Same source, 66560 bytes of `a` (the payload of AWS's chunked examples).
    const LONG_VECTORS: &[(ChecksumAlgorithm, &str)] = &[
        (Crc32, "sK4Y7A=="),
        (Crc32c, "sOO8/Q=="),
        (Crc64Nvme, "pRf+emrnL+A="),
        (Sha1, "qOlv5ixdz2jRNhlSLmgH6iaTKRI="),
        (Sha256, "zWnTiHxq+SZLEA17dgIzEzXZqn4718MM3G1vS/uzyIg="),
    ];

    fn digest_in_pieces(algorithm: ChecksumAlgorithm, data: &[u8], piece: usize) -> String {
        let mut verifier = ChecksumVerifier::new(algorithm);
        for part in data.chunks(piece.max(1)) {
            verifier.update(part);
        }
        verifier.value()
    }

    #[test]
    fn known_vectors_verify_whole_and_in_pieces() {
        for &(algorithm, data, expected) in VECTORS {
            for piece in [1, 2, 5, 64] {
                assert_eq!(
                    digest_in_pieces(algorithm, data, piece),
                    expected,
                    "{algorithm:?} {data:?}"
                );
            }
            let mut verifier = ChecksumVerifier::new(algorithm);
            verifier.update(data);
            assert_eq!(verifier.verify(expected).unwrap(), expected);
        }
        let long = vec![b'a'; 66_560];
        for &(algorithm, expected) in LONG_VECTORS {
            assert_eq!(
                digest_in_pieces(algorithm, &long, 4096),
                expected,
                "{algorithm:?}"
            );
        }
    }

    #[test]
    fn mismatch_is_bad_digest_and_malformed_is_invalid_digest() {
        for algorithm in ChecksumAlgorithm::ALL {
            let wrong = digest_in_pieces(algorithm, b"other", 1);
            let mut verifier = ChecksumVerifier::new(algorithm);
            verifier.update(b"hello world");
            let error = verifier.clone().verify(&wrong).unwrap_err();
            assert_eq!(error.code(), S3ErrorCode::BadDigest, "{algorithm:?}");
            for malformed in [
                "",
                "not base64!",
                "AAAA",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            ] {
                let error = verifier.clone().verify(malformed).unwrap_err();
                assert_eq!(
                    error.code(),
                    S3ErrorCode::InvalidDigest,
                    "{algorithm:?} {malformed}"
                );
            }
        }
    }

    #[test]
    fn header_names_round_trip() {
        for algorithm in ChecksumAlgorithm::ALL {
            let name = algorithm.header_name();
            assert_eq!(ChecksumAlgorithm::from_header_name(name), Some(algorithm));
            let upper = name.to_ascii_uppercase();
            assert_eq!(ChecksumAlgorithm::from_header_name(&upper), Some(algorithm));
            assert_eq!(
                algorithm
                    .decode_value(&digest_in_pieces(algorithm, b"", 1))
                    .unwrap()
                    .len(),
                algorithm.digest_len()
            );
        }
        for other in [
            "x-amz-checksum-md5",
            "x-amz-checksum-",
            "x-amz-checksum",
            "content-md5",
            "x-amz-checksum-crc32x",
            "",
        ] {
            assert_eq!(ChecksumAlgorithm::from_header_name(other), None, "{other}");
        }
        assert_eq!(Crc64Nvme.as_str(), "CRC64NVME");
    }
}
