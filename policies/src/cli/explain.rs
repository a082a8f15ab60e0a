//! `cedargate policy explain`: decide one written request and say why —
//! the decision, the deciding policies with their `@reason` / `@error`
//! annotations and locations, the action a header implied when that is
//! what denied, and for a deny without any matching permit, that nothing
//! granted it.

use std::fmt;
use std::path::Path;

use super::request::{ContextOverrides, ExplainRequest};
use crate::decide::{Decision, REASON_EVALUATION_ERROR, REASON_NO_PERMIT};
use crate::error::PolicyError;
use crate::implied::{ImpliedAction, decide_with_implied};
use crate::load::PolicyInfo;
use crate::schema::ACTION_PREFIX;
use crate::snapshot::PolicySnapshot;

/// A decision and the policies behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The decision, as the gateway would get it.
    pub decision: Decision,
    /// The deciding policies, in the order of `decision.policies`.
    pub deciding: Vec<PolicyInfo>,
    /// The action a header of the request implied, when it is what denied.
    pub denied_by: Option<ImpliedAction>,
}

/// Loads `policy_dir` and explains the decision on `request`. A request
/// that cannot be decided (unknown action, no principal) is explained as
/// an `invalid_request` deny; only an invalid policy directory is an error.
pub fn explain(policy_dir: &Path, request: &ExplainRequest) -> Result<Explanation, PolicyError> {
    let snapshot = PolicySnapshot::from_dir(policy_dir, 1)?;
    Ok(explain_with(&snapshot, request))
}

/// Explains `request` against an already loaded snapshot.
pub fn explain_with(snapshot: &PolicySnapshot, request: &ExplainRequest) -> Explanation {
    let (decision, denied_by) = decide_request(snapshot, request, &ContextOverrides::default());
    let deciding = decision
        .policies
        .iter()
        .filter_map(|id| snapshot.policy(id).cloned())
        .collect();
    Explanation {
        decision,
        deciding,
        denied_by,
    }
}

/// Decides `request` over `defaults` as the gateway would: its action,
/// then each action its headers imply; the first deny decides, with the
/// implied action that denied.
pub(crate) fn decide_request(
    snapshot: &PolicySnapshot,
    request: &ExplainRequest,
    defaults: &ContextOverrides,
) -> (Decision, Option<ImpliedAction>) {
    match request.resolve(defaults) {
        Ok(resolved) => {
            let implied = resolved.implied();
            let (decision, by) = decide_with_implied(snapshot, &resolved.authz(), &implied);
            (decision, by.cloned())
        }
        Err(message) => (Decision::invalid(message), None),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decision = &self.decision;
        if decision.allowed {
            writeln!(f, "decision: allow")?;
        } else {
            let code = decision.error_code.as_deref().unwrap_or("AccessDenied");
            writeln!(f, "decision: deny ({code})")?;
        }
        if let Some(implied) = &self.denied_by {
            writeln!(
                f,
                "denied action: `{ACTION_PREFIX}{}`, implied by the `{}` header",
                implied.action, implied.header
            )?;
        }
        match decision.reason.as_deref() {
            Some(REASON_NO_PERMIT) => writeln!(
                f,
                "reason: no_permit: no permit policy matched, so the request is denied by default"
            )?,
            Some(REASON_EVALUATION_ERROR) => writeln!(
                f,
                "reason: evaluation_error: a forbid policy failed to evaluate, so the request is denied"
            )?,
            Some(reason) => writeln!(f, "reason: {reason}")?,
            None => {}
        }
        if !self.deciding.is_empty() {
            writeln!(f, "deciding policies:")?;
        }
        for policy in &self.deciding {
            write!(
                f,
                "  {} `{}` at {}",
                policy.effect.as_str(),
                policy.id,
                policy.location
            )?;
            if policy.builtin {
                write!(f, " (built in)")?;
            }
            if let Some(code) = &policy.error {
                write!(f, " @error(\"{code}\")")?;
            }
            if let Some(reason) = &policy.reason {
                write!(f, " @reason(\"{reason}\")")?;
            }
            writeln!(f)?;
        }
        for error in &decision.errors {
            writeln!(f, "error: {error}")?;
        }
        Ok(())
    }
}
