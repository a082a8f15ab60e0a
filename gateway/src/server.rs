//! Assembles the process: the S3 listener (pingora proxy service over the
//! pipeline) and the admin listener, from a validated [`Config`].

use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use pingora::server::Server;
use pingora::server::configuration::ServerConf;
use pingora::services::listening::Service;

use cedargate_policies::{PolicyEffect, PolicySnapshot, PolicyStore, WatchHandle, watch_files};

use std::time::Duration;

use pingora::server::ShutdownWatch;
use pingora::services::background::{BackgroundService, background_service};

use crate::admin::AdminApp;
use crate::auth::{Credential, CredentialStore};
use crate::buckets::BucketMap;
use crate::config::Config;
use crate::config::StoreKind;
use crate::console::ConsoleState;
use crate::health::BackendHealth;
use crate::limits::RateLimiter;
use crate::listener::{ConnectionLimits, Dialect, GuardedApp};
use crate::metrics::Metrics;
use crate::pipeline::Gateway;
use crate::proxy::S3Proxy;
use crate::quota::Quotas;
use crate::sockets::BoundListeners;
use crate::state::{EmbeddedStore, RedisSettings, RedisStore, StateStore};
use crate::sts::{SessionSealer, StsService};
use crate::telemetry::Telemetry;
use cedargate_s3::sigv4::{RegionRule, VerifierConfig};

/// The policy set of the embedded default: the development credential
/// (principal `dev`) may do everything, nobody else anything.
const DEV_POLICY: &str = r#"
@id("dev-credential-may-do-everything")
permit (principal == Credential::"dev", action, resource);
"#;

/// Loads the configured policy directory. Without one, the embedded
/// default gets the development set; a config file gets the base set
/// alone, which denies every request (fail closed), with a warning.
pub fn load_policies(config: &Config) -> anyhow::Result<PolicyStore> {
    let store = match &config.policies.dir {
        Some(dir) => PolicyStore::load(dir)
            .with_context(|| format!("cannot load policies from `{}`", dir.display()))?,
        None if config.embedded_default => {
            let snapshot = PolicySnapshot::from_sources(&[("embedded-dev.cedar", DEV_POLICY)], 1)
                .context("the embedded development policy does not load")?;
            return Ok(PolicyStore::from_snapshot(snapshot));
        }
        None => {
            let snapshot = PolicySnapshot::from_sources(&[], 1)
                .context("the base policy set does not load")?;
            tracing::warn!(
                "no `[policies] dir` in the config file: no policy permits anything, every request is denied"
            );
            return Ok(PolicyStore::from_snapshot(snapshot));
        }
    };
    if !has_permit(&store.snapshot()) {
        tracing::warn!(
            dir = %store.dir().map(|d| d.display().to_string()).unwrap_or_default(),
            "the policy directory has no permit: every request is denied until one is added"
        );
    }
    Ok(store)
}

/// Whether `snapshot` has a permit of its own (the base set has none).
fn has_permit(snapshot: &PolicySnapshot) -> bool {
    snapshot.policy_ids().iter().any(|id| {
        snapshot
            .policy(id)
            .is_some_and(|info| !info.builtin && info.effect == PolicyEffect::Permit)
    })
}

/// Builds the backends and the bucket map of `config` (outside any runtime:
/// at start, and on the config watcher's thread).
fn build_buckets(config: &Config) -> anyhow::Result<BucketMap> {
    let setup = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the setup runtime")?;
    setup
        .block_on(BucketMap::from_config(config))
        .context("cannot set up the bucket backends")
}

/// Builds the gateway's shared state: backends, buckets, metrics.
pub fn build_gateway(config: Config, credentials: CredentialStore) -> anyhow::Result<Arc<Gateway>> {
    let buckets = build_buckets(&config)?;
    let metrics = Metrics::new(&config.metrics.prefix).context("cannot set up metrics")?;
    metrics.set_credential_count(credentials.len());
    let policies = Arc::new(load_policies(&config)?);
    metrics.record_policy_reload(true, policies.generation());
    let store = state_store(&config)?;
    let limits = RateLimiter::new(&config, Arc::clone(&store));
    let quotas = Arc::new(Quotas::new(&config, store, metrics.clone()));
    let health = Arc::new(BackendHealth::new(&buckets));
    let verifier = VerifierConfig {
        region: match config.s3.region.as_str() {
            "*" => RegionRule::Any,
            region => RegionRule::Exact(region.to_owned()),
        },
        max_skew: std::time::Duration::from_secs(config.s3.max_clock_skew_seconds),
        ..VerifierConfig::default()
    };
    let sealer =
        SessionSealer::from_config(&config.sts.seal_keys).context("cannot load `sts.seal_keys`")?;
    if config.sts.seal_keys.is_empty() && !config.sts.roles.is_empty() {
        tracing::warn!(
            "no `sts.seal_keys`: sessions are sealed with a random key and end when the gateway restarts"
        );
    }
    let sts = Arc::new(StsService::new(config.sts.clone(), sealer));
    let telemetry = Telemetry::new(&config.telemetry).context("cannot set up `[telemetry]`")?;
    let keep_questions = config.console.enabled;
    Ok(Arc::new(Gateway {
        config: Arc::new(config),
        buckets: ArcSwap::from_pointee(buckets),
        credentials: ArcSwap::from_pointee(credentials),
        verifier,
        policies,
        metrics,
        limits,
        quotas,
        health,
        sts,
        telemetry,
        keep_questions,
    }))
}

/// The operator console's state (reads the admin token).
pub fn build_console(config: &Config) -> anyhow::Result<Arc<ConsoleState>> {
    let console = ConsoleState::from_config(&config.console, config.server.admin_listen)
        .context("cannot set up `[console]`")?;
    Ok(Arc::new(console))
}

/// The configured state store.
fn state_store(config: &Config) -> anyhow::Result<Arc<dyn StateStore>> {
    let state = &config.state;
    Ok(match state.store {
        StoreKind::Embedded => Arc::new(EmbeddedStore::new(config.rate_limits.max_tracked_keys)),
        StoreKind::Redis => {
            let settings = RedisSettings {
                url: state.redis_url.clone().unwrap_or_default(),
                key_prefix: state.key_prefix.clone(),
                connect_timeout: Duration::from_millis(state.connect_timeout_ms),
                response_timeout: Duration::from_millis(state.response_timeout_ms),
                lease: Duration::from_secs(state.lease_seconds),
            };
            Arc::new(RedisStore::new(settings).context("invalid `state.redis_url`")?)
        }
    })
}

/// The console's traffic sampler: a baseline at start, then one sample of
/// the request counters every `console.sample_interval_seconds`.
#[derive(Debug)]
struct Sampler {
    metrics: Metrics,
    console: Arc<ConsoleState>,
}

#[async_trait::async_trait]
impl BackgroundService for Sampler {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let console = &self.console;
        if !console.enabled {
            return;
        }
        let mut ticks = tokio::time::interval(console.traffic.interval());
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = ticks.tick() => {
                    let totals = self.metrics.request_totals();
                    console.traffic.observe(totals, std::time::SystemTime::now());
                }
            }
        }
    }
}

/// Housekeeping: probes every backend, scans capped buckets whose usage is unknown (at start, and
/// again whenever the store lost it) and lets the store evict idle state
/// and renew leases.
#[derive(Debug)]
struct Maintenance {
    gateway: Arc<Gateway>,
}

#[async_trait::async_trait]
impl BackgroundService for Maintenance {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let interval = Duration::from_secs(self.gateway.config.state.maintenance_interval_seconds);
        loop {
            let gateway = &self.gateway;
            gateway
                .health
                .probe(&gateway.buckets.load_full(), &gateway.metrics)
                .await;
            gateway
                .quotas
                .scan_unknown(&gateway.buckets.load_full())
                .await;
            if let Err(error) = gateway.quotas.store().maintain().await {
                tracing::debug!(%error, "state store maintenance skipped");
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// Starts reloading the policy directory on change, when configured.
fn watch_policies(gateway: &Arc<Gateway>) -> anyhow::Result<Option<WatchHandle>> {
    let settings = &gateway.config.policies;
    if !settings.watch || gateway.policies.dir().is_none() {
        return Ok(None);
    }
    let debounce = std::time::Duration::from_millis(settings.reload_debounce_ms);
    let observer = Arc::clone(gateway);
    let handle = Arc::clone(&gateway.policies).watch(debounce, move |result| match result {
        Ok(generation) => {
            tracing::info!(generation, "policies reloaded");
            observer.metrics.record_policy_reload(true, *generation);
        }
        Err(error) => {
            tracing::error!(%error, "policy reload refused; the previous policies stay in force");
            observer
                .metrics
                .record_policy_reload(false, observer.policies.generation());
        }
    })?;
    Ok(Some(handle))
}

/// The static credentials the configuration names: the credentials
/// file's; in the embedded default, the development credential of
/// `CEDARGATE_ACCESS_KEY` / `CEDARGATE_SECRET_KEY` when both are set (a
/// config file ignores them, with a warning).
pub fn configured_credentials(config: &Config) -> anyhow::Result<Vec<Credential>> {
    let mut credentials = match &config.credentials.file {
        Some(path) => CredentialStore::from_file(path)
            .with_context(|| format!("cannot load credentials from `{}`", path.display()))?
            .into_credentials(),
        None => Vec::new(),
    };
    let from_env = (
        std::env::var("CEDARGATE_ACCESS_KEY").ok(),
        std::env::var("CEDARGATE_SECRET_KEY").ok(),
    );
    if !config.embedded_default {
        if from_env != (None, None) {
            tracing::warn!(
                "CEDARGATE_ACCESS_KEY / CEDARGATE_SECRET_KEY are ignored with a config file: credentials come from `[credentials] file`"
            );
        }
        return Ok(credentials);
    }
    match from_env {
        (Some(access_key), Some(secret_key)) => {
            credentials.push(Credential::new(access_key, secret_key, "dev"));
        }
        (None, None) => {}
        _ => anyhow::bail!("set both CEDARGATE_ACCESS_KEY and CEDARGATE_SECRET_KEY, or neither"),
    }
    Ok(credentials)
}

/// Warns when no static credential can sign a request (none, or all
/// disabled or expired): every request signed with a static access key
/// will be refused.
pub fn warn_if_no_usable_credential(store: &CredentialStore) {
    let now = std::time::SystemTime::now();
    let usable = |credential: &Arc<Credential>| credential.enabled && !credential.is_expired(now);
    if !store.iter().any(usable) {
        tracing::warn!(
            credentials = store.len(),
            "no usable static credential (none, or all disabled or expired): every request signed with a static access key is refused"
        );
    }
}

/// Reloads the credentials: validate, then swap. A file that does not
/// load leaves the current credentials in force. Requests in flight keep
/// the snapshot they loaded.
pub fn reload_credentials(gateway: &Gateway) -> anyhow::Result<usize> {
    let store = configured_credentials(&gateway.config)
        .and_then(|credentials| Ok(CredentialStore::from_credentials(credentials)?))?;
    let count = store.len();
    warn_if_no_usable_credential(&store);
    gateway.credentials.store(Arc::new(store));
    gateway.metrics.set_credential_count(count);
    Ok(count)
}

/// Reloads the bucket -> backend map from the config file: parse and
/// validate the whole file, build its backends, then swap. Requests in
/// flight keep the map they started with. Only `[backends]` and the
/// buckets' `backend`, `backend_bucket`, `prefix` and `cors_rules` take
/// effect; a changed
/// `quota` or `anonymous_rate_limit`, and every other table, needs a
/// restart (logged).
pub fn reload_buckets(gateway: &Gateway, path: &std::path::Path) -> anyhow::Result<usize> {
    let config = Config::from_file(path)?;
    let buckets = build_buckets(&config)?;
    for (name, bucket) in &config.buckets {
        let running = gateway.config.buckets.get(name);
        let limits =
            |b: &crate::config::BucketConfig| format!("{:?} {:?}", b.quota, b.anonymous_rate_limit);
        if running.map(limits).as_deref().unwrap_or("None None") != limits(bucket) {
            tracing::warn!(bucket = %name, "a quota or anonymous rate limit changes only at restart");
        }
    }
    let count = buckets.iter().count();
    gateway.buckets.store(Arc::new(buckets));
    Ok(count)
}

/// Watches `file` (through its directory, so replacing it counts too) and
/// runs `reload` after each debounced change, logging what it said.
fn watch_file(
    gateway: &Arc<Gateway>,
    file: &std::path::Path,
    what: &'static str,
    reload: impl Fn(&Gateway) -> anyhow::Result<usize> + Send + 'static,
) -> anyhow::Result<WatchHandle> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let debounce = std::time::Duration::from_millis(gateway.config.policies.reload_debounce_ms);
    let observer = Arc::clone(gateway);
    let name = file.file_name().map(std::ffi::OsStr::to_owned);
    watch_files(
        &dir,
        debounce,
        move |path| path.file_name().map(std::ffi::OsStr::to_owned) == name,
        move || match reload(&observer) {
            Ok(count) => tracing::info!(what, count, "reloaded"),
            Err(error) => tracing::error!(
                what,
                error = %format!("{error:#}"),
                "reload refused; what was loaded before stays in force"
            ),
        },
    )
    .with_context(|| format!("cannot watch `{}`", dir.display()))
}

/// Serves on the `listeners` bound for the gateway's config until the
/// process is told to stop; never returns on success. With `config_file`,
/// its `[buckets]` and `[backends]` reload on change.
pub fn run(
    gateway: Arc<Gateway>,
    listeners: &BoundListeners,
    config_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let config = gateway.config.clone();
    let console = build_console(&config)?;
    let conf = ServerConf {
        threads: config.server.threads,
        grace_period_seconds: Some(config.server.grace_period_seconds),
        graceful_shutdown_timeout_seconds: Some(config.server.grace_period_seconds),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let admin_app = AdminApp::new(Arc::clone(&gateway), Arc::clone(&console));
    let sampler = background_service(
        "console sampler",
        Sampler {
            metrics: gateway.metrics.clone(),
            console: Arc::clone(&console),
        },
    );
    let maintenance = background_service(
        "maintenance",
        Maintenance {
            gateway: Arc::clone(&gateway),
        },
    );
    let gateway_for_watch = Arc::clone(&gateway);
    let limits = ConnectionLimits {
        max_connections: config.server.max_connections,
        header_timeout: Duration::from_secs(config.server.header_timeout_seconds),
        dialect: Dialect::S3(config.s3.error_profile),
    };
    let body_timeout = Duration::from_secs(config.server.body_timeout_seconds);
    let proxy = pingora::proxy::http_proxy(
        &server.configuration,
        S3Proxy::new(gateway, console, body_timeout),
    );
    let mut s3 = Service::new("s3".to_owned(), GuardedApp::new(proxy, limits));
    s3.add_tcp(&config.server.listen.to_string());
    if let Some(tls) = &config.server.tls {
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        s3.add_tls(
            &tls.listen.to_string(),
            &path(&tls.cert_file),
            &path(&tls.key_file),
        )
        .map_err(|e| anyhow::anyhow!("cannot set up the TLS listener: {e}"))?;
    }
    let admin_limits = ConnectionLimits {
        max_connections: config.server.admin_max_connections,
        header_timeout: Duration::from_secs(config.server.admin_header_timeout_seconds),
        dialect: Dialect::Plain,
    };
    let mut admin = Service::new("admin".to_owned(), GuardedApp::new(admin_app, admin_limits));
    admin.add_tcp(&config.server.admin_listen.to_string());
    server.add_service(listeners.serve(s3));
    server.add_service(listeners.serve(admin));
    server.add_service(maintenance);
    server.add_service(sampler);
    // Held for the life of the process: run_forever never returns.
    let _policy_watch = watch_policies(&gateway_for_watch)?;
    let _credential_watch = match gateway_for_watch.config.credentials.file.clone() {
        Some(file) => Some(watch_file(
            &gateway_for_watch,
            &file,
            "credentials",
            reload_credentials,
        )?),
        None => None,
    };
    let _config_watch = match config_file {
        Some(file) => {
            let path = file.to_owned();
            Some(watch_file(
                &gateway_for_watch,
                file,
                "bucket map",
                move |gateway| reload_buckets(gateway, &path),
            )?)
        }
        None => None,
    };
    let bound = |field| {
        listeners
            .local_addr(field)
            .map_or_else(|| "off".to_owned(), |address| address.to_string())
    };
    tracing::info!(
        s3 = %bound("server.listen"),
        s3_tls = %bound("server.tls.listen"),
        admin = %bound("server.admin_listen"),
        "cedargate listening"
    );
    server.run_forever()
}
