//! What a start reveals about secrets: a credentials file or a config file
//! holding a secret inline that its group or others may read is named in
//! one WARN line (never its content), as ssh does for keys, and not once
//! it is `chmod 600`; a `redis_url` whose password holds `/`, `#` or `?`
//! (so that the URL does not even parse) never shows that password in the
//! error that ends the start.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SECRET_KEY: &str = "credentials-file-secret-00000000000000000";
const SEAL_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const WARNING: &str = "a file holding secrets is readable by its group or others";

/// Writes a config (with `extra` appended) and a credentials file into
/// `dir`, both with `mode`.
fn write_files(dir: &Path, extra: &str, mode: u32) {
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nthreads = 1\n\
         grace_period_seconds = 1\n\n[credentials]\nfile = \"credentials.toml\"\n\n\
         [backends.local]\nkind = \"fs\"\nroot = \"{}\"\n\n[buckets.alpha]\nbackend = \"local\"\n{extra}",
        dir.join("data").display()
    );
    let credentials = format!(
        "[[credential]]\naccess_key = \"CGSECRETFILEKEY00001\"\nsecret_key = \"{SECRET_KEY}\"\nprincipal = \"p\"\n"
    );
    for (name, text) in [
        ("cedargate.toml", config),
        ("credentials.toml", credentials),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    std::fs::create_dir_all(dir.join("data/alpha")).expect("bucket dir");
}

/// Starts `cedargate serve` on `dir`'s config until it says it listens or
/// exits (at most 30 s), stops it, and answers its log.
fn start_log(dir: &Path) -> String {
    let log_path = dir.join("stderr.txt");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cedargate"))
        .args(["serve", "--config"])
        .arg(dir.join("cedargate.toml"))
        .env("RUST_LOG", "info,pingora=warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start cedargate");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let exited = child.try_wait().expect("poll cedargate").is_some();
        if exited || text.contains("listening") || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn secret_files_readable_by_others_are_named_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sealed = format!("\n[sts]\nseal_keys = [{{ id = \"k1\", key = \"{SEAL_KEY}\" }}]\n");
    write_files(dir.path(), &sealed, 0o644);
    let log = start_log(dir.path());
    assert!(log.contains("listening"), "{log}");
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains(WARNING)).collect();
    assert_eq!(warnings.len(), 2, "{log}");
    assert!(
        warnings.iter().any(|l| l.contains("credentials.toml")),
        "{log}"
    );
    assert!(
        warnings.iter().any(|l| l.contains("cedargate.toml")),
        "{log}"
    );
    assert!(warnings.iter().all(|l| l.contains("WARN")), "{log}");
    assert!(
        !log.contains(SECRET_KEY) && !log.contains(SEAL_KEY),
        "{log}"
    );

    // Owner-only files: no warning.
    write_files(dir.path(), &sealed, 0o600);
    let log = start_log(dir.path());
    assert!(log.contains("listening") && !log.contains(WARNING), "{log}");

    // A config holding no secret is not a secret file, whatever its mode.
    write_files(dir.path(), "", 0o644);
    std::fs::set_permissions(
        dir.path().join("credentials.toml"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    let log = start_log(dir.path());
    assert!(log.contains("listening") && !log.contains(WARNING), "{log}");
}

#[test]
fn a_redis_password_with_url_delimiters_never_shows_in_the_start_error() {
    for password in ["pa/ss#x", "pw?word/1", "sec#ret?pw/d"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let state = format!(
            "\n[state]\nstore = \"redis\"\nredis_url = \"redis://app:{password}@127.0.0.1:1/0\"\n"
        );
        write_files(dir.path(), &state, 0o600);
        let log = start_log(dir.path());
        assert!(log.contains("redis"), "{password}: {log}");
        assert!(!log.contains("listening"), "{password}: {log}");
        assert!(!log.contains(password), "{password}: {log}");
        // What comes before the first delimiter is the part a naive
        // redaction shows: it is gone too.
        let head = password.split(['/', '#', '?']).next().unwrap_or_default();
        assert!(!log.contains(&format!("app:{head}")), "{password}: {log}");
        assert!(log.contains("app:***@"), "{password}: {log}");
    }
}
