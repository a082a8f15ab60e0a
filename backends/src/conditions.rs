//! Preconditions and byte ranges, evaluated the same way by every backend
//! that answers reads itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{BackendError, ObjectMeta};

/// Request preconditions (`If-Match`, `If-None-Match`, `If-Modified-Since`,
/// `If-Unmodified-Since`, or their `x-amz-copy-source-if-*` forms).
///
/// ETag lists are kept as sent by the client (comma separated, quoted or
/// not, or `*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `If-Match`.
    pub if_match: Option<String>,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<SystemTime>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<SystemTime>,
}

impl Conditions {
    /// True when no precondition is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Evaluates the preconditions against an existing object, with S3's
    /// precedence (RFC 7232 section 6): If-Match, else If-Unmodified-Since;
    /// then If-None-Match, else If-Modified-Since. `for_read` selects 304
    /// (reads) rather than 412 (writes, copies) for a failed If-None-Match.
    pub fn evaluate(&self, meta: &ObjectMeta, for_read: bool) -> Result<(), BackendError> {
        let modified = truncate_to_seconds(meta.last_modified);
        match &self.if_match {
            Some(list) => {
                if !etag_list_matches(list, &meta.etag) {
                    return Err(BackendError::PreconditionFailed);
                }
            }
            None => {
                if let Some(since) = self.if_unmodified_since
                    && modified > truncate_to_seconds(since)
                {
                    return Err(BackendError::PreconditionFailed);
                }
            }
        }
        let not_modified = || {
            if for_read {
                BackendError::NotModified {
                    etag: meta.etag.clone(),
                    last_modified: meta.last_modified,
                }
            } else {
                BackendError::PreconditionFailed
            }
        };
        match &self.if_none_match {
            Some(list) => {
                if etag_list_matches(list, &meta.etag) {
                    return Err(not_modified());
                }
            }
            None => {
                if let Some(since) = self.if_modified_since
                    && modified <= truncate_to_seconds(since)
                {
                    return Err(not_modified());
                }
            }
        }
        Ok(())
    }

    /// Evaluates the preconditions of a write against the current object
    /// (`None` when the key does not exist): `If-None-Match: *` fails when
    /// the key exists, `If-Match` fails when it does not or differs.
    pub fn evaluate_write(&self, current: Option<&ObjectMeta>) -> Result<(), BackendError> {
        match current {
            Some(meta) => self.evaluate(meta, false),
            None if self.if_match.is_some() => Err(BackendError::NoSuchKey),
            None => Ok(()),
        }
    }
}

/// True when `list` (`*` or comma-separated ETags, quoted or weak) names `etag`.
pub fn etag_list_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        candidate == "*"
            || candidate
                .trim_start_matches("W/")
                .trim_matches('"')
                .eq(etag.trim_matches('"'))
    })
}

fn truncate_to_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A requested byte range (`Range: bytes=...`), before it is resolved
/// against an object's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-` or `bytes=first-last` (inclusive).
    FromTo {
        /// First byte.
        first: u64,
        /// Last byte, inclusive; `None` for "to the end".
        last: Option<u64>,
    },
    /// `bytes=-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a single-range `bytes=` header value; `None` when it is not
    /// one (S3 then ignores the header and serves the whole object).
    pub fn parse(value: &str) -> Option<Self> {
        let spec = value.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() {
            return last.parse().ok().map(Self::Suffix);
        }
        let first: u64 = first.parse().ok()?;
        let last = if last.is_empty() {
            None
        } else {
            let last: u64 = last.parse().ok()?;
            if last < first {
                return None;
            }
            Some(last)
        };
        Some(Self::FromTo { first, last })
    }

    /// Resolves the range against an object of `size` bytes into an
    /// inclusive `(first, last)` pair, or [`BackendError::InvalidRange`].
    pub fn resolve(&self, size: u64) -> Result<(u64, u64), BackendError> {
        let invalid = BackendError::InvalidRange { size };
        match *self {
            Self::FromTo { first, last } => {
                if first >= size {
                    return Err(invalid);
                }
                let last = last.map_or(size - 1, |last| last.min(size - 1));
                Ok((first, last))
            }
            Self::Suffix(0) => Err(invalid),
            Self::Suffix(n) => {
                if size == 0 {
                    return Err(invalid);
                }
                Ok((size.saturating_sub(n), size - 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn meta(etag: &str, secs: u64) -> ObjectMeta {
        ObjectMeta {
            key: "k".into(),
            size: 10,
            etag: etag.into(),
            last_modified: UNIX_EPOCH + Duration::from_secs(secs),
            headers: Default::default(),
            user_metadata: BTreeMap::new(),
            parts_count: None,
            version_id: None,
            checksum: None,
        }
    }

    #[test]
    fn ranges_resolve_as_s3_does() {
        let cases = [
            ("bytes=0-4", 10, Some((0, 4))),
            ("bytes=5-", 10, Some((5, 9))),
            ("bytes=5-100", 10, Some((5, 9))),
            ("bytes=-3", 10, Some((7, 9))),
            ("bytes=-30", 10, Some((0, 9))),
            ("bytes=10-", 10, None),
            ("bytes=0-0", 0, None),
            ("bytes=-0", 10, None),
        ];
        for (header, size, expected) in cases {
            let range = ByteRange::parse(header).unwrap_or_else(|| unreachable!("{header}"));
            assert_eq!(range.resolve(size).ok(), expected, "{header} of {size}");
        }
        for ignored in ["bytes=5-2", "items=0-1", "bytes=0-1,3-4", "bytes=x-"] {
            assert_eq!(ByteRange::parse(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn conditions_follow_rfc7232_precedence() {
        let m = meta("abc", 1000);
        let at = |s| Some(UNIX_EPOCH + Duration::from_secs(s));
        let ok = Conditions::default();
        assert!(ok.evaluate(&m, true).is_ok());
        let c = Conditions {
            if_match: Some("\"abc\"".into()),
            if_unmodified_since: at(10),
            ..ok.clone()
        };
        assert!(
            c.evaluate(&m, true).is_ok(),
            "If-Match wins over If-Unmodified-Since"
        );
        let c = Conditions {
            if_match: Some("\"x\", \"y\"".into()),
            ..ok.clone()
        };
        assert!(matches!(
            c.evaluate(&m, true),
            Err(BackendError::PreconditionFailed)
        ));
        let c = Conditions {
            if_none_match: Some("*".into()),
            ..ok.clone()
        };
        assert!(matches!(
            c.evaluate(&m, true),
            Err(BackendError::NotModified { .. })
        ));
        assert!(matches!(
            c.evaluate(&m, false),
            Err(BackendError::PreconditionFailed)
        ));
        let c = Conditions {
            if_none_match: Some("\"zzz\"".into()),
            if_modified_since: at(5000),
            ..ok.clone()
        };
        assert!(
            c.evaluate(&m, true).is_ok(),
            "If-None-Match wins over If-Modified-Since"
        );
        let c = Conditions {
            if_modified_since: at(1000),
            ..ok.clone()
        };
        assert!(matches!(
            c.evaluate(&m, true),
            Err(BackendError::NotModified { .. })
        ));
        let c = Conditions {
            if_modified_since: at(999),
            ..ok.clone()
        };
        assert!(c.evaluate(&m, true).is_ok());
        let c = Conditions {
            if_unmodified_since: at(999),
            ..ok.clone()
        };
        assert!(matches!(
            c.evaluate(&m, true),
            Err(BackendError::PreconditionFailed)
        ));
        let c = Conditions {
            if_match: Some("*".into()),
            ..ok
        };
        assert!(matches!(
            c.evaluate_write(None),
            Err(BackendError::NoSuchKey)
        ));
    }
}
