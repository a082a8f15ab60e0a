//! The figures of a run: each worker's latencies, statuses and bytes,
//! merged and summarised as percentiles and rates.

use std::collections::BTreeMap;
use std::time::Duration;

/// The figures of one run.
#[derive(Debug, serde::Serialize)]
pub struct Summary {
    /// Requests answered (with any status).
    pub count: u64,
    /// Requests answered with another status than expected, or not at all.
    pub errors: u64,
    /// Answers by status (`"io"` for transport failures).
    pub statuses: BTreeMap<String, u64>,
    /// Wall time of the run.
    pub elapsed_s: f64,
    /// Requests per second (answered, over the wall time).
    pub req_per_s: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Mean latency.
    pub mean_ms: f64,
    /// Slowest request.
    pub max_ms: f64,
    /// Body bytes sent and received, per second, in MB (10^6 bytes).
    pub mb_per_s: f64,
    /// The first error seen, if any.
    pub first_error: Option<String>,
}

/// What one worker saw.
#[derive(Default)]
pub struct WorkerStats {
    /// Latency of each request, in µs.
    pub latencies_us: Vec<u32>,
    /// Answers by status.
    pub statuses: BTreeMap<String, u64>,
    /// Requests that failed or got an unexpected status.
    pub errors: u64,
    /// Body bytes sent and received.
    pub bytes: u64,
    /// The first error seen.
    pub first_error: Option<String>,
}

impl WorkerStats {
    /// Counts a failed request.
    pub fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }
}

/// The summary of `total` over a run of `elapsed`.
pub fn summarise(mut total: WorkerStats, elapsed: Duration) -> Summary {
    total.latencies_us.sort_unstable();
    let count = total.latencies_us.len() as u64;
    let percentile = |p: f64| -> f64 {
        if total.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = (p * total.latencies_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, total.latencies_us.len()) - 1;
        f64::from(total.latencies_us[index]) / 1000.0
    };
    let sum: u64 = total.latencies_us.iter().map(|&us| u64::from(us)).sum();
    let seconds = elapsed.as_secs_f64().max(1e-9);
    Summary {
        count,
        errors: total.errors,
        statuses: total.statuses,
        elapsed_s: round3(seconds),
        req_per_s: round3(count as f64 / seconds),
        p50_ms: round3(percentile(0.50)),
        p99_ms: round3(percentile(0.99)),
        mean_ms: round3(if count == 0 {
            0.0
        } else {
            sum as f64 / count as f64 / 1000.0
        }),
        max_ms: round3(
            total
                .latencies_us
                .last()
                .map_or(0.0, |&us| f64::from(us) / 1000.0),
        ),
        mb_per_s: round3(total.bytes as f64 / 1e6 / seconds),
        first_error: total.first_error,
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let stats = WorkerStats {
            latencies_us: (1..=100).rev().map(|ms| ms * 1000).collect(),
            ..WorkerStats::default()
        };
        let summary = summarise(stats, Duration::from_secs(2));
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50_ms, 50.0);
        assert_eq!(summary.p99_ms, 99.0);
        assert_eq!(summary.max_ms, 100.0);
        assert_eq!(summary.req_per_s, 50.0);
    }
}
