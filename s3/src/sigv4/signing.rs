//! SigV4 keys and signatures: HMAC-SHA256, signing-key derivation and its
//! cache, and the [`SigningContext`] an authenticated request carries so the
//! body stage can verify `aws-chunked` chunk and trailer signatures.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use hmac::digest::KeyInit;
use hmac::digest::generic_array::GenericArray;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::Secret;

/// The SigV4 algorithm name, first line of every string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256_HEX: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Cached signing keys per store; the map is cleared when it reaches this.
const CACHE_CAPACITY: usize = 1024;
/// HMAC-SHA256 block size.
const BLOCK: usize = 64;

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC zero-pads keys up to the block size and hashes longer ones; doing
    // it here makes construction infallible (`new_from_slice` returns Result).
    let mut block = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(GenericArray::from_slice(&block[..]));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A derived SigV4 signing key (valid for one date, region and service).
/// `Debug` is redacted and the bytes are zeroized on drop.
#[derive(Clone)]
pub struct SigningKey(Zeroizing<[u8; 32]>);

impl SigningKey {
    /// Derives `kSigning` = HMAC chain over date, region, service and
    /// `aws4_request`, starting from `"AWS4" + secret`.
    pub fn derive(secret: &Secret, date: &str, region: &str, service: &str) -> Self {
        let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
        seed.extend_from_slice(b"AWS4");
        seed.extend_from_slice(secret.expose_bytes());
        let k_date = Zeroizing::new(hmac_sha256(&seed, &[date.as_bytes()]));
        let k_region = Zeroizing::new(hmac_sha256(&*k_date, &[region.as_bytes()]));
        let k_service = Zeroizing::new(hmac_sha256(&*k_region, &[service.as_bytes()]));
        Self(Zeroizing::new(hmac_sha256(&*k_service, &[b"aws4_request"])))
    }

    /// HMAC-SHA256 of `message` under this key.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        hmac_sha256(&*self.0, &[message])
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// Signing keys derived from one credential store's secrets,
/// keyed by `access-key/date/region/service` (no part can contain `/`).
///
/// Bounded: when full it is cleared, which costs one re-derivation (four
/// HMACs) per active key. Only keys whose signature verified are inserted, so
/// knowing an access key is not enough to churn the cache.
#[derive(Default)]
pub struct SigningKeyCache {
    keys: Mutex<HashMap<String, SigningKey>>,
}

impl SigningKeyCache {
    /// The cached key `id` (`access-key/date/region/service`).
    pub fn get(&self, id: &str) -> Option<SigningKey> {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Caches `key` as `id`, clearing the cache when it is full.
    pub fn insert(&self, id: String, key: SigningKey) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= CACHE_CAPACITY && !keys.contains_key(&id) {
            keys.clear();
        }
        keys.insert(id, key);
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("len", &self.len())
            .finish()
    }
}

/// What a verified request leaves behind for verifying its body later:
/// the signing key, request date, credential scope and the request's own
/// signature, which seeds the `aws-chunked` signature chain.
#[derive(Clone, Debug)]
pub struct SigningContext {
    pub(crate) key: SigningKey,
    pub(crate) amz_date: String,
    pub(crate) scope: String,
    pub(crate) seed_signature: String,
}

impl SigningContext {
    /// The context of a request signed with `key` at `amz_date`
    /// (`yyyymmddThhmmssZ`) in `scope` (`yyyymmdd/region/service/aws4_request`)
    /// with signature `seed_signature` (lowercase hex).
    pub fn new(
        key: SigningKey,
        amz_date: impl Into<String>,
        scope: impl Into<String>,
        seed_signature: impl Into<String>,
    ) -> Self {
        Self {
            key,
            amz_date: amz_date.into(),
            scope: scope.into(),
            seed_signature: seed_signature.into(),
        }
    }

    /// The request timestamp as signed (`yyyymmddThhmmssZ`).
    pub fn amz_date(&self) -> &str {
        &self.amz_date
    }

    /// The credential scope `yyyymmdd/region/service/aws4_request`.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The request signature (lowercase hex): the "previous signature" of the
    /// first `aws-chunked` chunk.
    pub fn seed_signature(&self) -> &str {
        &self.seed_signature
    }

    /// Signature of one `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` chunk (lowercase
    /// hex) given the previous chunk's signature and the chunk data's SHA-256.
    pub fn chunk_signature(&self, previous_signature: &str, chunk_sha256: &[u8; 32]) -> String {
        let string_to_sign = format!(
            "{ALGORITHM}-PAYLOAD\n{}\n{}\n{previous_signature}\n{EMPTY_SHA256_HEX}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(chunk_sha256)
        );
        hex::encode(self.key.sign(string_to_sign.as_bytes()))
    }

    /// Signature of the trailing headers of a `...-PAYLOAD-TRAILER` body
    /// given the last chunk's signature and the SHA-256 of the trailer bytes.
    pub fn trailer_signature(&self, previous_signature: &str, trailer_sha256: &[u8; 32]) -> String {
        let string_to_sign = format!(
            "{ALGORITHM}-TRAILER\n{}\n{}\n{previous_signature}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(trailer_sha256)
        );
        hex::encode(self.key.sign(string_to_sign.as_bytes()))
    }
}

/// Constant-time comparison of an expected hex signature with one a client
/// sent (chunk and trailer signatures are lowercase hex).
pub fn signatures_match(expected_hex: &str, claimed_hex: &str) -> bool {
    expected_hex.as_bytes().ct_eq(claimed_hex.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(sha256_hex(b""), EMPTY_SHA256_HEX);
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2 (short key) and 6 (key longer than a block).
        assert_eq!(
            hex::encode(hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn derives_the_documented_signing_key() {
        // From AWS's "Examples of how to derive a signing key for SigV4".
        let key = SigningKey::derive(
            &Secret::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(*key.0),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{key:?}"), "SigningKey(***)");
    }

    #[test]
    fn cache_is_bounded() {
        let cache = SigningKeyCache::default();
        let key = SigningKey::derive(&Secret::from("s"), "20250101", "r", "s3");
        for i in 0..CACHE_CAPACITY {
            cache.insert(format!("k{i}"), key.clone());
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        cache.insert("k0".into(), key.clone());
        assert_eq!(cache.len(), CACHE_CAPACITY);
        cache.insert("new".into(), key);
        assert_eq!(cache.len(), 1);
        assert!(cache.get("new").is_some());
        assert!(cache.get("k1").is_none());
    }
}
