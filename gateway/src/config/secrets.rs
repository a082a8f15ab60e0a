//! Files that hold secrets and who may read them: at start, one WARN line
//! names each such file that its group or other users may read (mode
//! `& 0o077` on unix), as ssh does for private keys. The line never shows
//! what the file holds; the start goes on.
//!
//! The files: the credentials file, the console's admin token file, the
//! TLS private key (`server.tls.key_file`), and the config file itself
//! when it holds a secret inline (a backend's `secret_key`, a seal key's
//! `key`, a `state.redis_url` with a password in its user info or its
//! query).

use std::path::{Path, PathBuf};

use super::{BackendConfig, Config};

impl Config {
    /// Whether the config text itself holds a secret.
    pub fn holds_secrets(&self) -> bool {
        let backend_secret = self.backends.values().any(|backend| match backend {
            BackendConfig::S3(upstream) => upstream.secret_key.is_some(),
            BackendConfig::Gcs(upstream) => upstream.secret_key.is_some(),
            BackendConfig::Fs { .. } => false,
        });
        let seal_key = self.sts.seal_keys.iter().any(|key| key.key.is_some());
        let redis_password = self
            .state
            .redis_url
            .as_deref()
            .is_some_and(|url| url.contains('@') || crate::state::url_holds_password(url));
        backend_secret || seal_key || redis_password
    }

    /// The files holding secrets: the credentials file, the admin token
    /// file, the TLS private key, and `config_path` when
    /// [`Self::holds_secrets`].
    pub fn secret_files(&self, config_path: Option<&Path>) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = config_path
            .filter(|_| self.holds_secrets())
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        files.extend(self.credentials.file.clone());
        files.extend(self.console.admin_token_file.clone());
        files.extend(self.server.tls.as_ref().map(|tls| tls.key_file.clone()));
        files
    }
}

/// Whether `path` exists and its group or other users may read or write it
/// (always false where modes do not exist).
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Logs one WARN line for each of `config`'s secret files that others may
/// read; `config_path` is the config file, when there is one.
pub fn warn_about_readable_secret_files(config: &Config, config_path: Option<&Path>) {
    for file in config.secret_files(config_path) {
        if readable_by_others(&file) {
            tracing::warn!(
                file = %file.display(),
                "a file holding secrets is readable by its group or others; restrict it (chmod 600)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn group_or_world_access_is_noticed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("credentials.toml");
        std::fs::write(&file, "secret").expect("write");
        for (mode, shared) in [(0o600, false), (0o400, false), (0o640, true), (0o604, true)] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
            assert_eq!(readable_by_others(&file), shared, "{mode:o}");
        }
        assert!(!readable_by_others(&dir.path().join("missing")));
    }

    #[test]
    fn inline_secrets_make_the_config_a_secret_file() {
        let plain = Config::from_str("").expect("config");
        assert!(!plain.holds_secrets());
        assert!(plain.secret_files(Some(Path::new("c.toml"))).is_empty());
        let sealed = Config::from_str(
            "[sts]\nseal_keys = [{ id = \"k\", key = \"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\" }]\n",
        )
        .expect("config");
        assert!(sealed.holds_secrets());
        assert_eq!(
            sealed.secret_files(Some(Path::new("c.toml"))),
            [PathBuf::from("c.toml")]
        );
    }

    #[test]
    fn a_redis_password_in_the_query_makes_the_config_a_secret_file() {
        let table = [
            ("redis://127.0.0.1:6379/0", false),
            ("redis://app:pw@127.0.0.1:6379/0", true),
            ("redis+unix:///run/redis.sock?db=1&pass=pw", true),
            ("unix:///run/redis.sock?password=pw", true),
        ];
        for (url, secret) in table {
            let config =
                Config::from_str(&format!("[state]\nredis_url = \"{url}\"\n")).expect("config");
            assert_eq!(config.holds_secrets(), secret, "{url}");
        }
    }

    #[test]
    fn the_tls_private_key_is_a_secret_file() {
        let config = Config::from_str(
            "[server.tls]\nlisten = \"127.0.0.1:9443\"\ncert_file = \"/etc/cg/cert.pem\"\nkey_file = \"/etc/cg/key.pem\"\n",
        )
        .expect("config");
        assert_eq!(
            config.secret_files(Some(Path::new("c.toml"))),
            [PathBuf::from("/etc/cg/key.pem")]
        );
    }
}
