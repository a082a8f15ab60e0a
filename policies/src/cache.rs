//! Per-thread caches of the extension-value expressions a request context
//! needs (`ip("...")`, `datetime("...")`).
//!
//! Cedar's public constructors for them parse the function name with the
//! policy parser on every call, which costs ~5 µs each — more than
//! evaluating a dozen policies. The expressions are immutable and cheap to
//! clone, so each worker thread keeps the ones it built: client addresses
//! repeat, and request times are truncated to the second, so the time
//! cache hits for every request after the first in each second.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::SystemTime;

use cedar_policy::RestrictedExpression;

use crate::time::{cedar_datetime, unix_seconds};

/// Addresses kept per thread before the cache starts over.
const MAX_IPS: usize = 4096;

thread_local! {
    static IPS: RefCell<HashMap<IpAddr, RestrictedExpression>> = RefCell::new(HashMap::new());
    static SECOND: RefCell<Option<(i64, RestrictedExpression)>> = const { RefCell::new(None) };
}

/// `ip("<ip>")`.
pub(crate) fn ip(ip: IpAddr) -> RestrictedExpression {
    IPS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return RestrictedExpression::new_ip(ip.to_string());
        };
        if let Some(expression) = cache.get(&ip) {
            return expression.clone();
        }
        if cache.len() >= MAX_IPS {
            cache.clear();
        }
        let expression = RestrictedExpression::new_ip(ip.to_string());
        cache.insert(ip, expression.clone());
        expression
    })
}

/// `datetime("<t, truncated to the second>")`.
pub(crate) fn datetime(t: SystemTime) -> Result<RestrictedExpression, String> {
    let second = unix_seconds(t);
    SECOND.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return Ok(RestrictedExpression::new_datetime(cedar_datetime(second)?));
        };
        if let Some((cached, expression)) = cache.as_ref()
            && *cached == second
        {
            return Ok(expression.clone());
        }
        let expression = RestrictedExpression::new_datetime(cedar_datetime(second)?);
        *cache = Some((second, expression.clone()));
        Ok(expression)
    })
}
