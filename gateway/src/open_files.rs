//! The process's file-descriptor budget (`RLIMIT_NOFILE`), set at start.
//!
//! Every client connection, upstream connection and open object file is a
//! descriptor; a process out of them fails every `accept`, on every
//! listener. At start the soft limit is raised to the hard one, and the
//! gateway warns when its listeners' connection caps together could take
//! more than the limit leaves after a reserve for upstream connections,
//! files and the state store. The admin listener's cap is small, so a flood
//! there cannot take the descriptors the S3 listener needs.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

use crate::config::Config;

/// Descriptors kept out of the connection caps' share: upstream
/// connections, object files, the state store, logs, listeners.
pub const RESERVED: u64 = 256;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit when it is lower;
/// the soft limit in force afterwards (`None`: unlimited or unknown).
pub fn raise_limit() -> Option<u64> {
    let current = getrlimit(Resource::Nofile);
    let (Some(soft), hard) = (current.current, current.maximum) else {
        return None;
    };
    let target = hard.unwrap_or(u64::MAX);
    if soft >= target {
        return Some(soft);
    }
    let raised = Rlimit {
        current: hard,
        maximum: hard,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            tracing::debug!(from = soft, to = ?hard, "raised the open-file limit");
            hard
        }
        Err(error) => {
            tracing::warn!(%error, soft, "cannot raise the open-file limit");
            Some(soft)
        }
    }
}

/// Descriptors the listeners of `config` may hold at once, with the reserve.
pub fn wanted(config: &Config) -> u64 {
    let connections = config
        .server
        .max_connections
        .saturating_add(config.server.admin_max_connections);
    u64::try_from(connections)
        .unwrap_or(u64::MAX)
        .saturating_add(RESERVED)
}

/// Raises the limit and warns when `config`'s connection caps do not fit
/// in it.
pub fn check(config: &Config) {
    let Some(limit) = raise_limit() else {
        return;
    };
    let wanted = wanted(config);
    if wanted > limit {
        tracing::warn!(
            limit,
            wanted,
            "the open-file limit is lower than `server.max_connections` + `server.admin_max_connections` + {RESERVED}: under load, connections may be refused with \"Too many open files\"; raise the limit (ulimit -n, LimitNOFILE=) or lower the caps"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_one() {
        let soft = raise_limit();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(soft, now.current);
        assert_eq!(now.current, now.maximum);
    }

    #[test]
    fn both_caps_and_the_reserve_count() {
        let mut config = Config::embedded_default();
        config.server.max_connections = 1000;
        config.server.admin_max_connections = 10;
        assert_eq!(wanted(&config), 1010 + RESERVED);
    }
}
