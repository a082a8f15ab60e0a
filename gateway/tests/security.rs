//! Security regression suite: every way around a policy, attacked end to end against a real gateway.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

#[path = "security/implied.rs"]
mod implied;
