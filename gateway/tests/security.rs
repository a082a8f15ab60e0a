//! Security regression suite: real `cedargate` processes on 127.0.0.1
//! attacked the way a holder of a credential or a presigned URL, an outsider
//! or a careless deployment would try to get around a policy, one module per
//! class of attack.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

#[path = "security/admin_listener.rs"]
mod admin_listener;
#[path = "security/config.rs"]
mod config;
#[path = "security/console.rs"]
mod console;
#[path = "security/decisions.rs"]
mod decisions;
#[path = "security/implied.rs"]
mod implied;
#[path = "security/keys.rs"]
mod keys;
#[path = "security/metrics.rs"]
mod metrics;
#[path = "security/quota.rs"]
mod quota;
#[path = "security/signed_headers.rs"]
mod signed_headers;
#[path = "security/startup_secrets.rs"]
mod startup_secrets;
#[path = "security/state_store.rs"]
mod state_store;
#[path = "security/sts.rs"]
mod sts;
#[path = "security/versions.rs"]
mod versions;
