//! Fuzzes the configuration loader (`from_str` then `validate`). It must
//! never panic, and a configuration it accepts is accepted again after a
//! second validation, with every bucket naming a configured backend.

#![no_main]

use cedargate::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = Config::from_str(text) else {
        return;
    };
    for (name, bucket) in &config.buckets {
        assert!(config.backends.contains_key(&bucket.backend), "bucket {name}");
    }
    assert!(config.clone().validate().is_ok());
});
