//! Fuzzes the SigV4 `Authorization` header parser and verifier: the input is
//! the header value of one of AWS's documented example requests (same host,
//! date and payload hash), so well-formed inputs reach the scope, signed
//! header and signature checks. `authenticate` must never panic, and may
//! only succeed for a header that carries the request's real signature.

#![no_main]

use cedargate::auth::AuthOutcome;
use cedargate_fuzz::{AMZ_DATE, headers, verify};
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SIGNATURE: &str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut request = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", AMZ_DATE),
    ]);
    request.insert(http::header::AUTHORIZATION, value);
    if let Some(AuthOutcome::Authenticated(_)) = verify("GET", "/test.txt", "", &request) {
        // The verifier compares the hex signature case-insensitively.
        let text = String::from_utf8_lossy(data).to_ascii_lowercase();
        assert!(
            text.contains(SIGNATURE),
            "authenticated without the real signature: {text}"
        );
    }
});
