//! `cedargate policy explain`: decide one written request and say why —
//! the decision, the deciding policies with their `@reason` / `@error`
//! annotations and locations, and for a deny without any matching permit,
//! that nothing granted it.

use std::fmt;
use std::path::Path;

use super::request::{ContextOverrides, ExplainRequest};
use crate::decide::{Decision, REASON_EVALUATION_ERROR, REASON_NO_PERMIT};
use crate::error::PolicyError;
use crate::load::PolicyInfo;
use crate::snapshot::PolicySnapshot;

/// A decision and the policies behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The decision, as the gateway would get it.
    pub decision: Decision,
    /// The deciding policies, in the order of `decision.policies`.
    pub deciding: Vec<PolicyInfo>,
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
    let decision = match request.resolve(&ContextOverrides::default()) {
        Ok(resolved) => snapshot.explain(&resolved.authz()),
        Err(message) => Decision::invalid(message),
    };
    let deciding = decision
        .policies
        .iter()
        .filter_map(|id| snapshot.policy(id).cloned())
        .collect();
    Explanation { decision, deciding }
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
