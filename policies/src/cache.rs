//! Per-thread caches of what requests share:
//!
//! - the extension-value expressions a request context needs (`ip("...")`,
//!   `datetime("...")`). Cedar's public constructors for them parse the
//!   function name with the policy parser on every call, which costs ~5 µs
//!   each — more than evaluating a dozen policies. Client addresses repeat,
//!   and request times are truncated to the second, so the time cache hits
//!   for every request after the first in each second;
//! - the entities of a static credential together with one action. Cedar
//!   computes the transitive closure of an entity store when it is built;
//!   a request then adds only its resource to a copy of the shared store,
//!   which closes over the one new entity instead of all of them.
//!
//! Everything cached is immutable and cheap to clone (Cedar values are
//! reference counted), and each cache starts over when it is full.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::time::SystemTime;

use cedar_policy::{Entities, RestrictedExpression};

use crate::time::{cedar_datetime, unix_seconds};

/// Addresses kept per thread before the cache starts over.
const MAX_IPS: usize = 4096;

/// (credential, action) entity stores kept per thread.
const MAX_PRINCIPALS: usize = 1024;

thread_local! {
    static IPS: RefCell<HashMap<IpAddr, RestrictedExpression>> = RefCell::new(HashMap::new());
    static SECOND: RefCell<Option<(i64, RestrictedExpression)>> = const { RefCell::new(None) };
    static PRINCIPALS: RefCell<HashMap<u64, Vec<(PrincipalKey, Entities)>>> =
        RefCell::new(HashMap::new());
}

/// What a static credential's entity and its action entity are built
/// from: with the same key, the same entities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalKey {
    /// Which principal attributes the policy set reads (a bit each).
    pub(crate) attributes: u8,
    pub(crate) name: String,
    pub(crate) access_key: String,
    pub(crate) groups: Vec<String>,
    pub(crate) action: &'static str,
}

/// The same fields borrowed, to look a key up without building it.
#[derive(Clone, Copy)]
pub(crate) struct PrincipalRefKey<'a> {
    pub(crate) attributes: u8,
    pub(crate) name: &'a str,
    pub(crate) access_key: &'a str,
    pub(crate) groups: &'a [String],
    pub(crate) action: &'static str,
}

impl PrincipalRefKey<'_> {
    fn hash(&self) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        (
            self.attributes,
            self.name,
            self.access_key,
            self.groups,
            self.action,
        )
            .hash(&mut hasher);
        hasher.finish()
    }

    fn is(&self, key: &PrincipalKey) -> bool {
        self.attributes == key.attributes
            && self.name == key.name
            && self.access_key == key.access_key
            && self.groups == key.groups.as_slice()
            && self.action == key.action
    }

    fn to_owned(self) -> PrincipalKey {
        PrincipalKey {
            attributes: self.attributes,
            name: self.name.to_owned(),
            access_key: self.access_key.to_owned(),
            groups: self.groups.to_vec(),
            action: self.action,
        }
    }
}

/// The entity store `key` describes: the cached one, or the one `build`
/// makes (then cached).
pub(crate) fn principal_entities(
    key: PrincipalRefKey<'_>,
    build: impl FnOnce() -> Result<Entities, String>,
) -> Result<Entities, String> {
    let hash = key.hash();
    let cached = PRINCIPALS.with(|cache| {
        let cache = cache.try_borrow().ok()?;
        let entries = cache.get(&hash)?;
        entries
            .iter()
            .find(|(stored, _)| key.is(stored))
            .map(|(_, entities)| entities.clone())
    });
    if let Some(entities) = cached {
        return Ok(entities);
    }
    let entities = build()?;
    PRINCIPALS.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return;
        };
        if cache.len() >= MAX_PRINCIPALS {
            cache.clear();
        }
        cache
            .entry(hash)
            .or_default()
            .push((key.to_owned(), entities.clone()));
    });
    Ok(entities)
}

/// `ip("<ip>")`. An IPv4 address mapped into IPv6 (`::ffff:10.1.2.3`,
/// how a dual-stack socket reports an IPv4 client) is given as the IPv4
/// address: Cedar refuses the mapped form, and `isInRange` must match it
/// against IPv4 ranges.
pub(crate) fn ip(ip: IpAddr) -> RestrictedExpression {
    let ip = ip.to_canonical();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(name: &'a str, groups: &'a [String], action: &'static str) -> PrincipalRefKey<'a> {
        PrincipalRefKey {
            attributes: 0,
            name,
            access_key: "AK",
            groups,
            action,
        }
    }

    /// How many times `build` ran for the lookups of `keys`, in order.
    fn builds(keys: &[PrincipalRefKey<'_>]) -> usize {
        PRINCIPALS.with(|cache| cache.borrow_mut().clear());
        let mut built = 0;
        for key in keys {
            principal_entities(*key, || {
                built += 1;
                Ok(Entities::empty())
            })
            .unwrap();
        }
        built
    }

    #[test]
    fn a_store_is_shared_only_by_identical_keys() {
        let none: Vec<String> = Vec::new();
        let team = vec!["team".to_owned()];
        let alice = key("alice", &none, "GetObject");
        assert_eq!(builds(&[alice, alice, alice]), 1);
        assert_eq!(builds(&[alice, key("bob", &none, "GetObject")]), 2);
        assert_eq!(builds(&[alice, key("alice", &team, "GetObject")]), 2);
        assert_eq!(builds(&[alice, key("alice", &none, "PutObject")]), 2);
        let mut other_key = alice;
        other_key.access_key = "AK2";
        assert_eq!(builds(&[alice, other_key]), 2);
        let mut more_attributes = alice;
        more_attributes.attributes = 1;
        assert_eq!(builds(&[alice, more_attributes]), 2);
    }

    #[test]
    fn the_cache_starts_over_when_full() {
        let none: Vec<String> = Vec::new();
        let names: Vec<String> = (0..=MAX_PRINCIPALS).map(|n| format!("p{n}")).collect();
        let mut keys: Vec<_> = names
            .iter()
            .map(|name| key(name, &none, "GetObject"))
            .collect();
        keys.push(keys[0]);
        // The first key was dropped when the cache filled, so it is built again.
        assert_eq!(builds(&keys), MAX_PRINCIPALS + 2);
        PRINCIPALS.with(|cache| assert!(cache.borrow().len() <= MAX_PRINCIPALS));
    }
}
