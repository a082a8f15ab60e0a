//! PUTs framed with HTTP/1.1 `Transfer-Encoding: chunked` and no length,
//! written byte by byte on a raw socket: stored on the fs backend and read
//! back whole, with an unsigned and with a signed payload hash.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime};

use cedargate_s3::sigv4::Secret;
use cedargate_s3::sigv4::sign::{Identity, Unsigned, sign_headers};
use http::{HeaderMap, HeaderValue, Method};
use sha2::{Digest, Sha256};

use crate::utils::{ACCESS_KEY, SECRET_KEY, TestGateway};

/// Sends `method path` signed with `payload_hash`, its body as the given
/// HTTP/1.1 chunks (none: no body); answers the status and the body.
fn send(
    gateway: &TestGateway,
    method: &Method,
    path: &str,
    payload_hash: &str,
    chunks: Option<&[&[u8]]>,
) -> (u16, Vec<u8>) {
    let host = gateway.endpoint.trim_start_matches("http://").to_owned();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_str(&host).expect("host"));
    let secret = Secret::new(SECRET_KEY.to_owned());
    let identity = Identity {
        access_key: ACCESS_KEY,
        secret: &secret,
        session_token: None,
        region: "us-east-1",
    };
    let unsigned = Unsigned {
        method,
        raw_path: path,
        raw_query: "",
        headers: &headers,
    };
    let signed = sign_headers(&unsigned, &identity, payload_hash, SystemTime::now()).expect("sign");
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n");
    for (name, value) in signed {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut stream = TcpStream::connect(&host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    match chunks {
        Some(chunks) => {
            head.push_str("transfer-encoding: chunked\r\n\r\n");
            stream.write_all(head.as_bytes()).expect("head");
            for chunk in chunks {
                stream
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .expect("size");
                stream.write_all(chunk).expect("chunk");
                stream.write_all(b"\r\n").expect("end of chunk");
            }
            stream.write_all(b"0\r\n\r\n").expect("last chunk");
        }
        None => {
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).expect("head");
        }
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let status = std::str::from_utf8(&answer[9..12])
        .expect("status")
        .parse()
        .expect("status code");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    let mut body = answer[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

/// The payload of a chunked answer.
fn dechunk(mut wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = wire.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&wire[..end]).expect("size"), 16)
            .expect("hex size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&wire[end + 2..end + 2 + size]);
        wire = &wire[end + 4 + size..];
    }
    out
}

#[test]
fn chunked_puts_without_a_length_are_stored_whole() {
    let gateway = TestGateway::start("");
    let big = vec![b'x'; 200_000];
    let chunks: [&[u8]; 4] = [b"first, ", b"second, ", &big, b"end"];
    let body = chunks.concat();
    let signed = hex::encode(Sha256::digest(&body));
    for (key, payload_hash) in [("te-unsigned", "UNSIGNED-PAYLOAD"), ("te-signed", &signed)] {
        let path = format!("/alpha/{key}");
        let (status, answer) = send(&gateway, &Method::PUT, &path, payload_hash, Some(&chunks));
        assert_eq!(status, 200, "{key}: {}", String::from_utf8_lossy(&answer));
        let (status, got) = send(&gateway, &Method::GET, &path, "UNSIGNED-PAYLOAD", None);
        assert_eq!(status, 200, "{key}");
        assert_eq!(got.len(), body.len(), "{key}");
        assert!(got == body, "{key}: the stored object is the body sent");
    }

    let wrong = hex::encode(Sha256::digest(b"something else"));
    let path = "/alpha/te-mismatch";
    let (status, answer) = send(&gateway, &Method::PUT, path, &wrong, Some(&chunks));
    assert_eq!(status, 400);
    assert!(
        String::from_utf8_lossy(&answer).contains("XAmzContentSHA256Mismatch"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let (status, _) = send(&gateway, &Method::GET, path, "UNSIGNED-PAYLOAD", None);
    assert_eq!(status, 404, "a body failing its hash stores nothing");
}
