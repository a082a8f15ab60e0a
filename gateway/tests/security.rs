//! Attacks on the authorization boundary, each against a real gateway.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

#[path = "security/keys.rs"]
mod keys;
