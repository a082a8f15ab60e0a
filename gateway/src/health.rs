//! Backend health: a probe of every configured backend (a HeadBucket of one
//! of its buckets) run by the maintenance task, published as the
//! `backend_up{backend}` gauge and reported by `/readyz`.
//!
//! A backend is *up* when it answered the probe at all — `NoSuchBucket`
//! included, since that is a configuration problem, not an outage — and
//! *down* when it was unreachable, timed out or answered garbage.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use cedargate_backends::BackendError;

use crate::buckets::BucketMap;
use crate::metrics::Metrics;

/// What the last probe of a backend found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendState {
    /// Not probed yet.
    Unknown,
    /// The backend answered.
    Up,
    /// The backend did not answer usably.
    Down,
}

/// The last probe result of every backend, by configured name.
#[derive(Debug, Default)]
pub struct BackendHealth {
    states: Mutex<BTreeMap<String, BackendState>>,
}

impl BackendHealth {
    /// Every backend of `buckets`, not probed yet.
    pub fn new(buckets: &BucketMap) -> Self {
        let states = buckets
            .iter()
            .map(|target| (target.backend_name.clone(), BackendState::Unknown))
            .collect();
        Self {
            states: Mutex::new(states),
        }
    }

    /// Probes each backend once (through its first bucket) and records
    /// the results.
    pub async fn probe(&self, buckets: &BucketMap, metrics: &Metrics) {
        let mut probed = BTreeMap::new();
        for target in buckets.iter() {
            if probed.contains_key(&target.backend_name) {
                continue;
            }
            let state = match target.backend.head_bucket(&target.backend_bucket).await {
                Ok(_) | Err(BackendError::NoSuchBucket) => BackendState::Up,
                Err(error) => {
                    tracing::warn!(backend = %target.backend_name, %error, "backend probe failed");
                    BackendState::Down
                }
            };
            metrics.set_backend_up(&target.backend_name, state == BackendState::Up);
            probed.insert(target.backend_name.clone(), state);
        }
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        states.extend(probed);
    }

    /// Every backend's state, by name.
    pub fn states(&self) -> BTreeMap<String, BackendState> {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[tokio::test]
    async fn an_fs_backend_probes_up_and_sets_the_gauge() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::embedded_default();
        config.backends.insert(
            "local".into(),
            crate::config::BackendConfig::Fs {
                root: dir.path().to_owned(),
                durable_writes: true,
                inline_reads: true,
            },
        );
        let buckets = BucketMap::from_config(&config).await.unwrap();
        let health = BackendHealth::new(&buckets);
        assert_eq!(health.states()["local"], BackendState::Unknown);
        let metrics = Metrics::new("cg").unwrap();
        health.probe(&buckets, &metrics).await;
        assert_eq!(health.states()["local"], BackendState::Up);
        let text = String::from_utf8(metrics.render()).unwrap();
        assert!(
            text.contains(r#"cg_backend_up{backend="local"} 1"#),
            "{text}"
        );
    }
}
