//! The bucket map: client-facing bucket name -> the backend that stores it,
//! the bucket's name there and the key prefix it lives under. Built from
//! config at start; the *dispatch* stage looks a request's bucket up here.
//!
//! [`BucketTarget`] is also the one place where client keys become backend
//! keys (`prefix + key`) and back: handlers map every key, prefix and marker
//! they send through it, and every key, listing page and error message that
//! comes back, so clients never see the prefix.
//!
//! Each target also carries its bucket's CORS rules, so that a reload of the
//! map (see `server::reload_buckets`) brings new rules in with it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cedargate_backends::fs::FsBackend;
use cedargate_backends::gcs::{GcsBackend, GcsConfig};
use cedargate_backends::s3::{S3Backend, S3Config, SecretKey};
use cedargate_backends::{Backend, BackendError, ListPage, ListUploadsPage, ListVersionsPage};

use crate::config::{BackendConfig, Config, CorsRule, UpstreamConfig};

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
    /// Listed in `[buckets]` (never created or deleted through the API),
    /// rather than found through the default route.
    pub configured: bool,
    /// The bucket's CORS rules, in order (empty for none).
    pub cors: Arc<[CorsRule]>,
}

impl BucketTarget {
    /// The backend key of a client key: the prefix followed by the key.
    /// Also the backend listing prefix of a client listing prefix (an empty
    /// client prefix lists the whole bucket, under the prefix).
    pub fn backend_key<'k>(&self, key: &'k str) -> Cow<'k, str> {
        if self.prefix.is_empty() {
            Cow::Borrowed(key)
        } else {
            Cow::Owned(format!("{}{key}", self.prefix))
        }
    }

    /// Refuses a client key that, under the prefix, the backend could not
    /// store as itself (see [`Backend::check_key`]): it would address
    /// another key, maybe outside the prefix, than the one policies decide.
    pub fn check_key(&self, key: &str) -> Result<(), BackendError> {
        self.backend
            .check_key(&self.backend_key(key))
            .map_err(|error| self.client_error(error))
    }

    /// The client key of a backend key; `None` for a key outside the prefix
    /// or equal to it (no client key names it), which must not be shown.
    pub fn client_key<'k>(&self, backend_key: &'k str) -> Option<&'k str> {
        backend_key
            .strip_prefix(self.prefix.as_str())
            .filter(|key| !key.is_empty())
    }

    /// The backend's exclusive start (`start_after`, `key_marker`) for a
    /// client marker. Without a client marker a prefixed bucket starts after
    /// the prefix itself, so an object named exactly the prefix is never
    /// listed nor counted against the page size.
    pub fn backend_marker(&self, marker: Option<&str>) -> Option<String> {
        match marker {
            Some(marker) => Some(self.backend_key(marker).into_owned()),
            None if self.prefix.is_empty() => None,
            None => Some(self.prefix.clone()),
        }
    }

    /// A backend listing page as the client sees it: keys, common prefixes
    /// and the next marker without the prefix; entries outside the prefix
    /// are dropped (and end the listing when the next marker is one).
    pub fn client_page(&self, mut page: ListPage) -> ListPage {
        if self.prefix.is_empty() {
            return page;
        }
        let before = page.objects.len() + page.common_prefixes.len();
        page.objects
            .retain_mut(|object| self.strip(&mut object.key));
        page.common_prefixes.retain_mut(|common| self.strip(common));
        let after = page.objects.len() + page.common_prefixes.len();
        self.strip_marker(&mut page.is_truncated, &mut page.next_start_after);
        self.warn_dropped(before - after);
        page
    }

    /// A backend ListMultipartUploads page as the client sees it, as
    /// [`Self::client_page`] does for objects.
    pub fn client_uploads(&self, mut page: ListUploadsPage) -> ListUploadsPage {
        if self.prefix.is_empty() {
            return page;
        }
        let before = page.uploads.len() + page.common_prefixes.len();
        page.uploads
            .retain_mut(|upload| self.strip(&mut upload.key));
        page.common_prefixes.retain_mut(|common| self.strip(common));
        let after = page.uploads.len() + page.common_prefixes.len();
        self.strip_marker(&mut page.is_truncated, &mut page.next_key_marker);
        if !page.is_truncated {
            page.next_upload_id_marker = None;
        }
        self.warn_dropped(before - after);
        page
    }

    /// A backend ListObjectVersions page as the client sees it, as
    /// [`Self::client_page`] does for objects.
    pub fn client_versions(&self, mut page: ListVersionsPage) -> ListVersionsPage {
        if self.prefix.is_empty() {
            return page;
        }
        let before = page.versions.len() + page.common_prefixes.len();
        page.versions
            .retain_mut(|version| self.strip(&mut version.key));
        page.common_prefixes.retain_mut(|common| self.strip(common));
        let after = page.versions.len() + page.common_prefixes.len();
        self.strip_marker(&mut page.is_truncated, &mut page.next_key_marker);
        if !page.is_truncated {
            page.next_version_id_marker = None;
        }
        self.warn_dropped(before - after);
        page
    }

    /// A backend error with the prefix taken out of its client-facing
    /// message. A message that still names a leading part of the prefix (an
    /// object of the backend bucket in the prefix's way) is replaced whole.
    pub fn client_error(&self, error: BackendError) -> BackendError {
        let BackendError::InvalidArgument { message } = &error else {
            return error;
        };
        if self.prefix.is_empty() {
            return error;
        }
        let message = message.replace(self.prefix.as_str(), "");
        let ancestors = self
            .prefix
            .match_indices('/')
            .map(|(at, _)| &self.prefix[..at]);
        let names_ancestor = ancestors
            .chain([self.prefix.as_str()])
            .any(|part| !part.is_empty() && message.contains(&format!("`{part}")));
        if names_ancestor {
            BackendError::invalid_argument("the key cannot be stored in this bucket")
        } else {
            BackendError::invalid_argument(message)
        }
    }

    /// Strips the prefix from `key` in place; false when it is not under it.
    fn strip(&self, key: &mut String) -> bool {
        match self.client_key(key) {
            Some(client) => {
                *key = client.to_owned();
                true
            }
            None => false,
        }
    }

    /// Strips a page's next marker; one outside the prefix ends the listing.
    fn strip_marker(&self, truncated: &mut bool, marker: &mut Option<String>) {
        if let Some(next) = marker
            && !self.strip(next)
        {
            *marker = None;
            *truncated = false;
            self.warn_dropped(1);
        }
    }

    fn warn_dropped(&self, dropped: usize) {
        if dropped > 0 {
            tracing::warn!(
                bucket = %self.name,
                backend = %self.backend_name,
                dropped,
                "the backend listed keys outside the bucket's prefix; they were not shown"
            );
        }
    }
}

/// The s3 backend's settings from its config table.
fn s3_config(name: &str, upstream: &UpstreamConfig) -> Result<S3Config, BackendError> {
    let secret = upstream
        .secret(&format!("backends.{name}"))
        .map_err(|error| BackendError::invalid_argument(error.to_string()))?;
    let mut config = S3Config::new(
        upstream.endpoint.clone(),
        upstream.region.clone(),
        upstream.access_key.clone(),
        SecretKey::new(secret),
    );
    config.path_style = upstream.path_style;
    config.connect_timeout = Duration::from_millis(upstream.connect_timeout_ms);
    config.read_timeout = Duration::from_millis(upstream.read_timeout_ms);
    Ok(config)
}

/// Every configured bucket, and the default route of the others.
#[derive(Debug, Clone, Default)]
pub struct BucketMap {
    buckets: BTreeMap<String, BucketTarget>,
    default_route: Option<DefaultRoute>,
    /// (backend name, backend bucket) of every configured bucket: the
    /// default route never reaches them under another name.
    reserved: BTreeSet<(String, String)>,
}

/// Where buckets not listed in config live.
#[derive(Debug, Clone)]
struct DefaultRoute {
    backend: Arc<dyn Backend>,
    backend_name: String,
    bucket_prefix: String,
}

/// Why the default route gives a name no bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unroutable {
    /// The gateway has no default route.
    NoDefaultRoute,
    /// The name reaches a configured bucket's storage under another name.
    Reserved,
    /// With the route's prefix, the name is not a valid bucket name.
    InvalidName,
}

impl BucketMap {
    /// Builds the backends named in `config` and maps every bucket; creates
    /// missing bucket directories on filesystem backends.
    pub async fn from_config(config: &Config) -> Result<Self, BackendError> {
        let mut backends: BTreeMap<&str, BuiltBackend> = BTreeMap::new();
        for (name, backend) in &config.backends {
            match backend {
                BackendConfig::Fs {
                    root,
                    durable_writes,
                    inline_reads,
                } => {
                    let fs = FsBackend::new(root.clone())?
                        .with_durable_writes(*durable_writes)
                        .with_inline_reads(*inline_reads);
                    let fs = Arc::new(fs);
                    let dynamic: Arc<dyn Backend> = fs.clone();
                    backends.insert(name, (dynamic, Some(fs)));
                }
                BackendConfig::S3(upstream) => {
                    let s3: Arc<dyn Backend> =
                        Arc::new(S3Backend::new(s3_config(name, upstream)?)?);
                    backends.insert(name, (s3, None));
                }
                BackendConfig::Gcs(gcs) => {
                    let s3 = s3_config(name, &gcs.as_upstream())?;
                    let mut config = GcsConfig::new(s3.access_key, s3.secret_key);
                    config.endpoint = s3.endpoint;
                    config.project_id = gcs.project_id.clone();
                    config.connect_timeout = s3.connect_timeout;
                    config.read_timeout = s3.read_timeout;
                    let backend: Arc<dyn Backend> = Arc::new(GcsBackend::new(config)?);
                    backends.insert(name, (backend, None));
                }
            }
        }
        let mut buckets = BTreeMap::new();
        let mut reserved = BTreeSet::new();
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
                fs.create_bucket_dir(&backend_bucket).await?;
            }
            reserved.insert((bucket.backend.clone(), backend_bucket.clone()));
            buckets.insert(
                name.clone(),
                BucketTarget {
                    name: name.clone(),
                    backend: backend.clone(),
                    backend_name: bucket.backend.clone(),
                    backend_bucket,
                    prefix: bucket.prefix.clone().unwrap_or_default(),
                    configured: true,
                    cors: bucket.cors_rules.clone().into(),
                },
            );
        }
        let default_route = match &config.default_route {
            None => None,
            Some(route) => {
                let Some((backend, _)) = backends.get(route.backend.as_str()) else {
                    return Err(BackendError::invalid_argument(format!(
                        "the default route names unknown backend `{}`",
                        route.backend
                    )));
                };
                Some(DefaultRoute {
                    backend: backend.clone(),
                    backend_name: route.backend.clone(),
                    bucket_prefix: route.bucket_prefix.clone(),
                })
            }
        };
        Ok(Self {
            buckets,
            default_route,
            reserved,
        })
    }

    /// The bucket's target, if configured.
    pub fn get(&self, bucket: &str) -> Option<&BucketTarget> {
        self.buckets.get(bucket)
    }

    /// The bucket's target: the configured one, else the default route's
    /// (whether the backend holds that bucket is the backend's answer).
    pub fn resolve(&self, bucket: &str) -> Option<Cow<'_, BucketTarget>> {
        match self.buckets.get(bucket) {
            Some(target) => Some(Cow::Borrowed(target)),
            None => self.route_unlisted(bucket).ok().map(Cow::Owned),
        }
    }

    /// The default route's target for a bucket not in config.
    pub fn route_unlisted(&self, bucket: &str) -> Result<BucketTarget, Unroutable> {
        let route = self
            .default_route
            .as_ref()
            .ok_or(Unroutable::NoDefaultRoute)?;
        let backend_bucket = format!("{}{bucket}", route.bucket_prefix);
        if cedargate_s3::route::validate_bucket(&backend_bucket).is_err() {
            return Err(Unroutable::InvalidName);
        }
        if self
            .reserved
            .contains(&(route.backend_name.clone(), backend_bucket.clone()))
        {
            return Err(Unroutable::Reserved);
        }
        Ok(BucketTarget {
            name: bucket.to_owned(),
            backend: route.backend.clone(),
            backend_name: route.backend_name.clone(),
            backend_bucket,
            prefix: String::new(),
            configured: false,
            cors: Default::default(),
        })
    }

    /// The buckets the default route's backend holds beyond the configured
    /// ones, by client name in name order (empty without a default route).
    pub async fn unlisted(&self) -> Result<Vec<(BucketTarget, Option<SystemTime>)>, BackendError> {
        let Some(route) = &self.default_route else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for summary in route.backend.list_buckets().await? {
            let Some(name) = summary.name.strip_prefix(route.bucket_prefix.as_str()) else {
                continue;
            };
            if self.buckets.contains_key(name)
                || cedargate_s3::route::validate_bucket(name).is_err()
            {
                continue;
            }
            if let Ok(target) = self.route_unlisted(name) {
                found.push((target, summary.created));
            }
        }
        Ok(found)
    }

    /// Every configured bucket, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &BucketTarget> {
        self.buckets.values()
    }

    /// Puts `wrap` around every backend (tests record the calls made).
    #[cfg(test)]
    pub(crate) fn wrap_backends(&mut self, wrap: impl Fn(Arc<dyn Backend>) -> Arc<dyn Backend>) {
        for target in self.buckets.values_mut() {
            target.backend = wrap(Arc::clone(&target.backend));
        }
        if let Some(route) = &mut self.default_route {
            route.backend = wrap(Arc::clone(&route.backend));
        }
    }
}

#[cfg(test)]
mod tests {

    use cedargate_backends::{ObjectSummary, UploadSummary};

    use super::*;

    fn prefixed(prefix: &str) -> (tempfile::TempDir, BucketTarget) {
        let dir = tempfile::tempdir().expect("temp dir");
        let backend = FsBackend::new(dir.path()).expect("fs backend");
        let target = BucketTarget {
            name: "gamma".into(),
            backend: Arc::new(backend),
            backend_name: "local".into(),
            backend_bucket: "alpha".into(),
            prefix: prefix.into(),
            configured: true,
            cors: Default::default(),
        };
        (dir, target)
    }

    #[tokio::test]
    async fn the_default_route_names_backend_buckets_and_keeps_configured_ones_apart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = format!(
            r#"
[backends.local]
kind = "fs"
root = "{}"

[buckets.alpha]
backend = "local"

[buckets.gamma]
backend = "local"
backend_bucket = "gw-store"
prefix = "g/"

[default_route]
backend = "local"
bucket_prefix = "gw-"
"#,
            dir.path().display()
        );
        let config = Config::from_str(&text).expect("config");
        let map = BucketMap::from_config(&config).await.expect("map");
        let routed = map.route_unlisted("photos").expect("routed");
        assert_eq!(routed.backend_bucket, "gw-photos");
        assert_eq!((routed.prefix.as_str(), routed.configured), ("", false));
        assert!(map.resolve("alpha").is_some_and(|t| t.configured));
        // `gw-store` is gamma's storage: no other name reaches it.
        assert_eq!(
            map.route_unlisted("store").err(),
            Some(Unroutable::Reserved)
        );
        assert!(map.resolve("store").is_none());
        let long = "a".repeat(61);
        assert_eq!(
            map.route_unlisted(&long).err(),
            Some(Unroutable::InvalidName)
        );
        map.route_unlisted("photos")
            .expect("routed")
            .backend
            .create_bucket("gw-photos")
            .await
            .expect("create");
        let unlisted: Vec<String> = map
            .unlisted()
            .await
            .expect("unlisted")
            .into_iter()
            .map(|(target, _)| target.name)
            .collect();
        assert_eq!(unlisted, ["photos"], "alpha is listed, gw-store reserved");
        let mut bare = config.clone();
        bare.default_route = None;
        let bare = BucketMap::from_config(&bare).await.expect("map");
        assert_eq!(
            bare.route_unlisted("photos").err(),
            Some(Unroutable::NoDefaultRoute)
        );
        assert!(bare.unlisted().await.expect("unlisted").is_empty());
    }

    #[test]
    fn keys_map_both_ways() {
        // (prefix, client key, backend key)
        let cases = [
            ("", "a/b", "a/b"),
            ("", "", ""),
            ("tenants/acme/", "a/b", "tenants/acme/a/b"),
            ("tenants/acme/", "", "tenants/acme/"),
            ("tenants/acme/", "/lead", "tenants/acme//lead"),
            ("tenants/acme/", "../x", "tenants/acme/../x"),
            ("tenants/acme", "-x", "tenants/acme-x"),
            ("tenants/acme", "/y", "tenants/acme/y"),
            ("tenants/ü/", "日本/ß", "tenants/ü/日本/ß"),
            ("p", "p", "pp"),
        ];
        for (prefix, client, backend) in cases {
            let (_dir, target) = prefixed(prefix);
            assert_eq!(target.backend_key(client), backend, "{prefix:?} {client:?}");
            let expected = Some(client).filter(|c| !c.is_empty());
            assert_eq!(
                target.client_key(backend),
                expected,
                "{prefix:?} {backend:?}"
            );
        }
    }

    #[test]
    fn keys_outside_or_equal_to_the_prefix_have_no_client_key() {
        let cases = [
            ("tenants/acme/", "tenants/acme/"),
            ("tenants/acme/", "tenants/acme"),
            ("tenants/acme/", "tenants/other/x"),
            ("tenants/acme/", "x"),
            ("tenants/acme/", "Tenants/acme/x"),
            ("tenants/acme", "tenants/acme"),
            ("tenants/ü/", "tenants/u/x"),
            ("", ""),
        ];
        for (prefix, backend) in cases {
            let (_dir, target) = prefixed(prefix);
            assert_eq!(target.client_key(backend), None, "{prefix:?} {backend:?}");
        }
    }

    #[test]
    fn markers_start_after_the_prefix_itself() {
        let (_dir, plain) = prefixed("");
        assert_eq!(plain.backend_marker(None), None);
        assert_eq!(plain.backend_marker(Some("m")).as_deref(), Some("m"));
        let (_dir, with_prefix) = prefixed("t/g/");
        assert_eq!(with_prefix.backend_marker(None).as_deref(), Some("t/g/"));
        assert_eq!(
            with_prefix.backend_marker(Some("")).as_deref(),
            Some("t/g/")
        );
        assert_eq!(
            with_prefix.backend_marker(Some("m/")).as_deref(),
            Some("t/g/m/")
        );
    }

    fn summary(key: &str) -> ObjectSummary {
        ObjectSummary {
            key: key.into(),
            size: 1,
            etag: "e".into(),
            last_modified: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn pages_lose_the_prefix_and_outsiders() {
        let (_dir, target) = prefixed("t/g/");
        let page = target.client_page(ListPage {
            objects: vec![summary("t/g/a"), summary("elsewhere"), summary("t/g/ü")],
            common_prefixes: vec!["t/g/d/".into(), "t/gx/".into()],
            is_truncated: true,
            next_start_after: Some("t/g/d/".into()),
        });
        let keys: Vec<&str> = page.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["a", "ü"]);
        assert_eq!(page.common_prefixes, ["d/"]);
        assert!(page.is_truncated);
        assert_eq!(page.next_start_after.as_deref(), Some("d/"));

        let outside = target.client_page(ListPage {
            objects: vec![summary("t/g/a")],
            is_truncated: true,
            next_start_after: Some("u".into()),
            ..ListPage::default()
        });
        assert!(!outside.is_truncated);
        assert_eq!(outside.next_start_after, None);

        let (_dir, plain) = prefixed("");
        let untouched = plain.client_page(ListPage {
            objects: vec![summary("t/g/a")],
            ..ListPage::default()
        });
        assert_eq!(untouched.objects[0].key, "t/g/a");
    }

    #[test]
    fn upload_pages_lose_the_prefix_and_outsiders() {
        let (_dir, target) = prefixed("t/g/");
        let upload = |key: &str| UploadSummary {
            key: key.into(),
            upload_id: "id".into(),
            initiated: SystemTime::UNIX_EPOCH,
        };
        let page = target.client_uploads(ListUploadsPage {
            uploads: vec![upload("t/g/big"), upload("t/g/"), upload("other")],
            common_prefixes: vec!["t/g/dir/".into()],
            is_truncated: true,
            next_key_marker: Some("t/g/big".into()),
            next_upload_id_marker: Some("id".into()),
        });
        let keys: Vec<&str> = page.uploads.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["big"]);
        assert_eq!(page.common_prefixes, ["dir/"]);
        assert_eq!(page.next_key_marker.as_deref(), Some("big"));
        assert_eq!(page.next_upload_id_marker.as_deref(), Some("id"));
    }

    #[test]
    fn error_messages_lose_the_prefix() {
        let (_dir, target) = prefixed("tenants/gamma/");
        let message = |error: BackendError| error.to_string();
        let conflict = BackendError::invalid_argument(
            "key `tenants/gamma/d/x` conflicts with existing object `tenants/gamma/d`",
        );
        assert_eq!(
            message(target.client_error(conflict)),
            "key `d/x` conflicts with existing object `d`"
        );
        for blocked in ["`tenants`", "`tenants/gamma`"] {
            let error = BackendError::invalid_argument(format!(
                "key `tenants/gamma/x` conflicts with existing object {blocked}"
            ));
            let shown = message(target.client_error(error));
            assert!(!shown.contains("tenants"), "{shown}");
        }
        let untouched = target.client_error(BackendError::NoSuchKey);
        assert!(matches!(untouched, BackendError::NoSuchKey));
        let (_dir, plain) = prefixed("");
        let error = BackendError::invalid_argument("key `tenants/x` is bad");
        assert_eq!(message(plain.client_error(error)), "key `tenants/x` is bad");
    }
}
