//! Checksums in the filesystem backend: what staging computes, which
//! checksum a write stores, and how sidecars and part records keep them.
//!
//! Staging always computes the CRC64NVME of the bytes it writes (S3 stores
//! that checksum for objects written without one) and, when the write
//! names another algorithm up front (its `x-amz-checksum-*` header, or its
//! multipart upload's algorithm), that algorithm's digest too. A write
//! stores, in order of preference: the header's checksum (checked against
//! the computed one: BadDigest when they differ), the checksum the body
//! was verified against (a trailer, known only at its end), the upload's
//! algorithm, else the CRC64NVME.

use serde::{Deserialize, Serialize};

use cedargate_s3::body::checksum::ChecksumVerifier;

use crate::{
    BackendError, BackendResult, BodySource, ChecksumAlgorithm, ChecksumType, ObjectChecksum,
};

/// A checksum as sidecars and part records keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoredChecksum {
    /// Lowercase algorithm name (`crc32`).
    pub algorithm: String,
    /// Base64 value as HeadObject shows it (`-N` for COMPOSITE).
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl From<&ObjectChecksum> for StoredChecksum {
    fn from(checksum: &ObjectChecksum) -> Self {
        Self {
            algorithm: checksum.algorithm.clone(),
            value: checksum.value.clone(),
            kind: checksum.checksum_type.as_str().to_owned(),
        }
    }
}

impl From<&StoredChecksum> for ObjectChecksum {
    fn from(stored: &StoredChecksum) -> Self {
        Self {
            algorithm: stored.algorithm.clone(),
            value: stored.value.clone(),
            checksum_type: ChecksumType::parse(&stored.kind).unwrap_or_default(),
        }
    }
}

/// One part of an object a multipart upload made, kept in its sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoredPart {
    /// The part number the upload gave it.
    pub number: u32,
    /// The part's ETag.
    pub etag: String,
    /// Its size.
    pub size: u64,
    /// Its checksum (the upload's algorithm, else CRC64NVME).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
}

/// The digests staging computes besides the MD5.
#[derive(Debug, Clone)]
pub(super) struct Digests {
    crc64nvme: ChecksumVerifier,
    extra: Option<ChecksumVerifier>,
}

impl Digests {
    /// CRC64NVME, and `extra` when it is another algorithm.
    pub fn new(extra: Option<ChecksumAlgorithm>) -> Self {
        Self {
            crc64nvme: ChecksumVerifier::new(ChecksumAlgorithm::Crc64Nvme),
            extra: extra
                .filter(|algorithm| *algorithm != ChecksumAlgorithm::Crc64Nvme)
                .map(ChecksumVerifier::new),
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.crc64nvme.update(data);
        if let Some(extra) = &mut self.extra {
            extra.update(data);
        }
    }

    /// The FULL_OBJECT checksums of everything seen.
    pub fn finish(&self) -> Vec<ObjectChecksum> {
        std::iter::once(&self.crc64nvme)
            .chain(&self.extra)
            .map(|verifier| ObjectChecksum::full_object(verifier.algorithm(), verifier.value()))
            .collect()
    }
}

/// The computed checksum of `algorithm` among `computed`.
pub(super) fn computed(
    computed: &[ObjectChecksum],
    algorithm: ChecksumAlgorithm,
) -> Option<&ObjectChecksum> {
    computed
        .iter()
        .find(|checksum| checksum.algorithm() == Some(algorithm))
}

/// The checksum a write of a whole body stores (see the module doc):
/// `header` is the client's checksum header, `wanted` the algorithm the
/// write must store when the client named none.
pub(super) fn settle(
    staged: &[ObjectChecksum],
    header: Option<&ObjectChecksum>,
    body: &dyn BodySource,
    wanted: Option<ChecksumAlgorithm>,
) -> BackendResult<ObjectChecksum> {
    if let Some(header) = header {
        let algorithm = header
            .algorithm()
            .ok_or_else(|| BackendError::invalid_request("unknown checksum algorithm"))?;
        if let Some(actual) = computed(staged, algorithm)
            && actual.value != header.value.trim()
        {
            return Err(BackendError::BadDigest);
        }
        return Ok(ObjectChecksum::full_object(algorithm, header.value.trim()));
    }
    if let Some(verified) = body.verified_checksum() {
        return Ok(verified);
    }
    let algorithm = wanted.unwrap_or(ChecksumAlgorithm::Crc64Nvme);
    computed(staged, algorithm)
        .or_else(|| computed(staged, ChecksumAlgorithm::Crc64Nvme))
        .cloned()
        .ok_or_else(|| BackendError::other("staging computed no checksum"))
}

/// Refuses a part checksum of another algorithm than its upload's, as S3.
pub(super) fn check_part_algorithm(
    upload: Option<ChecksumAlgorithm>,
    part: Option<&ObjectChecksum>,
) -> BackendResult<()> {
    let (Some(expected), Some(part)) = (upload, part) else {
        return Ok(());
    };
    if part.algorithm() == Some(expected) {
        return Ok(());
    }
    Err(BackendError::invalid_request(format!(
        "checksum type mismatch occurred, expected checksum type: {}, actual checksum type: {}",
        expected.lowercase_name(),
        part.algorithm
    )))
}
