//! Fuzzes the DeleteObjects body parser. It must never panic; what it
//! accepts names 1 to 1000 non-empty keys (their length is judged per key
//! by the handler, as S3 answers a per-key error), and the keys it accepts
//! survive a round trip through the document the s3 backend would send
//! upstream.

#![no_main]

use cedargate_s3::xml::{MAX_DELETE_OBJECTS, parse_delete};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse_delete(data) else {
        return;
    };
    assert!(!request.objects.is_empty() && request.objects.len() <= MAX_DELETE_OBJECTS);
    let mut document = String::from("<Delete>");
    for object in &request.objects {
        assert!(!object.key.is_empty());
        document.push_str("<Object><Key>");
        document.push_str(&cedargate_s3::xml::escape(&object.key));
        document.push_str("</Key></Object>");
    }
    document.push_str("</Delete>");
    let again = parse_delete(document.as_bytes()).expect("a re-encoded request parses");
    let keys = |r: &cedargate_s3::xml::DeleteRequest| {
        r.objects.iter().map(|o| o.key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&request), keys(&again));
});
