//! Console login sessions: each login draws a random cookie value (32
//! bytes from the operating system's CSPRNG), and the gateway keeps only
//! its SHA-256 with an expiry. A cookie is looked up by that digest, so
//! the lookup's timing says nothing about the stored values; it stops
//! working at its expiry, at logout, when the gateway restarts, or when
//! [`MAX_SESSIONS`] newer logins pushed it out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// Most sessions kept at once; a login beyond it ends the one closest to
/// its expiry.
pub const MAX_SESSIONS: usize = 64;

/// The live sessions: digest of the cookie value to expiry.
#[derive(Debug)]
pub struct Sessions {
    lifetime: Duration,
    live: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Sessions {
    /// No sessions yet; each will last `lifetime`.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session lasts.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Starts a session: its cookie value (64 hex digits), or `None` when
    /// the operating system has no randomness to give.
    pub fn start(&self) -> Option<String> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.try_fill_bytes(&mut bytes).ok()?;
        let value = hex::encode(bytes);
        let now = Instant::now();
        let mut live = self.live.lock().ok()?;
        live.retain(|_, expiry| *expiry > now);
        while live.len() >= MAX_SESSIONS {
            let oldest = live
                .iter()
                .min_by_key(|(_, expiry)| **expiry)
                .map(|(k, _)| *k);
            match oldest {
                Some(key) => live.remove(&key),
                None => break,
            };
        }
        live.insert(digest(&value), now + self.lifetime);
        Some(value)
    }

    /// Whether `value` is a live session's cookie.
    pub fn is_live(&self, value: &str) -> bool {
        let key = digest(value);
        let Ok(mut live) = self.live.lock() else {
            return false;
        };
        match live.get(&key) {
            Some(expiry) if *expiry > Instant::now() => true,
            Some(_) => {
                live.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Ends the session of `value`, if any.
    pub fn end(&self, value: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&digest(value));
        }
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_random_end_at_logout_and_expire() {
        let sessions = Sessions::new(Duration::from_millis(200));
        let first = sessions.start().unwrap();
        let second = sessions.start().unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 64);
        assert!(sessions.is_live(&first) && sessions.is_live(&second));
        assert!(!sessions.is_live("00"));
        sessions.end(&first);
        assert!(!sessions.is_live(&first) && sessions.is_live(&second));
        std::thread::sleep(Duration::from_millis(250));
        assert!(!sessions.is_live(&second));
    }

    #[test]
    fn the_session_count_is_bounded() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let first = sessions.start().unwrap();
        let values: Vec<String> = (0..MAX_SESSIONS).filter_map(|_| sessions.start()).collect();
        assert!(!sessions.is_live(&first), "the oldest session made room");
        assert!(values.iter().all(|v| sessions.is_live(v)));
        assert!(sessions.live.lock().unwrap().len() <= MAX_SESSIONS);
    }
}
