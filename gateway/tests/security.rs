//! Security regression suite: real `cedargate` processes attacked the way a
//! holder of a credential or a presigned URL would try to get around a
//! policy, one module per class of attack.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

#[path = "security/implied.rs"]
mod implied;
#[path = "security/signed_headers.rs"]
mod signed_headers;
