//! Security regression suite: real `cedargate` processes on 127.0.0.1
//! attacked the way an outsider or a careless deployment would.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

#[path = "security/config.rs"]
mod config;
