//! The stamp of a data file, its size and modification time in
//! nanoseconds: what a metadata sidecar records, and must match, to
//! describe the file.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Size and modification time of a data file: what a sidecar must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    /// Length in bytes.
    pub size: u64,
    /// Modification time in ns since the Unix epoch (negative before it).
    pub mtime_ns: i64,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(metadata: &std::fs::Metadata) -> std::io::Result<Self> {
        Ok(Self {
            size: metadata.len(),
            mtime_ns: time_to_ns(metadata.modified()?),
        })
    }

    /// The modification time as a `SystemTime`.
    pub fn last_modified(&self) -> SystemTime {
        ns_to_time(self.mtime_ns)
    }
}

/// Nanoseconds since the epoch, saturating outside +-292 years.
pub(super) fn time_to_ns(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |ns| -ns),
    }
}

/// The inverse of [`time_to_ns`].
pub(super) fn ns_to_time(ns: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(ns.unsigned_abs());
    if ns >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_nanoseconds() {
        for ns in [0, 1, 1_700_000_000_123_456_789, -5_000_000_001] {
            assert_eq!(time_to_ns(ns_to_time(ns)), ns);
        }
    }
}
