//! Fuzzes presigned-URL authentication: the input is the raw query string of
//! `GET /test.txt` on AWS's documented example host (`X-Amz-Algorithm`,
//! `X-Amz-Credential`, ... percent-encoded as clients send them). The query
//! parser and verifier must never panic, and may only succeed when the query
//! carries the documented presigned signature (percent-encoded or not, hex
//! digits in either case).

#![no_main]

use cedargate::auth::AuthOutcome;
use cedargate_fuzz::{headers, verify};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

const SIGNATURE: &str = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let request = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
    if let Some(AuthOutcome::Authenticated(_)) = verify("GET", "/test.txt", query, &request) {
        // Values are percent-decoded and the hex compared case-insensitively.
        let decoded = percent_decode_str(query)
            .decode_utf8_lossy()
            .to_ascii_lowercase();
        assert!(
            decoded.contains(SIGNATURE),
            "authenticated without the real signature: {query}"
        );
    }
});
