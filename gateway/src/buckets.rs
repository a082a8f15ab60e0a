//! The bucket map: client-facing bucket name -> the backend that stores it
//! and the bucket's name there. Built from config at start; the *dispatch*
//! stage looks a request's bucket up here.

use std::collections::BTreeMap;
use std::sync::Arc;

use cedargate_backends::fs::FsBackend;
use cedargate_backends::{Backend, BackendError};

use crate::config::{BackendConfig, Config};

/// A backend built from config; the fs handle is kept to create bucket directories.
type BuiltBackend = (Arc<dyn Backend>, Option<Arc<FsBackend>>);

/// Where a client-facing bucket lives.
#[derive(Debug, Clone)]
pub struct BucketTarget {
    /// The client-facing name.
    pub name: String,
    /// The backend serving it.
    pub backend: Arc<dyn Backend>,
    /// Name of the configured backend (for logs, never for clients).
    pub backend_name: String,
    /// The bucket's name in the backend.
    pub backend_bucket: String,
    /// The key prefix of this bucket's objects in the backend bucket (empty
    /// for none). Clients never see it.
    pub prefix: String,
}

/// Every configured bucket.
#[derive(Debug, Clone, Default)]
pub struct BucketMap {
    buckets: BTreeMap<String, BucketTarget>,
}

impl BucketMap {
    /// Builds the backends named in `config` and maps every bucket; creates
    /// missing bucket directories on filesystem backends.
    pub async fn from_config(config: &Config) -> Result<Self, BackendError> {
        let mut backends: BTreeMap<&str, BuiltBackend> = BTreeMap::new();
        for (name, backend) in &config.backends {
            match backend {
                BackendConfig::Fs { root } => {
                    let fs = Arc::new(FsBackend::new(root.clone())?);
                    let dynamic: Arc<dyn Backend> = fs.clone();
                    backends.insert(name, (dynamic, Some(fs)));
                }
            }
        }
        let mut buckets = BTreeMap::new();
        for (name, bucket) in &config.buckets {
            let Some((backend, fs)) = backends.get(bucket.backend.as_str()) else {
                return Err(BackendError::invalid_argument(format!(
                    "bucket `{name}` names unknown backend `{}`",
                    bucket.backend
                )));
            };
            let backend_bucket = bucket
                .backend_bucket
                .clone()
                .unwrap_or_else(|| name.clone());
            if let Some(fs) = fs {
                fs.create_bucket(&backend_bucket).await?;
            }
            buckets.insert(
                name.clone(),
                BucketTarget {
                    name: name.clone(),
                    backend: backend.clone(),
                    backend_name: bucket.backend.clone(),
                    backend_bucket,
                    prefix: bucket.prefix.clone().unwrap_or_default(),
                },
            );
        }
        Ok(Self { buckets })
    }

    /// The bucket's target, if configured.
    pub fn get(&self, bucket: &str) -> Option<&BucketTarget> {
        self.buckets.get(bucket)
    }

    /// Every bucket, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &BucketTarget> {
        self.buckets.values()
    }
}
