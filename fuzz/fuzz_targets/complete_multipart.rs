//! Fuzzes the CompleteMultipartUpload body parser. It must never panic;
//! what it accepts lists 1 to 10000 parts in strictly ascending part
//! numbers within 1..=10000, and its ETags round-trip: quoting each again,
//! as clients send them, parses back to the same ETags.

#![no_main]

use cedargate_s3::xml::{MAX_PARTS, escape, parse_complete_multipart_upload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(upload) = parse_complete_multipart_upload(data) else {
        return;
    };
    assert!(!upload.parts.is_empty() && upload.parts.len() <= MAX_PARTS);
    let mut previous = 0;
    let mut document = String::from("<CompleteMultipartUpload>");
    for part in &upload.parts {
        assert!(part.part_number > previous && part.part_number <= 10_000);
        previous = part.part_number;
        document.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>&quot;{}&quot;</ETag></Part>",
            part.part_number,
            escape(&part.etag)
        ));
    }
    document.push_str("</CompleteMultipartUpload>");
    let again = parse_complete_multipart_upload(document.as_bytes())
        .expect("a re-encoded request parses");
    assert_eq!(upload.parts, again.parts);
});
