//! Attacks on the gateway's authorization boundary, end to end against real gateway processes.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

#[path = "security/quota.rs"]
mod quota;
