//! The operator console end to end: a real gateway with an admin token,
//! S3 traffic from boto3 (some of it denied by a forbid policy with an
//! `@id`), then `tests/browser/console.mjs` driving the console in headless
//! Debian Chromium through playwright-core (both installed by
//! scripts/setup).

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed setup step should stop the test loudly"
)]

mod utils;

use std::path::Path;
use std::process::Command;

use utils::{ADMIN_TOKEN, TESTER_POLICY, TestGateway};

/// The forbid policy whose id the console must show on the denied requests.
const DENY_POLICY_ID: &str = "no-secret-prefix-reads";

const DENY_POLICY: &str = "@id(\"no-secret-prefix-reads\")\nforbid (principal, action == Action::\"s3:GetObject\", resource)\nwhen { resource.key like \"secret/*\" };\n";

/// `alpha` is capped, so the console draws its quota bar.
const BUCKETS: &str = "
[buckets.alpha]
backend = \"local\"

[buckets.alpha.quota]
hard = \"1MiB\"
soft = \"512KiB\"

[buckets.beta]
backend = \"local\"
";

const CONSOLE_TOML: &str = "
[console]
admin_token_file = \"admin-token\"
sample_interval_seconds = 1
";

#[test]
fn the_console_shows_status_decisions_playground_and_charts_in_chromium() {
    let gateway = TestGateway::start_custom(
        BUCKETS,
        CONSOLE_TOML,
        &[("tester.cedar", TESTER_POLICY), ("deny.cedar", DENY_POLICY)],
        None,
    );
    let bearer = format!("Authorization: Bearer {ADMIN_TOKEN}");
    let (status, body) = gateway
        .admin_request("GET", "/console/api/status", &[])
        .expect("admin listener");
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"unauthorized\""), "{body}");
    let (status, body) = gateway
        .admin_request("GET", "/console/api/status", &[&bearer])
        .expect("admin listener");
    assert_eq!(status, 200, "{body}");
    assert!(
        !body.contains(ADMIN_TOKEN),
        "the token never appears in JSON"
    );
    assert_eq!(
        gateway.admin_request("GET", "/healthz", &[]).map(|r| r.0),
        Some(200),
        "probes stay open"
    );
    gateway.assert_pytest_passes("test_console_traffic.py");

    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run scripts/setup"
    );
    let chromium = std::env::var("CG_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "`{chromium}` is missing: run scripts/setup"
    );
    let output = Command::new(std::env::var("CG_NODE").unwrap_or_else(|_| "node".into()))
        .arg(browser_dir.join("console.mjs"))
        .current_dir(&browser_dir)
        .env("CG_ADMIN", format!("http://{}", gateway.admin))
        .env("CG_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("CG_POLICY_DIR", gateway.policy_dir())
        .env("CG_DENY_POLICY", DENY_POLICY_ID)
        .env("CG_TMP", gateway.dir())
        .env("CG_CHROMIUM", &chromium)
        .output()
        .expect("run node (installed by scripts/setup)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("all checks passed"),
        "console.mjs failed ({}):\n{stdout}\n{stderr}\n--- gateway log (tail) ---\n{}",
        output.status,
        gateway.log_tail(40)
    );
    let log = gateway.log();
    assert!(
        !log.contains(ADMIN_TOKEN),
        "the admin token is never logged"
    );
}

#[test]
fn without_a_token_the_console_is_open_on_a_loopback_admin_listener() {
    let gateway = TestGateway::start("");
    let (status, body) = gateway
        .admin_request("GET", "/console/api/status", &[])
        .expect("admin listener");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"token_required\":false"), "{body}");
    let (status, body) = gateway
        .admin_request("GET", "/console", &[])
        .expect("admin listener");
    assert_eq!(status, 200);
    assert!(body.contains("/console/console.js"), "{body}");
}

#[test]
fn a_token_less_console_is_refused_on_a_public_admin_listener() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cedargate"))
        .args([
            "serve",
            "--admin-listen",
            "0.0.0.0:0",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "error")
        .env_remove("CEDARGATE_ACCESS_KEY")
        .env_remove("CEDARGATE_SECRET_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start cedargate");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll cedargate") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cedargate started with a token-less console on 0.0.0.0");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    assert!(!status.success());
    assert!(
        stderr.contains("server.admin_listen") && stderr.contains("loopback"),
        "{stderr}"
    );
}
