//! Differential fuzzing of decisions: the bytes choose a policy set over
//! the schema and requests against it (the generator of the policies
//! crate's differential test), and the gateway's decision (`decide` and
//! `explain`) must be exactly what plain Cedar's `is_authorized` on the
//! fully built request implies. A set that does not validate strictly
//! must be refused by the loader too.

#![no_main]

#[path = "../../policies/tests/differential/generate.rs"]
#[allow(dead_code, reason = "shared with the test suite")]
mod generate;
#[path = "../../policies/tests/differential/oracle.rs"]
mod oracle;

use generate::{Draw, RequestCase, SetCase};
use libfuzzer_sys::fuzz_target;
use oracle::Oracle;

/// Policies per set, at most.
const MAX_POLICIES: usize = 8;
/// Requests per set, at most.
const MAX_REQUESTS: usize = 16;

/// Choices read from the input, a byte each; 0 once it is used up.
struct Bytes<'a>(&'a [u8]);

impl Draw for Bytes<'_> {
    fn below(&mut self, n: usize) -> usize {
        let Some((&byte, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        if n == 0 { 0 } else { usize::from(byte) % n }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut draw = Bytes(data);
    let case = SetCase::generate(&mut draw, MAX_POLICIES);
    let oracle = match Oracle::new(&case) {
        Ok(Some(oracle)) => oracle,
        Ok(None) => return,
        Err(message) => panic!("{message}\n{}", case.listing()),
    };
    for _ in 0..MAX_REQUESTS {
        if draw.0.is_empty() {
            break;
        }
        let request = RequestCase::generate(&mut draw);
        if let Err(message) = oracle.check(&request) {
            panic!("{message}\n{}", case.listing());
        }
    }
});
