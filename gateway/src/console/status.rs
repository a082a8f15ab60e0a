//! `GET /console/api/status`: what the gateway is running — version,
//! uptime, listeners, error profile, policy generation and the last reload
//! (with each problem's `file:line:col`), credentials loaded (a count,
//! never keys) and each backend's last health probe.

use cedargate_policies::{Diagnostic, ReloadStatus};
use serde_json::{Value, json};

use super::ConsoleState;
use super::decisions::unix_ms;
use crate::pipeline::Gateway;

/// The status document.
pub fn status(gateway: &Gateway, console: &ConsoleState) -> Value {
    let config = &gateway.config;
    let policies = &gateway.policies;
    let snapshot = policies.snapshot();
    let files: Vec<Value> = snapshot
        .files()
        .iter()
        .map(|(name, count)| json!({ "name": name, "policies": count }))
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": console.started.elapsed().as_secs(),
        "listeners": {
            "s3": config.server.listen.to_string(),
            "s3_tls": config.server.tls.as_ref().map(|tls| tls.listen.to_string()),
            "admin": config.server.admin_listen.to_string(),
        },
        "error_profile": config.s3.error_profile,
        "policy": {
            "generation": snapshot.generation(),
            "dir": policies.dir().map(|dir| dir.display().to_string()),
            "watch": config.policies.watch && policies.dir().is_some(),
            "files": files,
            "last_reload": reload(&policies.last_reload()),
            "last_failure": policies.last_failure().as_ref().map(reload),
        },
        "credentials": { "count": gateway.credentials.load().len() },
        "backends": gateway.health.states(),
        "console": {
            "token_required": console.auth.requires_token(),
            "decisions_kept": console.decisions.capacity(),
            "sample_interval_seconds": console.traffic.interval().as_secs(),
        },
    })
}

/// A reload outcome as JSON.
pub fn reload(status: &ReloadStatus) -> Value {
    json!({
        "ok": status.ok,
        "generation": status.generation,
        "at_ms": unix_ms(status.at),
        "error": status.error,
        "diagnostics": diagnostics(&status.diagnostics),
    })
}

/// Policy problems as JSON: `file`, `line`, `column`, `location`
/// (`file:line:col`), `message`, `policy`, `help`.
pub fn diagnostics(diagnostics: &[Diagnostic]) -> Vec<Value> {
    diagnostics
        .iter()
        .take(50)
        .map(|d| {
            json!({
                "file": d.location.file,
                "line": d.location.line,
                "column": d.location.column,
                "location": d.location.to_string(),
                "message": d.message,
                "policy": d.policy,
                "help": d.help,
            })
        })
        .collect()
}
