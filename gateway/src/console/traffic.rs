//! The console's traffic charts: an in-process sampler that reads the
//! `s3_request_total` counters (the ones `/metrics` exports) every
//! `console.sample_interval_seconds` and keeps, in a bounded ring of
//! `console.samples`, how many requests each (operation, status) pair
//! gained in that interval. The page turns counts into rates. The server
//! layer runs the loop that feeds it.
//!
//! Memory is bounded twice: the ring's length, and at most
//! [`MAX_SERIES`] (operation, status) pairs a sample (the rest are summed
//! under the operation `other`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::decisions::unix_ms;

/// Most (operation, status) pairs one sample keeps.
pub const MAX_SERIES: usize = 64;

/// Request counts by (operation, status).
pub type Totals = BTreeMap<(String, u16), u64>;

/// What one interval added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// When the interval ended.
    pub at: SystemTime,
    /// Requests in the interval.
    pub requests: u64,
    /// Of them, answered with a status of 400 or more.
    pub errors: u64,
    /// Requests by (operation, status), only pairs that gained any.
    pub by: Vec<(String, u16, u64)>,
}

#[derive(Debug, Default)]
struct State {
    previous: Option<Totals>,
    samples: VecDeque<Sample>,
}

/// The sampler and its ring.
#[derive(Debug)]
pub struct TrafficSampler {
    interval: Duration,
    capacity: usize,
    state: Mutex<State>,
}

impl TrafficSampler {
    /// A sampler meant to observe every `interval`, keeping `capacity` samples.
    pub fn new(interval: Duration, capacity: usize) -> Self {
        Self {
            interval,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// The interval between samples.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Takes the counters' current `totals`: the first call only sets the
    /// baseline; each later one appends what was added since the previous.
    pub fn observe(&self, totals: Totals, at: SystemTime) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(previous) = state.previous.take() else {
            state.previous = Some(totals);
            return;
        };
        let sample = fold(difference(&previous, &totals), at);
        state.previous = Some(totals);
        if state.samples.len() == self.capacity {
            state.samples.pop_front();
        }
        state.samples.push_back(sample);
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.samples.iter().cloned().collect()
    }

    /// The ring as the console's JSON shows it.
    pub fn to_json(&self) -> Value {
        let samples: Vec<Value> = self
            .samples()
            .into_iter()
            .map(|sample| {
                let by: Vec<Value> = sample
                    .by
                    .iter()
                    .map(|(operation, status, count)| {
                        json!({ "operation": operation, "status": status, "count": count })
                    })
                    .collect();
                json!({
                    "at_ms": unix_ms(sample.at),
                    "requests": sample.requests,
                    "errors": sample.errors,
                    "by": by,
                })
            })
            .collect();
        json!({
            "interval_seconds": self.interval.as_secs(),
            "capacity": self.capacity,
            "samples": samples,
        })
    }
}

/// What each pair gained from `previous` to `current` (a pair that went
/// backwards counts from zero).
fn difference(previous: &Totals, current: &Totals) -> Vec<(String, u16, u64)> {
    current
        .iter()
        .filter_map(|(pair, now)| {
            let before = previous.get(pair).copied().unwrap_or(0);
            let gained = if *now >= before { now - before } else { *now };
            (gained > 0).then(|| (pair.0.clone(), pair.1, gained))
        })
        .collect()
}

/// A sample of `by`, its largest [`MAX_SERIES`] - 1 pairs kept and the
/// rest summed under the operation `other` (status 0).
fn fold(mut by: Vec<(String, u16, u64)>, at: SystemTime) -> Sample {
    let requests = by.iter().map(|(_, _, n)| n).sum();
    let errors = by
        .iter()
        .filter(|(_, status, _)| *status >= 400)
        .map(|(_, _, n)| n)
        .sum();
    if by.len() > MAX_SERIES {
        by.sort_by_key(|pair| std::cmp::Reverse(pair.2));
        let other = by.drain(MAX_SERIES - 1..).map(|(_, _, n)| n).sum();
        by.push(("other".to_owned(), 0, other));
    }
    Sample {
        at,
        requests,
        errors,
        by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(pairs: &[(&str, u16, u64)]) -> Totals {
        pairs
            .iter()
            .map(|(op, status, n)| (((*op).to_owned(), *status), *n))
            .collect()
    }

    #[test]
    fn samples_hold_what_each_interval_added_in_a_bounded_ring() {
        let sampler = TrafficSampler::new(Duration::from_secs(10), 2);
        let t = SystemTime::UNIX_EPOCH;
        sampler.observe(totals(&[("GetObject", 200, 5)]), t);
        assert!(
            sampler.samples().is_empty(),
            "the first call is the baseline"
        );
        sampler.observe(totals(&[("GetObject", 200, 8), ("PutObject", 403, 2)]), t);
        let first = &sampler.samples()[0];
        assert_eq!((first.requests, first.errors), (5, 2));
        assert_eq!(
            first.by,
            vec![("GetObject".into(), 200, 3), ("PutObject".into(), 403, 2)]
        );
        sampler.observe(totals(&[("GetObject", 200, 8), ("PutObject", 403, 2)]), t);
        sampler.observe(totals(&[("GetObject", 200, 9), ("PutObject", 403, 2)]), t);
        let samples = sampler.samples();
        assert_eq!(samples.len(), 2, "the ring keeps its capacity");
        assert_eq!(samples[0].requests, 0);
        assert_eq!(samples[1].by, vec![("GetObject".into(), 200, 1)]);
        let json = sampler.to_json();
        assert_eq!(json["interval_seconds"], 10);
        assert_eq!(json["samples"][1]["by"][0]["operation"], "GetObject");
    }

    #[test]
    fn a_sample_keeps_at_most_max_series_pairs() {
        let sampler = TrafficSampler::new(Duration::from_secs(1), 4);
        let t = SystemTime::UNIX_EPOCH;
        sampler.observe(Totals::new(), t);
        let many: Totals = (0..200u16)
            .map(|i| ((format!("Op{i}"), 200 + i), u64::from(i) + 1))
            .collect();
        sampler.observe(many, t);
        let sample = &sampler.samples()[0];
        assert_eq!(sample.by.len(), MAX_SERIES);
        assert_eq!(sample.requests, (1..=200).sum::<u64>());
        let kept: u64 = sample.by.iter().map(|(_, _, n)| n).sum();
        assert_eq!(kept, sample.requests);
        assert!(sample.by.iter().any(|(op, _, _)| op == "other"));
    }
}
