//! Config loading and validation cases.

use super::*;

const EXAMPLE: &str = r#"
    [server]
    listen = "127.0.0.1:19000"
    admin_listen = "127.0.0.1:19001"

    [s3]
    error_profile = "aws"
    virtual_host_suffixes = ["s3.example.test"]

    [backends.local]
    kind = "fs"
    root = "/tmp/cedargate"

    [buckets.photos]
    backend = "local"
    backend_bucket = "photos-store"
"#;

#[test]
fn a_full_file_parses() {
    let config = Config::from_str(EXAMPLE).unwrap();
    assert_eq!(config.s3.error_profile, ErrorProfile::Aws);
    assert_eq!(config.server.listen.port(), 19000);
    assert_eq!(
        config.buckets["photos"].backend_bucket.as_deref(),
        Some("photos-store")
    );
}

#[test]
fn fs_backends_read_inline_and_write_durably_unless_told_otherwise() {
    let fs_options = |config: &Config| match &config.backends["local"] {
        BackendConfig::Fs {
            durable_writes,
            inline_reads,
            ..
        } => (*durable_writes, *inline_reads),
        other => panic!("not an fs backend: {other:?}"),
    };
    assert_eq!(
        fs_options(&Config::from_str(EXAMPLE).unwrap()),
        (true, true)
    );
    let text = EXAMPLE.replace(
        "root = \"/tmp/cedargate\"",
        "root = \"/tmp/cedargate\"\ndurable_writes = false\ninline_reads = false",
    );
    assert_eq!(
        fs_options(&Config::from_str(&text).unwrap()),
        (false, false)
    );
}

#[test]
fn limits_quotas_and_the_state_store_parse() {
    let text = format!(
        "{}{}",
        EXAMPLE.replace(
            "backend_bucket = \"photos-store\"",
            "quota = { hard = \"10 MiB\", soft = 5000000 }"
        ),
        r#"
        [rate_limits]
        global = { rate = 500, burst = 1000 }
        source_ip = { rate = 0.5, burst = 10 }
        trusted_proxies = ["10.0.0.0/8", "2001:db8::1", "192.0.2.7"]
        [rate_limits.credentials]
        AKIASLOW = { rate = 1, burst = 2 }
        [state]
        store = "redis"
        redis_url = "redis://127.0.0.1:6379/"
        "#
    );
    let config = Config::from_str(&text).unwrap();
    let quota = config.buckets["photos"].quota.unwrap();
    assert_eq!(quota.hard.map(|s| s.as_u64()), Some(10 * 1024 * 1024));
    assert_eq!(quota.soft.map(|s| s.as_u64()), Some(5_000_000));
    assert_eq!(config.rate_limits.source_ip.unwrap().burst, 10);
    assert_eq!(config.rate_limits.credentials["AKIASLOW"].rate, 1.0);
    assert_eq!(config.rate_limits.trusted_proxies.len(), 3);
    assert_eq!(config.state.store, StoreKind::Redis);
}

#[test]
fn upstream_backends_parse_and_never_show_their_secret() {
    let text = format!(
        "{EXAMPLE}{}",
        r#"
        [backends.up]
        kind = "s3"
        endpoint = "http://127.0.0.1:9999"
        access_key = "AK"
        secret_key = "inline-secret-value"
        [backends.cloud]
        kind = "gcs"
        access_key = "GOOG"
        secret_key_env = "CEDARGATE_TEST_UNSET_VARIABLE"
        "#
    );
    let config = Config::from_str(&text).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("inline-secret-value"), "{shown}");
    let BackendConfig::Gcs(gcs) = &config.backends["cloud"] else {
        panic!("not gcs")
    };
    assert_eq!(gcs.endpoint, "https://storage.googleapis.com");
    assert_eq!(gcs.as_upstream().region, "auto");
    let missing = gcs.as_upstream().secret("backends.cloud").unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("backends.cloud.secret_key_env")
    );
    let both = text.replace(
        "secret_key_env = \"CEDARGATE_TEST_UNSET_VARIABLE\"",
        "secret_key = \"a\"\nsecret_key_env = \"B\"",
    );
    let err = Config::from_str(&both).unwrap_err().to_string();
    assert!(err.contains("backends.cloud.secret_key"), "{err}");
}

#[test]
fn the_embedded_default_is_valid() {
    let config = Config::embedded_default().validate().unwrap();
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:9000");
    assert_eq!(config.server.admin_listen.to_string(), "127.0.0.1:9001");
    assert_eq!(config.buckets.len(), 2);
    assert!(config.embedded_default);
}

#[test]
fn a_config_file_is_never_the_embedded_default() {
    for text in ["", EXAMPLE] {
        assert!(!Config::from_str(text).unwrap().embedded_default);
    }
    let refused = Config::from_str("embedded_default = true").unwrap_err();
    assert!(
        refused.to_string().contains("embedded_default"),
        "{refused}"
    );
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (
            EXAMPLE.replace("backend = \"local\"", "backend = \"nope\""),
            "buckets.photos.backend",
        ),
        (
            EXAMPLE.replace("[buckets.photos]", "[buckets.Bad_Name]"),
            "buckets.Bad_Name",
        ),
        (
            EXAMPLE.replace("error_profile = \"aws\"", "error_profile = \"loose\""),
            "error_profile",
        ),
        (EXAMPLE.replace("[s3]", "[s3]\nregoin = \"x\""), "regoin"),
        (
            format!("{EXAMPLE}\n[backends.zzz]\nkind = \"fs\"\nroot = \"/tmp/cedargate\"\n"),
            "backends.zzz.root",
        ),
        (
            format!("{EXAMPLE}\n[default_route]\nbackend = \"nope\"\n"),
            "default_route.backend",
        ),
        (
            format!("{EXAMPLE}\n[default_route]\nbackend = \"local\"\nbucket_prefix = \"Bad_\"\n"),
            "default_route.bucket_prefix",
        ),
        (
            EXAMPLE.replace("root = \"/tmp/cedargate\"", "root = \"/tmp\"\nbucket = 1"),
            "bucket",
        ),
        (EXAMPLE.replace("19001", "19000"), "server.admin_listen"),
        (
            EXAMPLE.replace("s3.example.test", ".bad"),
            "s3.virtual_host_suffixes[0]",
        ),
        (
            format!("{EXAMPLE}\n[rate_limits]\nglobal = {{ rate = 0, burst = 1 }}\n"),
            "rate_limits.global.rate",
        ),
        (
            format!("{EXAMPLE}\n[rate_limits.credentials]\nAKID = {{ rate = 1, burst = 0 }}\n"),
            "rate_limits.credentials.AKID.burst",
        ),
        (
            format!("{EXAMPLE}\n[rate_limits]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"),
            "trusted_proxies",
        ),
        (
            format!("{EXAMPLE}\n[state]\nstore = \"redis\"\n"),
            "state.redis_url",
        ),
        (
            format!("{EXAMPLE}\n[state]\nlease_seconds = 2\nmaintenance_interval_seconds = 5\n"),
            "state.maintenance_interval_seconds",
        ),
        (
            EXAMPLE.replace(
                "backend_bucket = \"photos-store\"",
                "quota = { soft = \"2 MiB\", hard = \"1 MiB\" }",
            ),
            "buckets.photos.quota.soft",
        ),
        (
            EXAMPLE.replace(
                "backend_bucket = \"photos-store\"",
                "prefix = \"tenants/acme\"",
            ),
            "buckets.photos.prefix",
        ),
        (
            EXAMPLE.replace(
                "backend_bucket = \"photos-store\"",
                "prefix = \"tenants/../other/\"",
            ),
            "buckets.photos.prefix",
        ),
        (
            EXAMPLE.replace(
                "backend_bucket = \"photos-store\"",
                "prefix = \"tenants//acme/\"",
            ),
            "buckets.photos.prefix",
        ),
        (
            EXAMPLE.replace("backend_bucket = \"photos-store\"", "prefix = \"./acme/\""),
            "buckets.photos.prefix",
        ),
        (
            EXAMPLE.replace("backend_bucket = \"photos-store\"", "quota = {}"),
            "buckets.photos.quota",
        ),
        (
            EXAMPLE.replace(
                "backend_bucket = \"photos-store\"",
                "quota = { hard = \"lots\" }",
            ),
            "hard",
        ),
    ];
    for (text, field) in cases {
        let err = Config::from_str(&text).unwrap_err().to_string();
        assert!(err.contains(field), "`{field}` not named in: {err}");
    }
}

#[test]
fn the_admin_listener_limits_are_bounded_and_named_when_wrong() {
    let config = Config::from_str(EXAMPLE).unwrap();
    assert_eq!(config.server.admin_max_connections, 64);
    assert_eq!(config.server.admin_header_timeout_seconds, 5);
    assert_eq!(config.server.admin_body_timeout_seconds, 10);
    let cases = [
        ("admin_max_connections = 0", "server.admin_max_connections"),
        (
            "admin_max_connections = 1025",
            "server.admin_max_connections",
        ),
        (
            "admin_header_timeout_seconds = 0",
            "server.admin_header_timeout_seconds",
        ),
        (
            "admin_body_timeout_seconds = 0",
            "server.admin_body_timeout_seconds",
        ),
    ];
    for (line, field) in cases {
        let text = EXAMPLE.replace(
            "admin_listen = \"127.0.0.1:19001\"",
            &format!("admin_listen = \"127.0.0.1:19001\"\n{line}"),
        );
        let error = Config::from_str(&text).unwrap_err().to_string();
        assert!(error.contains(&format!("`{field}`")), "{line}: {error}");
    }
}
