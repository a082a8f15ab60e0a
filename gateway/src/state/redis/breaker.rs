//! The circuit breaker in front of the Redis server: once a call found the
//! server silent (a timeout, a refused or dropped connection), calls fail
//! at once for [`COOL_DOWN`] instead of each waiting out its own timeout;
//! then one call at a time tries the server again, and the first answer
//! closes the breaker.
//!
//! So a request pays at most one timeout while the server does not answer
//! (its first call opens the breaker, its later ones fail at once), and at
//! most one request per cool-down plus timeout pays even that.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use std::time::Instant;

/// How long calls fail at once after the server was found silent.
pub(super) const COOL_DOWN: Duration = Duration::from_secs(1);

/// Whether calls may reach the server.
#[derive(Debug)]
pub(super) struct Breaker {
    /// While set and in the future, calls fail at once.
    open_until: Mutex<Option<Instant>>,
    /// The longest a call may take: a trial call keeps the breaker open
    /// that long, so that other calls do not wait meanwhile.
    call_bound: Duration,
}

/// What [`Breaker::admit`] lets a call do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admission {
    /// The breaker is closed: call.
    Call,
    /// The breaker was open and its cool-down is over: this call tries the
    /// server; the others keep failing at once until it answers.
    Trial,
    /// The breaker is open: fail at once.
    Refused,
}

impl Breaker {
    /// A closed breaker for calls that take at most `call_bound`.
    pub(super) fn new(call_bound: Duration) -> Self {
        Self {
            open_until: Mutex::new(None),
            call_bound,
        }
    }

    /// Whether the next call may reach the server.
    pub(super) fn admit(&self) -> Admission {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Admission {
        let mut open_until = self.lock();
        match *open_until {
            None => Admission::Call,
            Some(until) if now < until => Admission::Refused,
            Some(_) => {
                // A trial call that is dropped unfinished only keeps the
                // breaker open until this bound passes.
                *open_until = Some(now + self.call_bound);
                Admission::Trial
            }
        }
    }

    /// Records that the server answered; `true` when that closed the breaker.
    pub(super) fn answered(&self) -> bool {
        self.lock().take().is_some()
    }

    /// Records that the server did not answer; `true` when that opened the
    /// breaker.
    pub(super) fn silent(&self) -> bool {
        self.silent_at(Instant::now())
    }

    fn silent_at(&self, now: Instant) -> bool {
        let mut open_until = self.lock();
        let was_closed = open_until.is_none();
        *open_until = Some(now + COOL_DOWN);
        was_closed
    }

    /// Whether calls currently fail at once.
    pub(super) fn is_open(&self) -> bool {
        self.lock().is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // Every update is a single assignment.
        self.open_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_server_opens_the_breaker_until_a_trial_call_answers() {
        let breaker = Breaker::new(Duration::from_secs(4));
        let start = Instant::now();
        assert_eq!(breaker.admit_at(start), Admission::Call);
        assert!(breaker.silent_at(start));
        assert!(!breaker.silent_at(start), "already open");
        assert_eq!(breaker.admit_at(start), Admission::Refused);
        let later = start + COOL_DOWN + Duration::from_millis(1);
        // One trial at a time; the others still fail at once.
        assert_eq!(breaker.admit_at(later), Admission::Trial);
        assert_eq!(breaker.admit_at(later), Admission::Refused);
        // A trial that never finished frees the next trial after its bound.
        let much_later = later + Duration::from_secs(4);
        assert_eq!(breaker.admit_at(much_later), Admission::Trial);
        assert!(breaker.answered());
        assert!(!breaker.is_open());
        assert_eq!(breaker.admit(), Admission::Call);
        assert!(!breaker.answered(), "already closed");
    }
}
