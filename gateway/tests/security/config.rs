//! Configuration fails closed. A config file never gets the development
//! credential or the development (allow-all) policy set of the embedded
//! default, whatever its credentials file holds or its `[policies]` table
//! lacks, on start and on reload; and a listener that cannot bind ends the
//! process at once, with one line naming the address, before anything
//! says "listening" or `/readyz` answers.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::utils::{distinct_free_ports, self_signed_certificate, wait_listening};

/// A policy letting any authenticated principal do anything: whatever
/// credential the gateway accepts gets through.
const ALLOW_ALL: &str = "@id(\"anyone-may-do-anything\")\npermit (principal, action, resource);\n";

/// The development credential an operator might export (or an attacker
/// might know from a tutorial).
const DEV_KEY: &str = "CGKNOWNDEVKEY0000001";
/// Its secret.
const DEV_SECRET: &str = "known-dev-secret-00000000000000000000000";

/// `CEDARGATE_ACCESS_KEY` / `CEDARGATE_SECRET_KEY` set to [`DEV_KEY`].
const DEV_ENV: &[(&str, &str)] = &[
    ("CEDARGATE_ACCESS_KEY", DEV_KEY),
    ("CEDARGATE_SECRET_KEY", DEV_SECRET),
];

/// A credential the file grants.
const FILE_KEY: &str = "CGFILEKEY00000000001";
/// Its secret.
const FILE_SECRET: &str = "file-secret-0000000000000000000000000000";

/// SHA-256 of the empty body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Credentials files that hold no usable credential.
const UNUSABLE_CREDENTIAL_FILES: &[(&str, &str)] = &[
    ("an empty file", ""),
    ("a comment only", "# every credential was revoked\n"),
    (
        "only an expired entry",
        "[[credential]]\naccess_key = \"CGEXPIREDKEY00000001\"\nsecret_key = \"expired-secret-000000000000000000000000\"\nprincipal = \"dev\"\nexpires_at = \"2020-01-01T00:00:00Z\"\n",
    ),
    (
        "only disabled entries",
        "[[credential]]\naccess_key = \"CGDISABLEDKEY0000001\"\nsecret_key = \"disabled-secret-0000000000000000000000\"\nprincipal = \"dev\"\nenabled = false\n",
    ),
];

/// A gateway process started from a hand-written config file.
struct Gateway {
    child: Child,
    dir: tempfile::TempDir,
    s3: u16,
    admin: u16,
}

/// Which tables a test config has besides `[server]`, the fs backend and
/// bucket `alpha`.
#[derive(Default)]
struct Setup<'a> {
    /// The credentials file's text; `None`: no `[credentials]` table.
    credentials: Option<&'a str>,
    /// The policy directory's one file; `None`: no `[policies]` table.
    policy: Option<&'a str>,
    /// Environment variables for the process.
    env: &'a [(&'a str, &'a str)],
}

impl Gateway {
    /// Writes the config of `setup` and starts `cedargate serve` on it
    /// (S3, TLS S3 and admin on `ports`) without waiting.
    fn spawn(setup: &Setup<'_>, ports: (u16, u16, u16)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (s3, admin, tls) = ports;
        self_signed_certificate(dir.path());
        std::fs::create_dir_all(dir.path().join("data/alpha")).expect("bucket dir");
        let mut config = format!(
            "[server]\nlisten = \"127.0.0.1:{s3}\"\nadmin_listen = \"127.0.0.1:{admin}\"\n\
             threads = 1\ngrace_period_seconds = 1\n\n\
             [server.tls]\nlisten = \"127.0.0.1:{tls}\"\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\n\n\
             [backends.local]\nkind = \"fs\"\nroot = \"{}\"\n\n[buckets.alpha]\nbackend = \"local\"\n",
            dir.path().join("data").display()
        );
        if let Some(credentials) = setup.credentials {
            std::fs::write(dir.path().join("credentials.toml"), credentials)
                .expect("write credentials");
            config.push_str("\n[credentials]\nfile = \"credentials.toml\"\n");
        }
        if let Some(policy) = setup.policy {
            std::fs::create_dir_all(dir.path().join("policies")).expect("policy dir");
            std::fs::write(dir.path().join("policies/test.cedar"), policy).expect("policy");
            config.push_str("\n[policies]\ndir = \"policies\"\nreload_debounce_ms = 100\n");
        }
        let config_path = dir.path().join("cedargate.toml");
        std::fs::write(&config_path, config).expect("write config");
        let output = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_cedargate"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("RUST_LOG", "info,pingora=warn")
            .env("NO_COLOR", "1")
            .env_remove("CEDARGATE_ACCESS_KEY")
            .env_remove("CEDARGATE_SECRET_KEY")
            .envs(setup.env.iter().copied())
            .stdout(output("stdout.txt"))
            .stderr(output("stderr.txt"))
            .spawn()
            .expect("start cedargate");
        Self {
            child,
            dir,
            s3,
            admin,
        }
    }

    /// Starts a gateway on port 0 of 127.0.0.1, reads the addresses it
    /// reports, and waits (at most 30 s) until it answers `/healthz`.
    fn start(setup: &Setup<'_>) -> Self {
        let mut gateway = Self::spawn(setup, (0, 0, 0));
        let log = gateway.path("stderr.txt");
        match wait_listening(&mut gateway.child, &log) {
            Ok(bound) => (gateway.s3, gateway.admin) = (bound.s3.port(), bound.admin.port()),
            Err(error) => panic!("{error}:\n{}", gateway.stderr()),
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while admin_get(gateway.admin, "/healthz").is_none_or(|(status, _)| status != 200) {
            if let Some(status) = gateway.child.try_wait().expect("poll cedargate") {
                panic!("cedargate exited ({status}):\n{}", gateway.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "not healthy in 30 s:\n{}",
                gateway.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        gateway
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        self.read("stdout.txt")
    }

    fn stderr(&self) -> String {
        self.read("stderr.txt")
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// ListObjectsV2 on `alpha`, signed with `access_key` / `secret_key`.
    fn list_alpha(&self, access_key: &str, secret_key: &str) -> (u16, String) {
        signed_get(self.s3, "/alpha?list-type=2", access_key, secret_key)
    }

    /// Waits at most `limit` for the process to exit; its status, if it did.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("poll cedargate") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The development credential a gateway printed, if it printed one.
fn printed_credential(stdout: &str) -> Option<(String, String)> {
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .map(str::to_owned)
    };
    Some((
        value("AWS_ACCESS_KEY_ID=")?,
        value("AWS_SECRET_ACCESS_KEY=")?,
    ))
}

/// A GET on 127.0.0.1:`port`, signed in headers; the status and body.
fn signed_get(port: u16, target: &str, access_key: &str, secret_key: &str) -> (u16, String) {
    let host = format!("127.0.0.1:{port}");
    let request = signed_get_request(&host, target, access_key, secret_key);
    exchange(port, &request).expect("the S3 listener answers")
}

/// The text of a GET of `target` on `host`, signed in headers (SigV4, no
/// body), closing its connection.
pub(crate) fn signed_get_request(
    host: &str,
    target: &str,
    access_key: &str,
    secret_key: &str,
) -> String {
    let identity: Identity = Credentials::new(access_key, secret_key, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .expect("signing parameters")
        .into();
    let signable = SignableRequest::new(
        "GET",
        format!("http://{host}{target}"),
        std::iter::once(("host", host)),
        SignableBody::Precomputed(EMPTY_SHA256.to_owned()),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let (headers, _) = instructions.into_parts();
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(&format!("{}: {}\r\n", header.name(), header.value()));
    }
    request.push_str("\r\n");
    request
}

/// GET `path` on the admin listener; `None` when nothing answers.
fn admin_get(port: u16, path: &str) -> Option<(u16, String)> {
    exchange(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n"),
    )
}

/// Sends `request` to 127.0.0.1:`port`; the answer's status and body.
fn exchange(port: u16, request: &str) -> Option<(u16, String)> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_owned()))
}

/// The documented profile's answer to an access key nobody knows.
fn assert_invalid_access_key(case: &str, (status, body): (u16, String)) {
    assert!(
        status == 401 && body.contains("<Code>InvalidAccessKeyId</Code>"),
        "{case}: expected 401 InvalidAccessKeyId, got {status}: {body}"
    );
}

#[test]
fn a_credentials_file_without_a_usable_credential_starts_with_no_credential() {
    for (case, file) in UNUSABLE_CREDENTIAL_FILES {
        let gateway = Gateway::start(&Setup {
            credentials: Some(file),
            policy: Some(ALLOW_ALL),
            ..Setup::default()
        });
        if let Some((key, secret)) = printed_credential(&gateway.stdout()) {
            let (status, body) = gateway.list_alpha(&key, &secret);
            panic!(
                "{case}: a development credential `{key}` was generated; a request signed with it got {status}: {body}"
            );
        }
        assert!(
            gateway.stdout().trim().is_empty(),
            "{case}: {}",
            gateway.stdout()
        );
        assert!(
            gateway.stderr().contains("no usable static credential"),
            "{case}: the start warns:\n{}",
            gateway.stderr()
        );
        drop(gateway);

        // The development credential of the environment is not one either.
        let gateway = Gateway::start(&Setup {
            credentials: Some(file),
            policy: Some(ALLOW_ALL),
            env: DEV_ENV,
        });
        assert_invalid_access_key(case, gateway.list_alpha(DEV_KEY, DEV_SECRET));
        assert!(printed_credential(&gateway.stdout()).is_none(), "{case}");
    }
}

#[test]
fn a_config_file_without_a_policy_directory_denies_every_request() {
    // A credential named `dev` is exactly who the development set allows.
    let credentials = format!(
        "[[credential]]\naccess_key = \"{FILE_KEY}\"\nsecret_key = \"{FILE_SECRET}\"\nprincipal = \"dev\"\n"
    );
    // (case, the policy directory's one file, what the start warns)
    let cases = [
        ("no `[policies]` table", None, "no `[policies] dir`"),
        (
            "a directory without a permit",
            Some("// nothing is permitted yet\n"),
            "has no permit",
        ),
    ];
    for (case, policy, warning) in cases {
        let gateway = Gateway::start(&Setup {
            credentials: Some(&credentials),
            policy,
            ..Setup::default()
        });
        let (status, body) = gateway.list_alpha(FILE_KEY, FILE_SECRET);
        assert!(
            status == 403 && body.contains("<Code>AccessDenied</Code>"),
            "{case}: expected 403 AccessDenied, got {status}: {body}"
        );
        assert!(
            gateway.stderr().contains(warning),
            "{case}: the start warns:\n{}",
            gateway.stderr()
        );
    }
    // With the permit in a directory, the same request is served: the
    // denials above are the policies', not the credential's.
    let gateway = Gateway::start(&Setup {
        credentials: Some(&credentials),
        policy: Some(ALLOW_ALL),
        ..Setup::default()
    });
    let (status, body) = gateway.list_alpha(FILE_KEY, FILE_SECRET);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn emptying_the_credentials_file_revokes_everything_and_brings_no_development_credential_back() {
    let credentials = format!(
        "[[credential]]\naccess_key = \"{FILE_KEY}\"\nsecret_key = \"{FILE_SECRET}\"\nprincipal = \"tester\"\n"
    );
    let gateway = Gateway::start(&Setup {
        credentials: Some(&credentials),
        policy: Some(ALLOW_ALL),
        env: DEV_ENV,
    });
    assert_eq!(gateway.list_alpha(FILE_KEY, FILE_SECRET).0, 200);
    assert_invalid_access_key("before the reload", gateway.list_alpha(DEV_KEY, DEV_SECRET));
    std::fs::write(gateway.path("credentials.toml"), "").expect("empty the credentials");
    let deadline = Instant::now() + Duration::from_secs(10);
    while gateway.list_alpha(FILE_KEY, FILE_SECRET).0 == 200 {
        assert!(
            Instant::now() < deadline,
            "the emptied file was not reloaded in 10 s:\n{}",
            gateway.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_invalid_access_key("the revoked key", gateway.list_alpha(FILE_KEY, FILE_SECRET));
    assert_invalid_access_key("after the reload", gateway.list_alpha(DEV_KEY, DEV_SECRET));
    assert!(printed_credential(&gateway.stdout()).is_none());
    assert!(
        gateway.stderr().contains("no usable static credential"),
        "the reload warns:\n{}",
        gateway.stderr()
    );
}

/// The listeners a test takes before the gateway starts, by config field.
const LISTENER_FIELDS: &[&str] = &["server.listen", "server.tls.listen", "server.admin_listen"];

#[test]
fn a_listener_address_in_use_ends_the_process_before_it_says_listening() {
    for field in LISTENER_FIELDS {
        let ports = distinct_free_ports();
        let (s3, admin, tls) = ports;
        let port = match *field {
            "server.listen" => s3,
            "server.tls.listen" => tls,
            _ => admin,
        };
        let _taken = TcpListener::bind(("127.0.0.1", port)).expect("take the port");
        let started = Instant::now();
        let mut gateway = Gateway::spawn(
            &Setup {
                credentials: Some(""),
                policy: Some(ALLOW_ALL),
                ..Setup::default()
            },
            ports,
        );
        // Until it exits (10 s at most), `/readyz` must never say ready.
        let mut status = None;
        let mut ready = None;
        while status.is_none() && started.elapsed() < Duration::from_secs(10) {
            if port != admin
                && let Some((200, body)) = admin_get(admin, "/readyz")
            {
                ready = Some(body);
            }
            status = gateway.wait_exit(Duration::from_millis(100));
        }
        let stderr = gateway.stderr();
        let status = status.unwrap_or_else(|| {
            panic!("{field}: port {port} in use, still running after 10 s (`/readyz`: {ready:?}):\n{stderr}")
        });
        assert!(!status.success(), "{field}: {status}");
        assert_eq!(ready, None, "{field}: `/readyz` answered ready");
        let address = format!("127.0.0.1:{port}");
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|line| line.contains(&address))
            .collect();
        assert!(
            lines.len() == 1 && lines[0].contains(field) && lines[0].contains("in use"),
            "{field}: one line naming {address}, the field and the OS error:\n{stderr}"
        );
        assert!(
            !stderr.contains("listening"),
            "{field}: said listening:\n{stderr}"
        );
        assert!(
            printed_credential(&gateway.stdout()).is_none(),
            "{field}: {}",
            gateway.stdout()
        );
    }
}
