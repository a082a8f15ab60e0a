//! Request times as Cedar `datetime` literals, to the second.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

/// Whole seconds since the Unix epoch (rounded down, also before it).
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                whole.saturating_neg().saturating_sub(1)
            } else {
                whole.saturating_neg()
            }
        }
    }
}

/// `second` (Unix time) as `YYYY-MM-DDThh:mm:ssZ`, a form Cedar's
/// `datetime()` takes.
pub(crate) fn cedar_datetime(second: i64) -> Result<String, String> {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(second)
        .map_err(|error| format!("cannot represent the request time: {error}"))?
        .format(format)
        .map_err(|error| format!("cannot format the request time: {error}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_utc_to_the_second() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_999);
        assert_eq!(unix_seconds(t), 1_700_000_000);
        assert_eq!(
            cedar_datetime(unix_seconds(t)).unwrap(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(cedar_datetime(0).unwrap(), "1970-01-01T00:00:00Z");
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(unix_seconds(before), -2);
        assert_eq!(cedar_datetime(-2).unwrap(), "1969-12-31T23:59:58Z");
    }
}
