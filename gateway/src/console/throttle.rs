//! Wrong admin tokens per source address (at the login form or as a
//! bearer token), with exponential backoff: after [`FREE_FAILURES`] wrong
//! tokens a source waits 1 s, then 2 s, 4 s, ... up to [`MAX_DELAY`] after
//! each further one, and a token it presents while waiting answers 429
//! with `Retry-After` without being tested. A login with the right token
//! clears its record. IPv6 sources count per /64.
//!
//! Failures are logged in aggregate: one WARN line at a source's first
//! failure and one each time it is made to wait, with the counts since
//! the last line, so a flood of guesses writes a handful of lines. The
//! presented token is never logged. At most [`MAX_SOURCES`] are tracked;
//! beyond that the one seen least recently is forgotten.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens a source may send before it has to wait.
pub const FREE_FAILURES: u32 = 3;

/// Longest wait after a wrong token.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// How long an idle source's record is kept after its last wait ended.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// Most sources tracked at once.
pub const MAX_SOURCES: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Source {
    failures: u32,
    blocked_until: Instant,
    last_seen: Instant,
    /// Failures and refused attempts not yet in a log line.
    unlogged_failures: u32,
    unlogged_refused: u32,
}

/// The login attempts of every source.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    sources: Mutex<HashMap<IpAddr, Source>>,
}

impl LoginThrottle {
    /// No attempts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Err(wait)` when `source` must wait before trying a token again
    /// (the attempt is counted for the next log line).
    pub fn check(&self, source: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut sources) = self.sources.lock() else {
            return Err(Duration::from_secs(1));
        };
        match sources.get_mut(&key(source)) {
            Some(entry) if entry.blocked_until > now => {
                entry.last_seen = now;
                entry.unlogged_refused = entry.unlogged_refused.saturating_add(1);
                Err(entry.blocked_until - now)
            }
            _ => Ok(()),
        }
    }

    /// Records a wrong token from `source`.
    pub fn failed(&self, source: IpAddr) {
        let now = Instant::now();
        let Ok(mut sources) = self.sources.lock() else {
            return;
        };
        let source_key = key(source);
        if !sources.contains_key(&source_key) {
            make_room(&mut sources, now);
        }
        let entry = sources.entry(source_key).or_insert(Source {
            failures: 0,
            blocked_until: now,
            last_seen: now,
            unlogged_failures: 0,
            unlogged_refused: 0,
        });
        entry.failures = entry.failures.saturating_add(1);
        entry.last_seen = now;
        entry.unlogged_failures = entry.unlogged_failures.saturating_add(1);
        let delay = delay_after(entry.failures);
        if let Some(delay) = delay {
            entry.blocked_until = now + delay;
        }
        if entry.failures == 1 || delay.is_some() {
            tracing::warn!(
                source = %source,
                failures = entry.unlogged_failures,
                refused_while_waiting = entry.unlogged_refused,
                total_failures = entry.failures,
                retry_after_seconds = delay.map_or(0, |d| d.as_secs()),
                "wrong admin tokens at the console (counted per source; one line per wait)"
            );
            entry.unlogged_failures = 0;
            entry.unlogged_refused = 0;
        }
    }

    /// Clears the record of `source` after a right token.
    pub fn succeeded(&self, source: IpAddr) {
        if let Ok(mut sources) = self.sources.lock() {
            sources.remove(&key(source));
        }
    }
}

/// The wait after the `failures`-th wrong token, if any.
fn delay_after(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_FAILURES + 1)?;
    let seconds = 1u64.checked_shl(over.min(32)).unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(MAX_DELAY))
}

/// The address a source is counted under: IPv6 by its /64.
fn key(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V4(_) => source,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
    }
}

/// Forgets idle sources, then the least recently seen, until one more fits.
fn make_room(sources: &mut HashMap<IpAddr, Source>, now: Instant) {
    if sources.len() < MAX_SOURCES {
        return;
    }
    sources.retain(|_, s| s.blocked_until > now || now.duration_since(s.last_seen) < FORGET_AFTER);
    while sources.len() >= MAX_SOURCES {
        let oldest = sources
            .iter()
            .min_by_key(|(_, s)| s.last_seen)
            .map(|(k, _)| *k);
        match oldest {
            Some(oldest) => sources.remove(&oldest),
            None => break,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures_and_a_success_clears_them() {
        let table = [
            (1, None),
            (3, None),
            (4, Some(1)),
            (5, Some(2)),
            (8, Some(16)),
            (40, Some(900)),
        ];
        for (failures, seconds) in table {
            assert_eq!(
                delay_after(failures),
                seconds.map(Duration::from_secs),
                "{failures}"
            );
        }
        let throttle = LoginThrottle::new();
        let source = IpAddr::from([192, 0, 2, 7]);
        for _ in 0..FREE_FAILURES {
            assert!(throttle.check(source).is_ok());
            throttle.failed(source);
        }
        assert!(throttle.check(source).is_ok());
        throttle.failed(source);
        let wait = throttle.check(source).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert!(
            throttle.check(IpAddr::from([192, 0, 2, 8])).is_ok(),
            "per source"
        );
        throttle.succeeded(source);
        assert!(throttle.check(source).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64_and_the_table_is_bounded() {
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        assert_eq!(key(a), key(b));
        let throttle = LoginThrottle::new();
        for n in 0..(MAX_SOURCES as u32 + 10) {
            throttle.failed(IpAddr::from(n.to_be_bytes()));
        }
        assert!(throttle.sources.lock().unwrap().len() <= MAX_SOURCES);
    }
}
