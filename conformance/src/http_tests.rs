//! Tests of the HTTP client against scripted servers on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::*;

#[test]
fn endpoint_parsing() {
    let e = Endpoint::parse("http://127.0.0.1:9000", None).unwrap();
    assert_eq!(e.authority, "127.0.0.1:9000");
    assert_eq!(e.base_url(), "http://127.0.0.1:9000");
    let e = Endpoint::parse("http://localhost:80/", None).unwrap();
    assert_eq!(e.authority, "localhost");
    assert!(Endpoint::parse("ftp://x", None).is_err());
    assert!(Endpoint::parse("http://x/prefix", None).is_err());
}

/// Serves one connection: reads the request head, then writes `answer`.
fn scripted(answer: &'static [u8]) -> Endpoint {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(answer);
        }
    });
    Endpoint::parse(&url, None).unwrap()
}

fn get(endpoint: &Endpoint, head: bool) -> Result<Response, HttpError> {
    let method = if head { "HEAD" } else { "GET" };
    let request = format!("{method} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    exchange(endpoint, request.as_bytes(), head, Duration::from_secs(5))
}

#[test]
fn reads_content_length_bodies_and_headers() {
    let e = scripted(
        b"HTTP/1.1 404 Not Found\r\nX-Amz-Request-Id: abc\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
    );
    let r = get(&e, false).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-amz-request-id"), Some("abc"));
    assert_eq!(r.body, b"hello");
}

#[test]
fn decodes_chunked_bodies() {
    let e = scripted(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n");
    assert_eq!(get(&e, false).unwrap().body, b"hello world");
}

#[test]
fn skips_interim_responses_and_reads_to_eof_without_framing() {
    let e = scripted(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\n\r\nall of it");
    let r = get(&e, false).unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(r.body, b"all of it");
}

#[test]
fn sees_a_body_sent_after_a_head_answer() {
    let e = scripted(b"HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n<Error>leak</Error>\n");
    let r = get(&e, true).unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(r.body, b"<Error>leak</Error>\n");
    let e = scripted(b"HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n");
    assert!(get(&e, true).unwrap().body.is_empty());
}

#[test]
fn garbage_and_truncation_are_errors() {
    let e = scripted(b"SSH-2.0-OpenSSH\r\n\r\n");
    assert!(matches!(get(&e, false), Err(HttpError::Malformed(_))));
    let e = scripted(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    assert!(matches!(get(&e, false), Err(HttpError::Malformed(_))));
}

#[test]
fn refused_connections_are_connect_errors() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let e = Endpoint::parse(&closed, None).unwrap();
    assert!(matches!(get(&e, false), Err(HttpError::Connect(..))));
}
