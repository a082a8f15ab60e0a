//! Where a console request says it goes and comes from: the `Host` it
//! names (checked against loopback names and `console.allowed_hosts`, so a
//! page on a rebinding DNS name cannot read the console) and, for requests
//! that change something, whether it is same-origin (`Origin`,
//! `Sec-Fetch-Site`, or the `X-Cedargate-Console` header a cross-site page
//! cannot send without a preflight the console never grants).

use std::net::{IpAddr, SocketAddr};

use crate::config::host::{HostName, Name};

/// The header the console's script sends on every call it makes.
pub const CONSOLE_HEADER: &str = "x-cedargate-console";

/// The `Host` names the console answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// The admin listener's port (0: any, when it was configured as 0).
    port: u16,
    /// The admin listener's address, when it is a specific one.
    listen_ip: Option<IpAddr>,
    /// `console.allowed_hosts`.
    extra: Vec<HostName>,
}

impl AllowedHosts {
    /// Loopback names with the listener's port (or none), the listener's
    /// own address, and `extra` (entries that fail to parse are skipped:
    /// config validation refuses them first).
    pub fn new(listen: SocketAddr, extra: &[String]) -> Self {
        let ip = listen.ip();
        Self {
            port: listen.port(),
            listen_ip: (!ip.is_unspecified()).then_some(ip),
            extra: extra.iter().filter_map(|h| HostName::parse(h)).collect(),
        }
    }

    /// Whether `host` is one of them.
    pub fn allows(&self, host: &HostName) -> bool {
        let listener_port = host.port.is_none_or(|p| self.port == 0 || p == self.port);
        let own = host.is_loopback() || self.listen_ip.is_some_and(|ip| host.name == Name::Ip(ip));
        (own && listener_port)
            || self.extra.iter().any(|allowed| {
                allowed.name == host.name
                    && match allowed.port {
                        Some(port) => host.port == Some(port),
                        None => listener_port,
                    }
            })
    }

    /// Whether `headers` name exactly one `Host` and it is allowed.
    pub fn allows_headers(&self, headers: &http::HeaderMap) -> bool {
        request_host(headers).is_some_and(|host| self.allows(&host))
    }
}

/// The request's only `Host`, parsed.
fn request_host(headers: &http::HeaderMap) -> Option<HostName> {
    let mut values = headers.get_all(http::header::HOST).iter();
    let host = values.next()?;
    if values.next().is_some() {
        return None;
    }
    HostName::parse(host.to_str().ok()?)
}

/// Whether `origin` (`scheme://host[:port]`) is the origin of `host`.
fn origin_matches(origin: &str, host: &HostName) -> bool {
    let (default_port, authority) = if let Some(rest) = origin.strip_prefix("http://") {
        (80, rest)
    } else if let Some(rest) = origin.strip_prefix("https://") {
        (443, rest)
    } else {
        return false;
    };
    HostName::parse(authority).is_some_and(|origin| {
        origin.name == host.name && origin.port_or(default_port) == host.port_or(default_port)
    })
}

/// Whether a request that changes something comes from the console's own
/// origin: its `Origin` names the `Host` it was sent to; without
/// `Origin` (or with `Origin: null`), `Sec-Fetch-Site` is `same-origin` or
/// `none`; without either,
/// it carries `X-Cedargate-Console: 1`. A cross-site form or `fetch`
/// cannot pass: browsers send `Origin` (or `Sec-Fetch-Site: cross-site`)
/// and cannot add the custom header without a CORS preflight.
pub fn same_origin(headers: &http::HeaderMap) -> bool {
    let origins: Vec<&http::HeaderValue> = headers.get_all(http::header::ORIGIN).iter().collect();
    match origins.as_slice() {
        [] => {}
        // Sent under `Referrer-Policy: no-referrer` (the console's) and by
        // sandboxed frames: it names no origin, the next headers decide.
        [origin] if origin.as_bytes() == b"null" => {}
        [origin] => {
            return request_host(headers).is_some_and(|host| {
                origin
                    .to_str()
                    .is_ok_and(|origin| origin_matches(origin.trim(), &host))
            });
        }
        _ => return false,
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    headers
        .get(CONSOLE_HEADER)
        .is_some_and(|value| value.as_bytes() == b"1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn loopback_names_the_listener_port_and_configured_names_are_allowed() {
        let hosts = AllowedHosts::new(
            SocketAddr::from(([127, 0, 0, 1], 9001)),
            &[
                "console.example.test".into(),
                "proxy.example.test:8443".into(),
            ],
        );
        let table = [
            ("localhost", true),
            ("localhost:9001", true),
            ("LOCALHOST.:9001", true),
            ("127.0.0.1:9001", true),
            ("127.8.9.10", true),
            ("[::1]:9001", true),
            ("[::1]", true),
            ("console.example.test", true),
            ("console.example.test:9001", true),
            ("proxy.example.test:8443", true),
            ("localhost:9002", false),
            ("127.0.0.1:80", false),
            ("console.example.test:80", false),
            ("proxy.example.test", false),
            ("rebind.evil.test:9001", false),
            ("rebind.evil.test", false),
            ("localhost.evil.test", false),
            ("10.0.0.1:9001", false),
            ("[::2]:9001", false),
            ("", false),
            ("a b", false),
            ("localhost:x", false),
            ("localhost:", false),
            ("[::1", false),
        ];
        for (host, allowed) in table {
            let ok = HostName::parse(host).is_some_and(|h| hosts.allows(&h));
            assert_eq!(ok, allowed, "{host}");
        }
        assert!(!hosts.allows_headers(&headers(&[])));
        assert!(!hosts.allows_headers(&headers(&[("host", "localhost"), ("host", "localhost")])));
        let public = AllowedHosts::new(SocketAddr::from(([10, 0, 0, 1], 9001)), &[]);
        assert!(public.allows(&HostName::parse("10.0.0.1:9001").unwrap()));
        assert!(!public.allows(&HostName::parse("10.0.0.2:9001").unwrap()));
    }

    #[test]
    fn only_same_origin_requests_pass() {
        let table: &[(&[(&'static str, &str)], bool)] = &[
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("origin", "http://127.0.0.1:9001"),
                ],
                true,
            ),
            (
                &[("host", "localhost"), ("origin", "http://localhost:80")],
                true,
            ),
            (&[("host", "c.test"), ("origin", "https://c.test")], true),
            (
                &[("host", "127.0.0.1:9001"), ("origin", "http://evil.test")],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("origin", "http://127.0.0.1:9002"),
                ],
                false,
            ),
            (&[("host", "127.0.0.1:9001"), ("origin", "null")], false),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("origin", "null"),
                    ("sec-fetch-site", "same-origin"),
                ],
                true,
            ),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("origin", "null"),
                    ("sec-fetch-site", "cross-site"),
                ],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("origin", "x"),
                    ("origin", "http://127.0.0.1:9001"),
                ],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("origin", "http://evil.test"),
                    (CONSOLE_HEADER, "1"),
                ],
                false,
            ),
            (
                &[
                    ("host", "127.0.0.1:9001"),
                    ("sec-fetch-site", "same-origin"),
                ],
                true,
            ),
            (
                &[("host", "127.0.0.1:9001"), ("sec-fetch-site", "none")],
                true,
            ),
            (
                &[("host", "127.0.0.1:9001"), ("sec-fetch-site", "same-site")],
                false,
            ),
            (
                &[("host", "127.0.0.1:9001"), ("sec-fetch-site", "cross-site")],
                false,
            ),
            (&[("host", "127.0.0.1:9001"), (CONSOLE_HEADER, "1")], true),
            (
                &[("host", "127.0.0.1:9001"), (CONSOLE_HEADER, "yes")],
                false,
            ),
            (&[("host", "127.0.0.1:9001")], false),
        ];
        for (pairs, expected) in table {
            assert_eq!(same_origin(&headers(pairs)), *expected, "{pairs:?}");
        }
    }
}
