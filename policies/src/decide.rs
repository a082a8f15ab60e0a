//! Decisions: evaluate the selected slices with Cedar and combine their
//! answers into one [`Decision`], exactly as one evaluation of the whole
//! set would, then apply cedargate's deny precedence.
//!
//! Precedence among reasons to deny, first match wins:
//!
//! 1. a satisfied base forbid (`cedargate-base/...`): anonymous outside the
//!    read-only allowlist, `operation_not_allowed`;
//! 2. a satisfied team forbid without `@error` (a plain AccessDenied);
//! 3. a forbid whose evaluation failed: reason `evaluation_error`. Cedar
//!    itself skips erroring policies, which would let a permit through a
//!    broken forbid; cedargate fails closed instead;
//! 4. no satisfied permit: reason `no_permit` (deny by default);
//! 5. a satisfied forbid with `@error("...")`, e.g. the quota forbid's
//!    `EntityTooLarge`. Specific codes are shown only to callers that a
//!    permit would otherwise have let in, so a caller without scope on a
//!    full bucket gets AccessDenied, not a quota answer.
//!
//! Otherwise the request is allowed by the satisfied permits.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cedar_policy::{AuthorizationError, Authorizer, Decision as CedarDecision};

use crate::load::{PolicyEffect, PolicyInfo};
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
    /// The deciding policy ids, sorted: the satisfied permits of an allow,
    /// the deciding forbids of a deny (empty for `no_permit`).
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

/// What the slices said, before precedence.
#[derive(Default)]
struct Findings<'s> {
    forbids: BTreeSet<String>,
    permits: BTreeSet<String>,
    /// Some permit was satisfied (learned from a slice that allowed).
    permitted: bool,
    errored_forbids: BTreeSet<String>,
    errors: Vec<String>,
    /// Slices where a forbid was satisfied, so their permits are unknown.
    forbidding: Vec<&'s Slice>,
}

/// Evaluates `slices` for `built` and applies the precedence above.
pub(crate) fn evaluate(
    authorizer: &Authorizer,
    info: &HashMap<String, Arc<PolicyInfo>>,
    slices: &[&Slice],
    built: &BuiltRequest,
) -> Decision {
    let effect = |id: &str| info.get(id).map(|policy| policy.effect);
    let mut found = Findings::default();
    for &slice in slices {
        let response = authorizer.is_authorized(&built.request, &slice.all, &built.entities);
        for error in response.diagnostics().errors() {
            let AuthorizationError::PolicyEvaluationError(evaluation) = error;
            let id = evaluation.policy_id().to_string();
            if effect(&id) != Some(PolicyEffect::Permit) {
                found.errored_forbids.insert(id);
            }
            found.errors.push(error.to_string());
        }
        let mut forbade = false;
        for id in response.diagnostics().reason() {
            let id = id.to_string();
            if effect(&id) == Some(PolicyEffect::Permit) {
                found.permits.insert(id);
            } else {
                forbade = true;
                found.forbids.insert(id);
            }
        }
        found.permitted |= response.decision() == CedarDecision::Allow;
        if forbade {
            found.forbidding.push(slice);
        }
    }
    found.errors.sort();
    decide(authorizer, info, built, found)
}

fn decide(
    authorizer: &Authorizer,
    info: &HashMap<String, Arc<PolicyInfo>>,
    built: &BuiltRequest,
    found: Findings<'_>,
) -> Decision {
    let rank = |id: &String| match info.get(id) {
        Some(policy) if policy.builtin => 0,
        Some(policy) if policy.error.is_none() => 1,
        _ => 2,
    };
    for wanted in [0, 1] {
        let deciding: Vec<String> = found
            .forbids
            .iter()
            .filter(|id| rank(id) == wanted)
            .cloned()
            .collect();
        if !deciding.is_empty() {
            return deny_by(info, deciding, found.errors);
        }
    }
    if !found.errored_forbids.is_empty() {
        return Decision {
            allowed: false,
            policies: found.errored_forbids.into_iter().collect(),
            error_code: None,
            reason: Some(REASON_EVALUATION_ERROR.to_owned()),
            errors: found.errors,
        };
    }
    if found.forbids.is_empty() {
        if found.permitted {
            return Decision {
                allowed: true,
                policies: found.permits.into_iter().collect(),
                ..Decision::default()
            };
        }
        return no_permit(found.errors);
    }
    // Only forbids carrying `@error` matched: show their code only if a
    // permit would have let the request in.
    let permitted = found.permitted
        || found.forbidding.iter().any(|slice| {
            authorizer
                .is_authorized(&built.request, &slice.permits, &built.entities)
                .decision()
                == CedarDecision::Allow
        });
    if permitted {
        deny_by(info, found.forbids.into_iter().collect(), found.errors)
    } else {
        no_permit(found.errors)
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

fn no_permit(errors: Vec<String>) -> Decision {
    Decision {
        reason: Some(REASON_NO_PERMIT.to_owned()),
        errors,
        ..Decision::default()
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
