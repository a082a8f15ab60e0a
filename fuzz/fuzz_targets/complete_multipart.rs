//! Fuzzes the CompleteMultipartUpload body parser. It must never panic;
//! what it accepts lists 1 to 10000 parts in strictly ascending part
//! numbers within 1..=10000, with ETags stripped of their quotes.

#![no_main]

use cedargate::xml::{MAX_PARTS, parse_complete_multipart_upload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(upload) = parse_complete_multipart_upload(data) else {
        return;
    };
    assert!(!upload.parts.is_empty() && upload.parts.len() <= MAX_PARTS);
    let mut previous = 0;
    for part in &upload.parts {
        assert!(part.part_number > previous && part.part_number <= 10_000);
        assert!(!part.etag.starts_with('"') && !part.etag.ends_with('"'), "{:?}", part.etag);
        previous = part.part_number;
    }
});
