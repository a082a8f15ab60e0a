//! A real `cedargate` process for integration tests: a config in a temp
//! directory, listeners on port 0 of 127.0.0.1 (the addresses read back from
//! the gateway's "cedargate listening" log line), readiness on `/healthz`,
//! and the process killed when the handle drops. External servers that must
//! be given a port (redis-server, moto, s3s-fs) start again on a fresh one
//! when theirs turns out to be taken.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The policy of [`TestGateway::start`]: the test credential may do everything.
pub const TESTER_POLICY: &str = "@id(\"tester-may-do-everything\")\npermit (principal == Credential::\"tester\", action, resource);\n";

/// The policies test_buckets.py expects beside [`TESTER_POLICY`]: reads
/// of objects tagged `classification=secret` and writes tagged
/// `classification=forbidden` are forbidden, as are deletes of objects with
/// a `legal-hold` tag; `beta-team` may read and list.
pub const TAG_POLICIES: &str = r#"
@id("no-secret-reads")
forbid (principal, action == Action::"s3:GetObject", resource)
when { resource.hasTag("classification") && resource.getTag("classification") == "secret" };

@id("no-forbidden-writes")
forbid (
  principal,
  action in [Action::"s3:PutObject", Action::"s3:CreateMultipartUpload"],
  resource
)
when { resource.hasTag("classification") && resource.getTag("classification") == "forbidden" };

@id("legal-holds-stay")
forbid (
  principal,
  action in [Action::"s3:DeleteObject", Action::"s3:DeleteObjects"],
  resource
)
when { resource.hasTag("legal-hold") };

@id("beta-team-reads")
permit (principal in Group::"beta-team", action in [Action::"read", Action::"list"], resource);
"#;

/// The buckets of [`TestGateway::start`]: `alpha` and `beta` on the fs backend.
pub const DEFAULT_BUCKETS: &str = "
[buckets.alpha]
backend = \"local\"

[buckets.beta]
backend = \"local\"
";

/// The admin token every test gateway's `admin-token` file holds; a
/// gateway uses it with `[console] admin_token_file = "admin-token"`.
pub const ADMIN_TOKEN: &str = "cg-test-admin-token-0123456789";

/// The development credential every test gateway trusts.
pub const ACCESS_KEY: &str = "CGTESTACCESSKEY00001";
/// Its secret.
pub const SECRET_KEY: &str = "cgtest/secret+key/0123456789abcdefghij";

/// A running gateway.
pub struct TestGateway {
    child: Child,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT` of the S3 listener.
    pub endpoint: String,
    /// `https://localhost:PORT` of the S3 TLS listener.
    pub tls_endpoint: String,
    /// `127.0.0.1:PORT` of the admin listener.
    pub admin: SocketAddr,
}

/// Three ports nobody listens on right now, all different (two calls of
/// [`free_port`] may return the same port once the first is released).
pub fn distinct_free_ports() -> (u16, u16, u16) {
    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port"))
        .collect();
    let port = |i: usize| listeners[i].local_addr().expect("local addr").port();
    (port(0), port(1), port(2))
}

/// How many ports an external server is tried on before its start fails.
const START_ATTEMPTS: usize = 5;

/// A port nobody listens on right now (another process may take it before
/// it is used: servers started on one retry on another).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

impl TestGateway {
    /// Starts a gateway with the fs backend (buckets `alpha` and `beta`),
    /// a policy letting the test credential do everything, plus
    /// `extra_toml` appended to the config.
    pub fn start(extra_toml: &str) -> Self {
        Self::start_with_policies(extra_toml, &[("tester.cedar", TESTER_POLICY)])
    }

    /// Starts a gateway whose policy directory holds `policies` (file name, text).
    pub fn start_with_policies(extra_toml: &str, policies: &[(&str, &str)]) -> Self {
        Self::start_on(extra_toml, policies, None)
    }

    /// As [`Self::start_with_policies`], with the fs backend rooted at
    /// `data` (so that several gateways can share one store) instead of a
    /// fresh directory.
    pub fn start_on(extra_toml: &str, policies: &[(&str, &str)], data: Option<&Path>) -> Self {
        Self::start_custom(DEFAULT_BUCKETS, extra_toml, policies, data)
    }

    /// A gateway whose bucket tables are `buckets_toml` (instead of `alpha`
    /// and `beta` on the fs backend `local`), e.g. to serve them from an
    /// s3 backend defined in `extra_toml`.
    pub fn start_custom(
        buckets_toml: &str,
        extra_toml: &str,
        policies: &[(&str, &str)],
        data: Option<&Path>,
    ) -> Self {
        Self::start_with_args(buckets_toml, extra_toml, policies, data, &[])
    }

    /// As [`Self::start_custom`], with extra `cedargate serve` arguments
    /// (e.g. `--log-format json`).
    pub fn start_with_args(
        buckets_toml: &str,
        extra_toml: &str,
        policies: &[(&str, &str)],
        data: Option<&Path>,
        args: &[&str],
    ) -> Self {
        Self::start_full(buckets_toml, extra_toml, "", policies, data, args)
    }

    /// The most general start: `server_toml` is added to the `[server]`
    /// table (e.g. `max_connections = 8`).
    pub fn start_full(
        buckets_toml: &str,
        extra_toml: &str,
        server_toml: &str,
        policies: &[(&str, &str)],
        data: Option<&Path>,
        args: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        self_signed_certificate(dir.path());
        let policy_dir = dir.path().join("policies");
        std::fs::create_dir_all(&policy_dir).expect("policy dir");
        for (name, text) in policies {
            std::fs::write(policy_dir.join(name), text).expect("write policy");
        }
        let data = data.map_or_else(|| dir.path().join("data"), Path::to_path_buf);
        std::fs::create_dir_all(&data).expect("data dir");
        std::fs::write(
            dir.path().join("data-root"),
            data.to_string_lossy().as_bytes(),
        )
        .expect("record the data root");
        let credentials = format!(
            r#"
[[credential]]
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"
principal = "tester"

[[credential]]
access_key = "CGDISABLEDKEY0000001"
secret_key = "disabled-secret-0000000000000000000000"
principal = "disabled"
enabled = false

[[credential]]
access_key = "CGSCOPEDKEY000000001"
secret_key = "scoped-secret-0000000000000000000000000"
principal = "scoped"
groups = ["beta-team"]

[[credential]]
access_key = "CGEXPIREDKEY00000001"
secret_key = "expired-secret-000000000000000000000000"
principal = "expired"
expires_at = "2020-01-01T00:00:00Z"

[[credential]]
access_key = "CGRATELIMITEDKEY0001"
secret_key = "rate-limited-secret-000000000000000000"
principal = "slow"
"#
        );
        std::fs::write(dir.path().join("credentials.toml"), credentials)
            .expect("write credentials");
        std::fs::write(dir.path().join("admin-token"), format!("{ADMIN_TOKEN}\n"))
            .expect("write the admin token");
        let config = format!(
            r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
threads = 2
grace_period_seconds = 1
{server_toml}

[server.tls]
listen = "127.0.0.1:0"
cert_file = "cert.pem"
key_file = "key.pem"

[credentials]
file = "credentials.toml"

[policies]
dir = "policies"
reload_debounce_ms = 100

[backends.local]
kind = "fs"
root = "{data}"
{buckets_toml}
{extra_toml}
"#,
            data = data.display()
        );
        let config_path = dir.path().join("cedargate.toml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("gateway.log")).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cedargate"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .args(args)
            .env("RUST_LOG", "info,pingora=warn")
            .env("NO_COLOR", "1")
            .env_remove("CEDARGATE_ACCESS_KEY")
            .env_remove("CEDARGATE_SECRET_KEY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start cedargate");
        let bound = match wait_listening(&mut child, &dir.path().join("gateway.log")) {
            Ok(bound) => bound,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("gateway.log"));
                panic!("{error}; log:\n{}", log.unwrap_or_default());
            }
        };
        let gateway = Self {
            child,
            dir,
            endpoint: format!("http://{}", bound.s3),
            tls_endpoint: format!("https://localhost:{}", bound.s3_tls.port()),
            admin: bound.admin,
        };
        gateway.wait_ready();
        gateway
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self
                .admin_get("/healthz")
                .is_some_and(|body| body.contains("ok"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("gateway not ready in 30 s; log:\n{}", self.log());
    }

    /// The policy directory.
    pub fn policy_dir(&self) -> PathBuf {
        self.dir.path().join("policies")
    }

    /// The fs backend's root directory.
    pub fn data_dir(&self) -> PathBuf {
        std::fs::read_to_string(self.dir.path().join("data-root"))
            .map_or_else(|_| self.dir.path().join("data"), PathBuf::from)
    }

    /// The gateway's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gateway.log")).unwrap_or_default()
    }

    /// The last `n` lines of the gateway's log.
    pub fn log_tail(&self, n: usize) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// GET on the admin listener; the body, or `None` if unreachable.
    pub fn admin_get(&self, path: &str) -> Option<String> {
        self.admin_request("GET", path, &[]).map(|(_, body)| body)
    }

    /// A request to the admin listener with extra header lines (each
    /// `Name: value`); the status and body, or `None` if unreachable.
    pub fn admin_request(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
    ) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect_timeout(&self.admin, Duration::from_secs(2)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\nContent-Length: 0\r\n{extra}\r\n",
            admin = self.admin
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.get(9..12)?.parse().ok()?;
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())?;
        Some((status, body))
    }

    /// The gateway process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory of the gateway's config, log and temp files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a pytest file from `tests/clients` against this gateway.
    pub fn run_pytest(&self, file: &str, env: &[(&str, &str)]) -> Output {
        let python = std::env::var("CEDARGATE_TEST_PYTHON").unwrap_or_else(|_| {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
            venv.to_string_lossy().into_owned()
        });
        let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
        let bin_dir = Path::new(&python)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"])
            .arg(tests.join(file))
            .env("PATH", path)
            .env("CG_ENDPOINT", &self.endpoint)
            .env("CG_TLS_ENDPOINT", &self.tls_endpoint)
            .env("CG_CA_BUNDLE", self.dir.path().join("cert.pem"))
            .env("CG_ADMIN", format!("http://{}", self.admin))
            .env("CG_ACCESS_KEY", ACCESS_KEY)
            .env("CG_SECRET_KEY", SECRET_KEY)
            .env("CG_DATA_DIR", self.data_dir())
            .env("CG_POLICY_DIR", self.policy_dir())
            .env("CG_TMP", self.dir.path())
            .env("CG_GATEWAY_PID", self.child.id().to_string())
            .env("AWS_CONFIG_FILE", self.dir.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join("aws-credentials"),
            )
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .envs(env.iter().copied())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .output()
            .unwrap_or_else(|e| panic!("cannot run `{python}` (run scripts/setup first): {e}"))
    }

    /// Runs a pytest file and fails the test, with both outputs and the
    /// gateway log, unless every case passed.
    pub fn assert_pytest_passes(&self, file: &str) {
        self.assert_pytest_env_passes(file, &[]);
    }

    /// As [`Self::assert_pytest_passes`], with extra environment variables.
    pub fn assert_pytest_env_passes(&self, file: &str, env: &[(&str, &str)]) {
        let output = self.run_pytest(file, env);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        println!("{stdout}");
        assert!(
            output.status.success() && stdout.contains(" passed"),
            "pytest {file} failed ({}):\n{stdout}\n{stderr}\n--- gateway log (tail) ---\n{}",
            output.status,
            self.log_tail(40)
        );
    }
}

/// Writes `cert.pem` and `key.pem` for `localhost` / 127.0.0.1 into `dir`.
pub fn self_signed_certificate(dir: &Path) {
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl (installed by scripts/setup)");
    assert!(
        status.success(),
        "openssl could not make a test certificate"
    );
}

/// The addresses a gateway reports in its "cedargate listening" line.
#[derive(Debug, Clone, Copy)]
pub struct Listening {
    /// The S3 listener.
    pub s3: SocketAddr,
    /// The S3 TLS listener.
    pub s3_tls: SocketAddr,
    /// The admin listener.
    pub admin: SocketAddr,
}

/// Waits (at most 30 s) until the gateway `child`, logging to `log`,
/// reports the addresses it listens on; an error if it exits first.
pub fn wait_listening(child: &mut Child, log: &Path) -> Result<Listening, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .find(|line| line.contains("cedargate listening"))
        {
            let address = |field: &str| {
                listening_field(line, field)
                    .and_then(|value| value.parse::<SocketAddr>().ok())
                    .ok_or_else(|| format!("no address `{field}` in {line:?}"))
            };
            return Ok(Listening {
                s3: address("s3")?,
                s3_tls: address("s3_tls")?,
                admin: address("admin")?,
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the gateway exited before listening: {status}"));
        }
        if Instant::now() > deadline {
            return Err("the gateway did not report listening within 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of `field` in a log line, text (`field=value`) or JSON
/// (`"field":"value"`).
fn listening_field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let text = format!(" {field}=");
    let json = format!("\"{field}\":\"");
    if let Some(at) = line.find(&text) {
        let rest = &line[at + text.len()..];
        return rest.split_whitespace().next();
    }
    let at = line.find(&json)?;
    let rest = &line[at + json.len()..];
    rest.split('"').next()
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if std::env::var_os("CG_KEEP_LOG").is_some() {
            let _ = std::fs::copy(self.dir.path().join("gateway.log"), "/tmp/cg-gateway.log");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A real `redis-server` (installed by scripts/setup) on a free port of
/// 127.0.0.1, without persistence; killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

impl RedisServer {
    /// Starts a server and waits (at most 5 s) until it answers PING; on
    /// a port found taken, again on another (a few times at most).
    pub fn start() -> Self {
        let mut server = Self::stopped(free_port());
        for _ in 1..START_ATTEMPTS {
            match server.try_restart() {
                Ok(()) => return server,
                Err(_) => server.port = free_port(),
            }
        }
        server.restart();
        server
    }

    /// A server that will listen on `port` once [`Self::restart`]ed.
    pub fn stopped(port: u16) -> Self {
        Self {
            child: None,
            dir: tempfile::tempdir().expect("temp dir"),
            port,
        }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (a no-op when stopped).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again, empty) on its port and waits until it
    /// answers PING.
    pub fn restart(&mut self) {
        if let Err(error) = self.try_restart() {
            panic!("{error}");
        }
    }

    /// As [`Self::restart`]; an error when redis-server exits (its port is
    /// taken).
    fn try_restart(&mut self) -> Result<(), String> {
        self.stop();
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (installed by scripts/setup)");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.answers_ping() {
            if let Some(status) = child.try_wait().expect("poll redis-server") {
                return Err(format!(
                    "redis-server on port {} exited: {status}",
                    self.port
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server on port {} did not answer PING within 5 s",
                    self.port
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // A PONG from another server on a taken port: ours has exited.
        if let Some(status) = child.try_wait().expect("poll redis-server") {
            return Err(format!(
                "redis-server on port {} exited: {status}",
                self.port
            ));
        }
        self.child = Some(child);
        Ok(())
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0_u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Freezes (`-STOP`) or thaws (`-CONT`) the server process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} {pid}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The access key every test S3 upstream accepts.
pub const UPSTREAM_ACCESS_KEY: &str = "CGUPSTREAMKEY0000001";
/// Its secret.
pub const UPSTREAM_SECRET_KEY: &str = "upstream-secret-0000000000000000000000";

/// A real S3 server on a free port of 127.0.0.1 for the s3 backend to talk
/// to: `moto_server` (from the project's .venv) or `s3s-fs` (built into
/// .tools by scripts/setup; it verifies every signature). Killed on drop.
pub struct S3Upstream {
    child: Option<Child>,
    kind: &'static str,
    dir: tempfile::TempDir,
    /// Its port.
    pub port: u16,
    buckets: Vec<String>,
}

impl S3Upstream {
    /// Starts moto with `buckets` created.
    pub fn moto(buckets: &[&str]) -> Self {
        Self::start("moto", buckets)
    }

    /// Starts s3s-fs (signatures enforced) with `buckets` created.
    pub fn s3s_fs(buckets: &[&str]) -> Self {
        Self::start("s3s-fs", buckets)
    }

    fn start(kind: &'static str, buckets: &[&str]) -> Self {
        let mut upstream = Self {
            child: None,
            kind,
            dir: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
            buckets: buckets.iter().map(|b| (*b).to_owned()).collect(),
        };
        for _ in 1..START_ATTEMPTS {
            match upstream.try_restart() {
                Ok(()) => return upstream,
                Err(_) => upstream.port = free_port(),
            }
        }
        upstream.restart();
        upstream
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A `[backends.NAME]` table for this upstream.
    pub fn backend_toml(&self, name: &str) -> String {
        format!(
            "\n[backends.{name}]\nkind = \"s3\"\nendpoint = \"{}\"\naccess_key = \"{UPSTREAM_ACCESS_KEY}\"\nsecret_key = \"{UPSTREAM_SECRET_KEY}\"\nconnect_timeout_ms = 1000\nread_timeout_ms = 5000\n",
            self.endpoint()
        )
    }

    /// The running server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Kills the server (a no-op when stopped).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on its port. s3s-fs keeps its data across
    /// restarts; moto starts empty and gets its buckets again.
    pub fn restart(&mut self) {
        if let Err(error) = self.try_restart() {
            panic!("{error}");
        }
    }

    /// As [`Self::restart`]; an error when the server exits before it
    /// listens (its port is taken).
    fn try_restart(&mut self) -> Result<(), String> {
        self.stop();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut command = match self.kind {
            "moto" => {
                let python = std::env::var("CEDARGATE_TEST_PYTHON")
                    .map_or_else(|_| root.join(".venv/bin/python"), PathBuf::from);
                let mut command =
                    Command::new(python.parent().expect("venv bin").join("moto_server"));
                command.args(["-H", "127.0.0.1", "-p", &self.port.to_string()]);
                command
            }
            _ => {
                for bucket in &self.buckets {
                    std::fs::create_dir_all(self.dir.path().join(bucket)).expect("bucket dir");
                }
                let mut command = Command::new(root.join(".tools/bin/s3s-fs"));
                command
                    .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
                    .args(["--access-key", UPSTREAM_ACCESS_KEY])
                    .args(["--secret-key", UPSTREAM_SECRET_KEY])
                    .arg(self.dir.path());
                command
            }
        };
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (run scripts/setup): {e}", self.kind));
        let deadline = Instant::now() + Duration::from_secs(30);
        let exited = |child: &mut Child| {
            child
                .try_wait()
                .expect("poll the upstream")
                .map(|status| format!("{} on port {} exited: {status}", self.kind, self.port))
        };
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(error) = exited(&mut child) {
                return Err(error);
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen within 30 s",
                self.kind
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Another server on a taken port answered: ours has exited.
        if let Some(error) = exited(&mut child) {
            return Err(error);
        }
        self.child = Some(child);
        if self.kind == "moto" {
            for bucket in &self.buckets {
                let request = format!(
                    "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    self.port
                );
                // A cold moto may accept connections before it answers them:
                // ask again until it does (bounded by the same deadline).
                let mut answer = String::new();
                while !answer.starts_with("HTTP/1.1 200") {
                    assert!(Instant::now() < deadline, "moto CreateBucket: {answer:?}");
                    answer.clear();
                    if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port))
                        && stream.write_all(request.as_bytes()).is_ok()
                    {
                        let _ = stream.read_to_string(&mut answer);
                    }
                    if !answer.starts_with("HTTP/1.1 200") {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Drop for S3Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}
