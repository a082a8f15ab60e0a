//! Decisions: evaluate the selected slices with Cedar and combine their
//! answers into one [`Decision`], as one evaluation of the whole set
//! would, then apply cedargate's deny precedence. Every forbid is
//! evaluated; permits only when no forbid decided without them, and on
//! the request path only until one is satisfied (an allow then names that
//! permit, the first in load order; explanations name them all).
//!
//! Precedence among reasons to deny, first match wins:
//!
//! 1. a satisfied base forbid (`cedargate-base/...`) without `@error`:
//!    anonymous outside the read-only allowlist, `operation_not_allowed`;
//! 2. a satisfied team forbid without `@error` (a plain AccessDenied);
//! 3. a forbid whose evaluation failed: reason `evaluation_error`. Cedar
//!    itself skips erroring policies, which would let a permit through a
//!    broken forbid; cedargate fails closed instead;
//! 4. no satisfied permit: reason `no_permit` (deny by default);
//! 5. a satisfied forbid with `@error("...")`, base or team, e.g. the base
//!    set's hard-cap forbid's `EntityTooLarge`. Specific codes are shown only to callers that a
//!    permit would otherwise have let in, so a caller without scope on a
//!    full bucket gets AccessDenied, not a quota answer.
//!
//! Otherwise the request is allowed by the satisfied permit(s).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cedar_policy::{AuthorizationError, Authorizer, Decision as CedarDecision, PolicySet};

use crate::load::PolicyInfo;
use crate::request::BuiltRequest;
use crate::slice::Slice;

/// Reason of a deny where no permit matched (deny by default).
pub const REASON_NO_PERMIT: &str = "no_permit";
/// Reason of a deny because a forbid policy failed to evaluate.
pub const REASON_EVALUATION_ERROR: &str = "evaluation_error";
/// Reason of a deny because the request could not be built (unknown
/// action, missing bucket or key).
pub const REASON_INVALID_REQUEST: &str = "invalid_request";

/// The answer to an [`AuthzRequest`](crate::AuthzRequest).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The deciding policy ids, sorted: the satisfied permit of an allow
    /// (the first in load order; every one in an explanation), the
    /// deciding forbids of a deny (empty for `no_permit`).
    pub policies: Vec<String>,
    /// The S3 error code of the deciding forbid (`@error`); `None` means
    /// AccessDenied.
    pub error_code: Option<String>,
    /// Why it was denied: the deciding forbid's `@reason`, or
    /// [`REASON_NO_PERMIT`], [`REASON_EVALUATION_ERROR`],
    /// [`REASON_INVALID_REQUEST`]. `None` for an allow and for a forbid
    /// without `@reason`.
    pub reason: Option<String>,
    /// Evaluation errors, for the log (never shown to clients).
    pub errors: Vec<String>,
}

impl Decision {
    /// A deny for a request that could not be put to Cedar.
    pub(crate) fn invalid(message: String) -> Self {
        Self {
            reason: Some(REASON_INVALID_REQUEST.to_owned()),
            errors: vec![message],
            ..Self::default()
        }
    }

    /// Whether this is a deny because nothing permitted the request.
    pub fn is_no_permit(&self) -> bool {
        !self.allowed && self.reason.as_deref() == Some(REASON_NO_PERMIT)
    }

    fn deny(policies: Vec<String>, primary: Option<&PolicyInfo>, errors: Vec<String>) -> Self {
        Self {
            allowed: false,
            policies,
            error_code: primary.and_then(|info| info.error.clone()),
            reason: primary.and_then(|info| info.reason.clone()),
            errors,
        }
    }
}

/// How many of the satisfied permits an allow names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permits {
    /// The first in the order the policies were loaded: permits are
    /// evaluated one by one and the search stops there (the request path).
    First,
    /// Every satisfied permit (explanations: the console, the CLI).
    All,
}

/// What the forbids said.
#[derive(Default)]
struct Forbids {
    satisfied: BTreeSet<String>,
    errored: BTreeSet<String>,
}

/// Evaluates `slices` for `built` and applies the precedence above:
/// every forbid first, and the permits only when no forbid decided
/// without them.
pub(crate) fn evaluate(
    authorizer: &Authorizer,
    info: &HashMap<String, Arc<PolicyInfo>>,
    slices: &[&Slice],
    built: &BuiltRequest,
    permits: Permits,
) -> Decision {
    let mut errors = Vec::new();
    let mut forbids = Forbids::default();
    for slice in slices {
        if slice.forbids.is_empty() {
            continue;
        }
        let response = authorizer.is_authorized(&built.request, &slice.forbids, &built.entities);
        for error in response.diagnostics().errors() {
            let AuthorizationError::PolicyEvaluationError(evaluation) = error;
            forbids.errored.insert(evaluation.policy_id().to_string());
            errors.push(error.to_string());
        }
        forbids
            .satisfied
            .extend(response.diagnostics().reason().map(ToString::to_string));
    }
    let rank = |id: &String| match info.get(id) {
        Some(policy) if policy.error.is_some() => 2,
        Some(policy) if policy.builtin => 0,
        Some(_) => 1,
        None => 2,
    };
    for wanted in [0, 1] {
        let deciding: Vec<String> = forbids
            .satisfied
            .iter()
            .filter(|id| rank(id) == wanted)
            .cloned()
            .collect();
        if !deciding.is_empty() {
            errors.sort();
            return deny_by(info, deciding, errors);
        }
    }
    if !forbids.errored.is_empty() {
        errors.sort();
        return Decision {
            allowed: false,
            policies: forbids.errored.into_iter().collect(),
            error_code: None,
            reason: Some(REASON_EVALUATION_ERROR.to_owned()),
            errors,
        };
    }
    let satisfied = satisfied_permits(authorizer, slices, built, permits, &mut errors);
    errors.sort();
    if satisfied.is_empty() {
        return Decision::no_permit(errors);
    }
    if forbids.satisfied.is_empty() {
        return Decision {
            allowed: true,
            policies: satisfied,
            ..Decision::default()
        };
    }
    // Only forbids carrying `@error` matched, and a permit would have let
    // the request in: their code is shown.
    deny_by(info, forbids.satisfied.into_iter().collect(), errors)
}

/// The satisfied permits of `slices` (sorted by id), or only the first in
/// load order; evaluation errors are added to `errors`.
fn satisfied_permits(
    authorizer: &Authorizer,
    slices: &[&Slice],
    built: &BuiltRequest,
    permits: Permits,
    errors: &mut Vec<String>,
) -> Vec<String> {
    let mut note_errors = |response: &cedar_policy::Response| {
        errors.extend(response.diagnostics().errors().map(ToString::to_string));
    };
    match permits {
        Permits::All => {
            let mut satisfied = BTreeSet::new();
            for slice in slices.iter().filter(|slice| !slice.permits.is_empty()) {
                let response =
                    authorizer.is_authorized(&built.request, &slice.permits, &built.entities);
                note_errors(&response);
                satisfied.extend(response.diagnostics().reason().map(ToString::to_string));
            }
            satisfied.into_iter().collect()
        }
        Permits::First => {
            let mut each: Vec<&(usize, PolicySet)> = slices
                .iter()
                .flat_map(|slice| slice.each_permit.iter())
                .collect();
            each.sort_unstable_by_key(|(position, _)| *position);
            for (_, permit) in each {
                let response = authorizer.is_authorized(&built.request, permit, &built.entities);
                note_errors(&response);
                if response.decision() == CedarDecision::Allow {
                    return response
                        .diagnostics()
                        .reason()
                        .map(ToString::to_string)
                        .collect();
                }
            }
            Vec::new()
        }
    }
}

/// A deny by the sorted forbids `deciding`; the first with a `@reason`
/// (or else the first) gives the error code and reason.
fn deny_by(
    info: &HashMap<String, Arc<PolicyInfo>>,
    deciding: Vec<String>,
    errors: Vec<String>,
) -> Decision {
    let policies: Vec<&PolicyInfo> = deciding
        .iter()
        .filter_map(|id| info.get(id).map(AsRef::as_ref))
        .collect();
    let primary = policies
        .iter()
        .find(|policy| policy.reason.is_some())
        .or_else(|| policies.first())
        .copied();
    Decision::deny(deciding, primary, errors)
}

impl Decision {
    /// A deny by default: no permit matched.
    pub(crate) fn no_permit(errors: Vec<String>) -> Self {
        Self {
            reason: Some(REASON_NO_PERMIT.to_owned()),
            errors,
            ..Self::default()
        }
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
