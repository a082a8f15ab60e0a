//! The admin listener cannot be used to take the gateway down. An outsider
//! without the admin token floods it with stalled bodies and stalled header
//! sections: the gateway's memory stays flat, the admin listener holds no
//! more than its small connection cap (over it, a connection is answered at
//! once and closed) and the S3 listener keeps serving signed requests even
//! with a low open-file limit. A body is refused from the request head
//! alone (unknown path 404, no token 401, announced over the endpoint's cap
//! 413) without waiting for it, and a body or header section that stalls is
//! cut off at its deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Resource, Rlimit, getrlimit, prlimit, setrlimit};

use crate::config::signed_get_request;
use crate::utils::{
    ACCESS_KEY, ADMIN_TOKEN, DEFAULT_BUCKETS, SECRET_KEY, TESTER_POLICY, TestGateway,
};

/// Connections of each kind the floods open: well over the admin
/// listener's default cap (64), and together over the open-file limit the
/// flooded gateway is given.
const FLOOD: usize = 300;

/// The open-file limit of the flooded gateway: a small host's budget.
const FLOODED_NOFILE: u64 = 512;

/// How much of a candidate body each stalled POST sends: just under the
/// largest body the console reads.
const STALLED_BODY_BYTES: usize = 270 * 1024;

/// Most the gateway's resident memory may grow under the stalled-body flood.
const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;

/// The console endpoint taking the largest body.
const CANDIDATE: &str = "/console/api/candidate";

/// The console behind the admin token every test gateway's file holds.
const TOKEN_CONSOLE: &str = "\n[console]\nadmin_token_file = \"admin-token\"\n";

fn start(server_toml: &str) -> TestGateway {
    TestGateway::start_full(
        DEFAULT_BUCKETS,
        TOKEN_CONSOLE,
        server_toml,
        &[("tester.cedar", TESTER_POLICY)],
        None,
        &[],
    )
}

fn connect(address: SocketAddr) -> Option<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    Some(stream)
}

/// Reads what arrives on `stream` within `wait` (until the peer closes);
/// the text, and whether the peer closed.
fn read_for(stream: &mut TcpStream, wait: Duration) -> (String, bool) {
    let deadline = Instant::now() + wait;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return (String::from_utf8_lossy(&received).into_owned(), false);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (String::from_utf8_lossy(&received).into_owned(), false);
            }
            // A reset after the answer: what arrived is the answer.
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), true),
        }
    }
}

/// The status of an HTTP answer's text.
fn status(answer: &str) -> Option<u16> {
    answer.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// The gateway's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read VmRSS");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// A signed ListObjectsV2 on the S3 listener at `endpoint`; its status, or
/// `None` when nothing answers within 5 s.
fn signed_list(endpoint: &str) -> Option<u16> {
    let host = endpoint.trim_start_matches("http://");
    let request = signed_get_request(host, "/alpha?list-type=2", ACCESS_KEY, SECRET_KEY);
    let mut stream = connect(host.parse().ok()?)?;
    stream.write_all(request.as_bytes()).ok()?;
    let (answer, _) = read_for(&mut stream, Duration::from_secs(5));
    status(&answer)
}

/// Gives `pid` the open-file limit `limit` (soft and hard).
fn limit_open_files(pid: u32, limit: u64) {
    let pid = Pid::from_raw(i32::try_from(pid).expect("pid")).expect("a live pid");
    let low = Rlimit {
        current: Some(limit),
        maximum: Some(limit),
    };
    prlimit(Some(pid), Resource::Nofile, low).expect("lower the gateway's open-file limit");
}

/// Lets this test process hold its own side of the floods.
fn raise_own_open_files() {
    let now = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: now.maximum,
        maximum: now.maximum,
    };
    let _ = setrlimit(Resource::Nofile, raised);
}

#[test]
fn a_flooded_admin_port_takes_neither_memory_nor_the_s3_listener() {
    raise_own_open_files();
    let gateway = start("");
    let pid = gateway.pid();
    limit_open_files(pid, FLOODED_NOFILE);
    assert_eq!(
        signed_list(&gateway.endpoint),
        Some(200),
        "before the flood"
    );
    let flood_deadline = Instant::now() + Duration::from_secs(120);

    // Stalled bodies: the head and all but the last bytes of a candidate.
    let rss_before = rss_kib(pid);
    let head = format!(
        "POST {CANDIDATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        STALLED_BODY_BYTES + 1024
    );
    let body = vec![b' '; STALLED_BODY_BYTES];
    let mut held = Vec::with_capacity(2 * FLOOD);
    for _ in 0..FLOOD {
        if Instant::now() > flood_deadline {
            break;
        }
        let Some(mut stream) = connect(gateway.admin) else {
            continue;
        };
        // A refused body may be cut off while it is written: that is the point.
        let _ = stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&body));
        held.push(stream);
    }
    std::thread::sleep(Duration::from_millis(500));
    let growth = rss_kib(pid).saturating_sub(rss_before);
    assert!(
        growth < MAX_RSS_GROWTH_KIB,
        "{} stalled unauthenticated bodies grew the gateway by {growth} KiB",
        held.len()
    );

    // Stalled header sections, on top.
    for _ in 0..FLOOD {
        if Instant::now() > flood_deadline {
            break;
        }
        if let Some(mut stream) = connect(gateway.admin) {
            let _ =
                stream.write_all(b"POST /console/api/candidate HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            held.push(stream);
        }
    }
    // Signed S3 requests keep succeeding while every flood connection is held.
    for round in 0..5 {
        assert_eq!(
            signed_list(&gateway.endpoint),
            Some(200),
            "S3 request {round} during the admin flood; log:\n{}",
            gateway.log_tail(20)
        );
    }
    drop(held);
    // And the admin listener serves again once the flood is gone.
    let deadline = Instant::now() + Duration::from_secs(15);
    while gateway
        .admin_get("/healthz")
        .is_none_or(|body| !body.contains("ok"))
    {
        assert!(
            Instant::now() < deadline,
            "the admin listener did not recover"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_body_is_refused_from_the_request_head_without_waiting_for_it() {
    let gateway = start("");
    let bearer = format!("Authorization: Bearer {ADMIN_TOKEN}\r\n");
    // (method, path, extra headers, announced length, expected status)
    let cases: &[(&str, &str, &str, usize, u16)] = &[
        ("POST", CANDIDATE, "", 200_000, 401),
        ("POST", "/console/api/decide", "", 60_000, 401),
        ("POST", "/quotas", "", 1_000, 401),
        ("POST", "/quotas", &bearer, 1_000, 405),
        ("GET", "/quotas", "", 1_000, 401),
        (
            "POST",
            "/console/api/no-such-endpoint",
            &bearer,
            200_000,
            404,
        ),
        ("POST", "/no-such-path", "", 200_000, 404),
        ("PUT", CANDIDATE, &bearer, 200_000, 405),
        ("POST", CANDIDATE, &bearer, 10_000_000, 413),
        ("POST", "/console/api/decide", &bearer, 100_000, 413),
        (
            "POST",
            "/console/login",
            "X-Cedargate-Console: 1\r\n",
            100_000,
            413,
        ),
        (
            "POST",
            "/console/login",
            "Origin: http://evil.test\r\n",
            100,
            403,
        ),
        ("GET", "/console/api/status", &bearer, 100, 413),
        ("GET", "/metrics", "", 100, 413),
    ];
    for (method, path, headers, length, expected) in cases {
        let mut stream = connect(gateway.admin).expect("connect to the admin listener");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}Content-Length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("send the head");
        let sent = Instant::now();
        // No body byte is ever sent: an answer must not wait for one.
        let (answer, closed) = read_for(&mut stream, Duration::from_secs(3));
        let took = sent.elapsed();
        assert_eq!(
            status(&answer),
            Some(*expected),
            "{method} {path} announcing {length} bytes: {answer:?}"
        );
        assert!(
            took < Duration::from_secs(2),
            "{method} {path}: answered after {took:?}"
        );
        assert!(
            closed,
            "{method} {path}: the connection with an unread body is closed"
        );
    }
}

#[test]
fn every_endpoint_the_head_check_knows_is_served() {
    let gateway = start("");
    let bearer = format!("Authorization: Bearer {ADMIN_TOKEN}");
    for endpoint in cedargate::console::ENDPOINTS {
        let methods = [("GET", endpoint.get), ("POST", endpoint.post.is_some())];
        for (method, answered) in methods {
            let (status, body) = gateway
                .admin_request(method, endpoint.path, &[&bearer])
                .expect("the admin listener answers");
            assert_eq!(
                !matches!(status, 404 | 405),
                answered,
                "{method} {}: {status} {body}",
                endpoint.path
            );
        }
    }
}

#[test]
fn a_stalled_body_or_header_section_is_cut_off_at_its_deadline() {
    let gateway = start("admin_body_timeout_seconds = 2\nadmin_header_timeout_seconds = 2\n");
    let stalls = [
        format!(
            "POST {CANDIDATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\":"
        ),
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_owned(),
    ];
    for stall in stalls {
        let mut stream = connect(gateway.admin).expect("connect to the admin listener");
        stream.write_all(stall.as_bytes()).expect("send the start");
        let sent = Instant::now();
        let (answer, closed) = read_for(&mut stream, Duration::from_secs(8));
        let took = sent.elapsed();
        assert_eq!(status(&answer), Some(408), "{stall:?}: {answer:?}");
        assert!(closed, "{stall:?}: the connection is closed");
        assert!(
            took >= Duration::from_millis(1500) && took < Duration::from_secs(6),
            "{stall:?}: cut off after {took:?}"
        );
    }
    // A complete request in time is served.
    assert_eq!(gateway.admin_get("/healthz").as_deref(), Some("ok\n"));
}

#[test]
fn over_the_cap_a_connection_is_answered_at_once() {
    let gateway = start("admin_max_connections = 4\nadmin_header_timeout_seconds = 30\n");
    // Connections holding a header section open are added one at a time,
    // each given time to be accepted and counted, until one is refused.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..12 {
        let mut stream = connect(gateway.admin).expect("connect to the admin listener");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .expect("start a header section");
        let connected = Instant::now();
        let (answer, closed) = read_for(&mut stream, Duration::from_millis(500));
        if !answer.is_empty() {
            refused = Some((answer, closed, connected.elapsed()));
            break;
        }
        held.push(stream);
    }
    assert!(
        (4..=5).contains(&held.len()),
        "{} connections held under a cap of 4",
        held.len()
    );
    let (answer, closed, took) = refused.expect("an over-cap connection gets an answer");
    assert_eq!(status(&answer), Some(503), "{answer:?}");
    assert!(answer.contains("Retry-After: 1"), "{answer:?}");
    assert!(closed, "the over-cap connection is closed");
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    // The S3 listener does not share the admin listener's cap.
    assert_eq!(signed_list(&gateway.endpoint), Some(200));
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    while gateway
        .admin_get("/healthz")
        .is_none_or(|body| body != "ok\n")
    {
        assert!(Instant::now() < deadline, "the cap is released");
        std::thread::sleep(Duration::from_millis(100));
    }
}
