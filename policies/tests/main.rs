//! Integration tests of cedargate-policies, one test binary: the example
//! sets' test tables, reload and watch on real directories, the base set
//! against an open team policy, and sliced against unsliced decisions on
//! random policy sets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod anonymous;
mod differential;
mod examples;
mod reload;
mod sliced;
mod support;
