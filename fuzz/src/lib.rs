//! Shared fixtures of the cedargate fuzz targets: the credential, clock and
//! requests of AWS's documented S3 SigV4 examples, a valid `aws-chunked`
//! encoder, and a small deterministic splitter for feeding input in pieces.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use cedargate_s3::sigv4::{SignedRequest, SigningContext, VerifierConfig};

use cedargate::auth::{AuthOutcome, Credential, CredentialStore, authenticate};
use cedargate_s3::body::chunked::StreamingMode;
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

/// Access key of AWS's examples.
pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret key of AWS's examples.
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// `x-amz-date` of AWS's examples.
pub const AMZ_DATE: &str = "20130524T000000Z";

/// 2013-05-24T00:00:00Z, the date of AWS's examples.
pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

/// A store holding the example credential.
pub fn store() -> &'static CredentialStore {
    static STORE: OnceLock<CredentialStore> = OnceLock::new();
    STORE.get_or_init(|| {
        CredentialStore::from_credentials(vec![Credential::new(ACCESS_KEY, SECRET, "fuzz")])
            .expect("one credential is a valid store")
    })
}

/// The default verifier settings.
pub fn verifier() -> &'static VerifierConfig {
    static CONFIG: OnceLock<VerifierConfig> = OnceLock::new();
    CONFIG.get_or_init(VerifierConfig::default)
}

/// Headers from `(name, value)` pairs.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid name"),
            HeaderValue::from_str(value).expect("valid value"),
        );
    }
    map
}

/// Runs the verifier over one request at [`t0`].
pub fn verify(method: &str, path: &str, query: &str, headers: &HeaderMap) -> Option<AuthOutcome> {
    let request = SignedRequest {
        method,
        raw_path: path,
        raw_query: query,
        headers,
        body_sha256: None,
    };
    authenticate(&request, store(), verifier(), t0()).ok()
}

/// The signing context of AWS's documented `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
/// example, obtained by authenticating the documented request.
pub fn chunked_signing() -> &'static SigningContext {
    static SIGNING: OnceLock<SigningContext> = OnceLock::new();
    SIGNING.get_or_init(|| {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class,\
             Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
        );
        let headers = headers(&[
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", AMZ_DATE),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("authorization", &authorization),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ]);
        match verify("PUT", "/examplebucket/chunkObject.txt", "", &headers) {
            Some(AuthOutcome::Authenticated(authenticated)) => authenticated.signing,
            other => panic!("the documented chunked example must verify: {other:?}"),
        }
    })
}

/// A valid `aws-chunked` body of `mode`: `chunks`, the final chunk,
/// `trailers`, and the trailer signature in the signed-trailer mode.
pub fn encode(
    mode: StreamingMode,
    signing: &SigningContext,
    chunks: &[&[u8]],
    trailers: &[(String, String)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous = signing.seed_signature().to_owned();
    for data in chunks.iter().copied().chain([&b""[..]]) {
        out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        if mode.is_signed() {
            let hash: [u8; 32] = Sha256::digest(data).into();
            previous = signing.chunk_signature(&previous, &hash);
            out.extend_from_slice(format!(";chunk-signature={previous}").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if !data.is_empty() {
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
    }
    let mut canonical: Vec<String> = Vec::new();
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        canonical.push(format!("{}:{}\n", name.to_ascii_lowercase(), value.trim()));
    }
    if mode == StreamingMode::SignedPayloadTrailer {
        canonical.sort();
        let hash: [u8; 32] = Sha256::digest(canonical.concat().as_bytes()).into();
        let signature = signing.trailer_signature(&previous, &hash);
        out.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Splits `data` into pieces of 1 to 64 bytes chosen by `seed`
/// (xorshift), so a target can feed the same input in different pieces.
pub fn pieces(data: &[u8], seed: u64) -> Vec<&[u8]> {
    let mut state = seed | 1;
    let mut rest = data;
    let mut out = Vec::new();
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = usize::try_from(state % 64).unwrap_or(0) + 1;
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        out.push(piece);
        rest = tail;
    }
    out
}
