//! The operator console attacked from a browser and over the wire: a page
//! on a rebinding DNS name reading a token-less console, a brute force of
//! the admin token, a login cookie replayed after logout or expiry, and
//! cross-site POSTs riding on the login cookie.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::utils::{ADMIN_TOKEN, TestGateway};

/// A token-less console that also answers to one configured name.
const OPEN_CONSOLE: &str = "
[console]
allowed_hosts = [\"console.example.test\"]
";

/// A console behind the admin token, its sessions lasting two seconds.
const TOKEN_CONSOLE: &str = "
[console]
admin_token_file = \"admin-token\"
session_seconds = 2
";

const CANDIDATE: &str = r#"{"text":"permit (principal, action, resource);"}"#;

/// One answer: status, head (lowercase) and body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// The value of the `name` header (lowercase name), if any.
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim())
        })
    }

    /// The `name=value` of the login cookie it sets.
    fn cookie(&self) -> String {
        let set = self
            .header("set-cookie")
            .unwrap_or_else(|| panic!("no Set-Cookie: {}{}", self.head, self.body));
        set.split(';').next().expect("cookie pair").to_owned()
    }
}

/// Sends one request to the admin listener of `gateway` with `Host: host`
/// and the extra header lines.
fn send(
    gateway: &TestGateway,
    method: &str,
    path: &str,
    host: &str,
    headers: &[&str],
    body: &str,
) -> Answer {
    let mut stream =
        TcpStream::connect_timeout(&gateway.admin, Duration::from_secs(2)).expect("admin listener");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    Answer {
        status: head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status"),
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

/// `127.0.0.1:PORT` and `http://127.0.0.1:PORT` of the admin listener.
fn own(gateway: &TestGateway) -> (String, String) {
    let host = gateway.admin.to_string();
    let origin = format!("http://{host}");
    (host, origin)
}

/// Logs in from the console's own origin; the cookie pair.
fn log_in(gateway: &TestGateway, max_age: u64) -> String {
    let (host, origin) = own(gateway);
    let answer = send(
        gateway,
        "POST",
        "/console/login",
        &host,
        &[
            &format!("Origin: {origin}"),
            "Content-Type: application/x-www-form-urlencoded",
        ],
        &format!("token={ADMIN_TOKEN}"),
    );
    assert_eq!(answer.status, 303, "login: {}", answer.body);
    let set = answer.header("set-cookie").expect("set-cookie").to_owned();
    let max_age = format!("max-age={max_age}");
    for attribute in ["httponly", "samesite=strict", "path=/", &max_age] {
        assert!(set.contains(attribute), "{set}");
    }
    answer.cookie()
}

fn status_with_cookie(gateway: &TestGateway, cookie: &str) -> u16 {
    let (host, _) = own(gateway);
    let cookie = format!("Cookie: {cookie}");
    send(gateway, "GET", "/console/api/status", &host, &[&cookie], "").status
}

#[test]
fn a_rebinding_host_is_refused_on_a_token_less_console() {
    let gateway = TestGateway::start(OPEN_CONSOLE);
    let port = gateway.admin.port();
    let reads = [
        "/console",
        "/console/api/status",
        "/console/api/decisions",
        "/quotas",
    ];
    for host in [
        format!("rebind.evil.test:{port}"),
        "rebind.evil.test".to_owned(),
        format!("localhost.evil.test:{port}"),
        format!("console.example.test.evil.test:{port}"),
    ] {
        for path in reads {
            let answer = send(&gateway, "GET", path, &host, &[], "");
            assert_eq!(
                answer.status, 421,
                "GET {path} with Host {host}: {}",
                answer.body
            );
            assert!(!answer.body.contains("\"decisions\""), "{}", answer.body);
        }
        // The page on the rebinding name is same-origin with itself.
        let origin = format!("Origin: http://{host}");
        let answer = send(
            &gateway,
            "POST",
            "/console/api/candidate",
            &host,
            &[&origin, "Content-Type: application/json"],
            CANDIDATE,
        );
        assert_eq!(answer.status, 421, "candidate via {host}: {}", answer.body);
        let probe = send(&gateway, "GET", "/healthz", &host, &[], "");
        assert_eq!(probe.status, 200, "probes stay open to any Host");
    }
    for host in [
        format!("localhost:{port}"),
        "localhost".to_owned(),
        format!("127.0.0.1:{port}"),
        format!("127.0.0.2:{port}"),
        format!("[::1]:{port}"),
        "console.example.test".to_owned(),
        format!("console.example.test:{port}"),
    ] {
        for path in reads {
            let answer = send(&gateway, "GET", path, &host, &[], "");
            assert_eq!(
                answer.status, 200,
                "GET {path} with Host {host}: {}",
                answer.body
            );
        }
        let origin = format!("Origin: http://{host}");
        let answer = send(
            &gateway,
            "POST",
            "/console/api/candidate",
            &host,
            &[&origin, "Content-Type: application/json"],
            CANDIDATE,
        );
        assert_eq!(answer.status, 200, "candidate via {host}: {}", answer.body);
    }
    let other_port = format!("localhost:{}", port.wrapping_add(1));
    let answer = send(&gateway, "GET", "/console/api/status", &other_port, &[], "");
    assert_eq!(answer.status, 421, "a loopback name with another port");
}

#[test]
fn wrong_logins_are_slowed_per_source_and_logged_in_aggregate() {
    let gateway = TestGateway::start(TOKEN_CONSOLE);
    let (host, origin) = own(&gateway);
    let origin = format!("Origin: {origin}");
    let form = "Content-Type: application/x-www-form-urlencoded";
    let started = Instant::now();
    let mut refused = 0;
    let mut slowed = 0;
    let mut retry_after = None;
    for attempt in 0..50 {
        let body = format!("token=wrong-guess-{attempt:04}");
        let answer = send(
            &gateway,
            "POST",
            "/console/login",
            &host,
            &[&origin, form],
            &body,
        );
        match answer.status {
            401 => refused += 1,
            429 => {
                slowed += 1;
                retry_after = answer.header("retry-after").map(str::to_owned);
            }
            other => panic!("attempt {attempt}: {other} {}", answer.body),
        }
    }
    let elapsed = started.elapsed();
    assert!(slowed > 0, "50 wrong tokens in {elapsed:?}: none slowed");
    let retry_after: u64 = retry_after
        .expect("a 429 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // The waits double: in the time taken, only a few tokens were tested.
    let tested_bound = 4 + 2 + elapsed.as_secs_f64().log2().max(0.0).ceil() as usize;
    assert!(
        refused <= tested_bound,
        "{refused} tokens tested in {elapsed:?} (bound {tested_bound})"
    );
    // A right token is not tested while the source waits either.
    let answer = send(
        &gateway,
        "POST",
        "/console/login",
        &host,
        &[&origin, form],
        &format!("token={ADMIN_TOKEN}"),
    );
    assert_eq!(answer.status, 429, "{}", answer.body);

    let log = gateway.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("admin token"))
        .collect();
    assert!(
        lines.len() <= refused.saturating_sub(2),
        "one line per wait, not per attempt: {} lines\n{}",
        lines.len(),
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|line| line.contains("WARN")
            && line.contains("failures=")
            && line.contains("127.0.0.1")),
        "an aggregate line names the source and counts:\n{}",
        lines.join("\n")
    );
    assert!(
        !log.contains("wrong-guess"),
        "presented tokens are never logged"
    );
}

#[test]
fn wrong_bearer_tokens_are_slowed_like_wrong_logins() {
    let gateway = TestGateway::start(TOKEN_CONSOLE);
    let (host, _) = own(&gateway);
    let mut tested = 0;
    let mut slowed = 0;
    for attempt in 0..30 {
        let bearer = format!("Authorization: Bearer wrong-guess-{attempt:04}");
        let path = if attempt % 2 == 0 {
            "/console/api/status"
        } else {
            "/quotas"
        };
        let answer = send(&gateway, "GET", path, &host, &[&bearer], "");
        match answer.status {
            401 => tested += 1,
            429 => {
                slowed += 1;
                assert!(answer.header("retry-after").is_some(), "{}", answer.head);
            }
            other => panic!("{path}: {other} {}", answer.body),
        }
    }
    assert!(
        slowed > 0 && tested < 10,
        "{tested} tested, {slowed} slowed"
    );
    assert!(
        !gateway.log().contains("wrong-guess"),
        "presented tokens are never logged"
    );
}

#[test]
fn wrong_bearer_tokens_on_requests_with_a_body_are_slowed_too() {
    // A request with a body is judged from its head before the body is
    // read: that judgement must count wrong tokens like every other.
    let gateway = TestGateway::start(TOKEN_CONSOLE);
    let (host, _) = own(&gateway);
    let (mut tested, mut slowed) = (0, 0);
    for attempt in 0..20 {
        let bearer = format!("Authorization: Bearer wrong-guess-{attempt:04}");
        let json = "Content-Type: application/json";
        let answer = send(
            &gateway,
            "POST",
            "/console/api/candidate",
            &host,
            &[&bearer, json],
            r#"{"files": {}}"#,
        );
        match answer.status {
            401 => tested += 1,
            429 => slowed += 1,
            other => panic!("{other} {}", answer.body),
        }
    }
    assert!(
        slowed > 0 && tested < 10,
        "{tested} tested, {slowed} slowed"
    );
}

#[test]
fn a_session_cookie_ends_at_logout_and_at_expiry_and_each_login_gets_its_own() {
    let gateway = TestGateway::start(TOKEN_CONSOLE);
    let (host, origin) = own(&gateway);
    let first = log_in(&gateway, 2);
    let second = log_in(&gateway, 2);
    assert_ne!(first, second, "each login draws its own cookie");
    assert!(!first.contains(ADMIN_TOKEN));
    assert_eq!(status_with_cookie(&gateway, &first), 200);
    assert_eq!(status_with_cookie(&gateway, &second), 200);

    let answer = send(
        &gateway,
        "POST",
        "/console/logout",
        &host,
        &[&format!("Origin: {origin}"), &format!("Cookie: {first}")],
        "",
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(
        status_with_cookie(&gateway, &first),
        401,
        "the cookie replayed after logout"
    );
    assert_eq!(
        status_with_cookie(&gateway, &second),
        200,
        "other sessions live on"
    );

    // The session lasts `session_seconds` (2): refused well within 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_with_cookie(&gateway, &second) != 401 {
        assert!(
            Instant::now() < deadline,
            "the cookie replayed after `session_seconds`"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn cross_site_posts_riding_on_the_cookie_are_refused_and_same_origin_ones_work() {
    let gateway = TestGateway::start(&TOKEN_CONSOLE.replace("= 2", "= 600"));
    let (host, origin) = own(&gateway);
    let cookie_pair = log_in(&gateway, 600);
    let cookie = format!("Cookie: {cookie_pair}");
    let json = "Content-Type: application/json";
    let bearer = format!("Authorization: Bearer {ADMIN_TOKEN}");
    let same = format!("Origin: {origin}");
    let other_port = format!(
        "Origin: http://127.0.0.1:{}",
        gateway.admin.port().wrapping_add(1)
    );
    let refused: [&[&str]; 6] = [
        &[&cookie, json, "Origin: http://evil.test"],
        &[&cookie, json, &other_port],
        &[&cookie, json, "Origin: null"],
        &[&cookie, json, "Sec-Fetch-Site: cross-site"],
        &[&cookie, json, "Sec-Fetch-Site: same-site"],
        &[&cookie, json],
    ];
    for headers in refused {
        for path in [
            "/console/api/candidate",
            "/console/api/decide",
            "/console/logout",
        ] {
            let answer = send(&gateway, "POST", path, &host, headers, CANDIDATE);
            assert_eq!(answer.status, 403, "{path} {headers:?}: {}", answer.body);
            assert!(
                answer.body.contains("cross_site_request"),
                "{}",
                answer.body
            );
        }
    }
    assert_eq!(
        status_with_cookie(&gateway, &cookie_pair),
        200,
        "a refused cross-site logout leaves the session"
    );
    let login = format!("token={ADMIN_TOKEN}");
    let answer = send(
        &gateway,
        "POST",
        "/console/login",
        &host,
        &[
            "Origin: http://evil.test",
            "Content-Type: application/x-www-form-urlencoded",
        ],
        &login,
    );
    assert_eq!(answer.status, 403, "a cross-site login: {}", answer.body);

    let allowed: [&[&str]; 4] = [
        &[&cookie, json, &same],
        &[&cookie, json, "Sec-Fetch-Site: same-origin"],
        &[&cookie, json, "X-Cedargate-Console: 1"],
        &[&bearer, json],
    ];
    for headers in allowed {
        let answer = send(
            &gateway,
            "POST",
            "/console/api/candidate",
            &host,
            headers,
            CANDIDATE,
        );
        assert_eq!(answer.status, 200, "{headers:?}: {}", answer.body);
    }
    let answer = send(
        &gateway,
        "POST",
        "/console/logout",
        &host,
        &[&cookie, &same],
        "",
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(status_with_cookie(&gateway, &cookie_pair), 401);
}

#[test]
fn the_login_and_logout_forms_tell_nothing_of_a_bearer_token() {
    // The forms' same-origin check must not treat a bearer token as proof
    // of origin: that would answer "right token" apart from "wrong token"
    // without counting a single guess.
    let gateway = TestGateway::start(TOKEN_CONSOLE);
    let (host, _) = own(&gateway);
    let right = format!("Authorization: Bearer {ADMIN_TOKEN}");
    for path in ["/console/login", "/console/logout"] {
        for bearer in ["Authorization: Bearer wrong-guess", right.as_str()] {
            let answer = send(&gateway, "POST", path, &host, &[bearer], "");
            assert_eq!(answer.status, 403, "{path} {bearer}: {}", answer.body);
            assert!(
                answer.body.contains("cross_site_request"),
                "{}",
                answer.body
            );
        }
    }
}

#[test]
fn one_request_cannot_try_several_bearer_tokens() {
    let gateway = TestGateway::start(TOKEN_CONSOLE);
    let (host, _) = own(&gateway);
    let right = format!("Authorization: Bearer {ADMIN_TOKEN}");
    let guesses: Vec<String> = (0..20)
        .map(|n| format!("Authorization: Bearer wrong-guess-{n:02}"))
        .chain([right.clone()])
        .collect();
    let guesses: Vec<&str> = guesses.iter().map(String::as_str).collect();
    for path in ["/console/api/status", "/quotas"] {
        let answer = send(&gateway, "GET", path, &host, &guesses, "");
        assert_eq!(answer.status, 401, "{path}: {}", answer.body);
    }
    // Each such request counts as a wrong token: the source soon waits.
    let mut slowed = false;
    for _ in 0..10 {
        let answer = send(&gateway, "GET", "/quotas", &host, &guesses, "");
        assert!(matches!(answer.status, 401 | 429), "{}", answer.status);
        slowed |= answer.status == 429;
    }
    assert!(
        slowed,
        "ten requests of twenty-one guesses each were never slowed"
    );
    // The lowercase scheme name is a bearer token too (and counted alike).
    let lower = format!("authorization: bearer {ADMIN_TOKEN}");
    let answer = send(&gateway, "GET", "/quotas", &host, &[&lower], "");
    assert_eq!(
        answer.status, 429,
        "the source still waits: {}",
        answer.body
    );
}
