//! A fake upstream's view of requests, shared by the wire-level tests.

#![allow(dead_code, reason = "each test binary uses part of it")]
#![allow(missing_docs, reason = "test support")]

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// One request as the fake upstream saw it.
#[derive(Debug)]
pub struct Seen {
    pub head: String,
    pub body: Vec<u8>,
    /// Whether the body reached its Content-Length (else the client hung up).
    pub complete: bool,
}

/// Reads one request (head and Content-Length body); `None` at EOF.
pub async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = Vec::new();
    let mut buf = [0u8; 8192];
    while body.len() < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    let complete = body.len() == length;
    Some(Seen {
        head,
        body,
        complete,
    })
}
