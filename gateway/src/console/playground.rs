//! The policy playground: `POST /console/api/decide` puts one made-up
//! request to the live policy set and explains the answer;
//! `POST /console/api/candidate` validates a candidate policy file and
//! re-decides the recorded requests against the live set with that file
//! replaced (or added), listing the decisions it would change. The live
//! set is never touched: the candidate is a separate snapshot, dropped
//! after the answer.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use cedargate_policies::{
    ACTION_PREFIX, AuthMode, Decision, ImpliedAction, PolicySnapshot, RequestContext,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::decisions::{DecisionEntry, unix_ms};
use super::status::diagnostics;
use crate::auth::CredentialStore;
use crate::authorize::replay::{AskedRequest, RecordedPrincipal};

/// Largest candidate policy file, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 256 * 1024;
/// Most recorded requests one candidate is tried on.
pub const MAX_REPLAY: usize = 1000;
/// Most changed decisions listed in one answer.
pub const MAX_CHANGES_LISTED: usize = 200;

/// The principal of a playground request.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum PrincipalInput {
    /// A credential by principal name; `groups` default to the loaded
    /// credential's.
    Credential {
        /// The principal name.
        name: String,
        /// Its groups.
        #[serde(default)]
        groups: Option<Vec<String>>,
    },
    /// An STS session.
    Session {
        /// The role.
        role: String,
        /// The issuer.
        #[serde(default)]
        issuer: String,
        /// The subject.
        #[serde(default)]
        subject: String,
        /// String claims.
        #[serde(default)]
        claims: BTreeMap<String, String>,
    },
    /// No credentials.
    Anonymous,
}

/// The context fields a playground request may set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextInput {
    /// `signed`, `presigned`, `sts` or `anonymous` (default: the
    /// principal's usual mode).
    pub auth_mode: Option<AuthMode>,
    /// The client address (default 127.0.0.1).
    pub source_ip: Option<IpAddr>,
    /// Whether over TLS.
    pub secure_transport: bool,
    /// Announced body length.
    pub content_length: Option<u64>,
    /// The list `prefix`.
    pub list_prefix: Option<String>,
}

/// `POST /console/api/decide`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideInput {
    /// Who asks.
    pub principal: PrincipalInput,
    /// The operation (`GetObject`) or action (`s3:GetObject`).
    pub action: String,
    /// The bucket.
    pub bucket: String,
    /// The key, for object operations.
    #[serde(default)]
    pub key: Option<String>,
    /// Context fields.
    #[serde(default)]
    pub context: ContextInput,
    /// Request headers (name -> value): those that imply further actions
    /// (`x-amz-tagging` on a PutObject...) are decided as on the request path.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl DecideInput {
    /// The question, with a credential's access key and default groups
    /// taken from `credentials`.
    pub fn to_asked(&self, credentials: &CredentialStore) -> AskedRequest {
        let (principal, default_mode) = match &self.principal {
            PrincipalInput::Credential { name, groups } => {
                let loaded = credentials.iter().find(|c| &c.principal == name);
                let principal = RecordedPrincipal::Credential {
                    name: name.clone(),
                    access_key: loaded.map(|c| c.access_key.clone()).unwrap_or_default(),
                    groups: groups
                        .clone()
                        .or_else(|| loaded.map(|c| c.groups.clone()))
                        .unwrap_or_default(),
                };
                (principal, AuthMode::Signed)
            }
            PrincipalInput::Session {
                role,
                issuer,
                subject,
                claims,
            } => {
                let principal = RecordedPrincipal::Session {
                    role: role.clone(),
                    issuer: issuer.clone(),
                    subject: subject.clone(),
                    claims: claims.clone(),
                };
                (principal, AuthMode::Sts)
            }
            PrincipalInput::Anonymous => (RecordedPrincipal::Anonymous, AuthMode::Anonymous),
        };
        let input = &self.context;
        let source_ip = input.source_ip.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut context = RequestContext::new(input.auth_mode.unwrap_or(default_mode), source_ip);
        context.secure_transport = input.secure_transport;
        context.request_time = SystemTime::now();
        context.content_length = input.content_length;
        context.list_prefix.clone_from(&input.list_prefix);
        let action = match self.action.strip_prefix(ACTION_PREFIX) {
            Some(_) => self.action.clone(),
            None => format!("{ACTION_PREFIX}{}", self.action),
        };
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let implied = cedargate_policies::implied_actions(&action, &headers);
        AskedRequest {
            principal,
            action,
            implied,
            bucket: self.bucket.clone(),
            key: self.key.clone().filter(|key| !key.is_empty()),
            context,
        }
    }
}

/// The answer of a replayed or made-up request: [`decision_json`], with
/// `denied_by` naming the implied action that denied (and its header).
pub fn asked_json(asked: &AskedRequest, snapshot: &PolicySnapshot) -> Value {
    let (decision, denied_by) = asked.decide_naming(snapshot);
    let mut answer = decision_json(&decision, snapshot);
    answer["denied_by"] = match denied_by {
        Some(implied) => json!({
            "action": format!("{ACTION_PREFIX}{}", implied.action),
            "header": implied.header,
        }),
        None => Value::Null,
    };
    answer
}

/// A decision with its explanation: each deciding policy's effect,
/// `file:line:col`, `@reason` and `@error`.
pub fn decision_json(decision: &Decision, snapshot: &PolicySnapshot) -> Value {
    let explanation: Vec<Value> = decision
        .policies
        .iter()
        .map(|id| match snapshot.policy(id) {
            Some(info) => json!({
                "id": id,
                "effect": info.effect.as_str(),
                "location": info.location.to_string(),
                "reason": info.reason,
                "error": info.error,
                "builtin": info.builtin,
            }),
            None => json!({ "id": id }),
        })
        .collect();
    json!({
        "decision": if decision.allowed { "allow" } else { "deny" },
        "allowed": decision.allowed,
        "policies": decision.policies,
        "error_code": if decision.allowed {
            None
        } else {
            Some(decision.error_code.as_deref().unwrap_or("AccessDenied"))
        },
        "reason": decision.reason,
        "errors": decision.errors,
        "explanation": explanation,
        "generation": snapshot.generation(),
    })
}

/// The implied actions as Cedar action ids.
pub fn implied_names(implied: &[ImpliedAction]) -> Vec<String> {
    implied
        .iter()
        .map(|implied| format!("{ACTION_PREFIX}{}", implied.action))
        .collect()
}

/// `POST /console/api/candidate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateInput {
    /// The file name it would have in the policy directory (default
    /// `candidate.cedar`); a file of that name is replaced, else it is added.
    #[serde(default)]
    pub name: Option<String>,
    /// The policy text.
    pub text: String,
    /// How many recorded requests to re-decide (default all, at most [`MAX_REPLAY`]).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Why a candidate was not tried.
pub fn check_candidate(input: &CandidateInput) -> Result<&str, String> {
    let name = input.name.as_deref().unwrap_or("candidate.cedar");
    let plain = !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name.ends_with(".cedar");
    if !plain {
        return Err("`name` must be a plain file name ending in `.cedar`".to_owned());
    }
    if input.text.len() > MAX_CANDIDATE_BYTES {
        return Err(format!(
            "the candidate is larger than {MAX_CANDIDATE_BYTES} bytes"
        ));
    }
    Ok(name)
}

/// Validates the candidate and re-decides `recorded` (newest first)
/// against the live set and against the candidate set.
pub fn try_candidate(
    live: &PolicySnapshot,
    name: &str,
    text: &str,
    recorded: &[Arc<DecisionEntry>],
) -> Value {
    let candidate = match live.with_file(name, text) {
        Ok(candidate) => candidate,
        Err(error) => {
            let mut errors = diagnostics(error.diagnostics());
            if errors.is_empty() {
                errors.push(json!({ "message": error.to_string() }));
            }
            return json!({ "valid": false, "errors": errors });
        }
    };
    let mut replayed = 0usize;
    let mut changed = 0usize;
    let mut changes = Vec::new();
    for entry in recorded.iter().take(MAX_REPLAY) {
        let Some(asked) = entry.asked.as_deref() else {
            continue;
        };
        replayed += 1;
        let before = asked.decide(live);
        let after = asked.decide(&candidate);
        if before.allowed == after.allowed && before.policies == after.policies {
            continue;
        }
        changed += 1;
        if changes.len() < MAX_CHANGES_LISTED {
            changes.push(json!({
                "request_id": entry.request_id,
                "at_ms": unix_ms(entry.at),
                "principal": asked.principal.name(),
                "action": asked.action,
                "bucket": asked.bucket,
                "key": asked.key,
                "implied": implied_names(&asked.implied),
                "before": asked_json(asked, live),
                "after": asked_json(asked, &candidate),
            }));
        }
    }
    let warnings: Vec<String> = candidate
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    json!({
        "valid": true,
        "name": name,
        "policies": candidate.policy_ids(),
        "warnings": warnings,
        "replayed": replayed,
        "changed": changed,
        "changes": changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::DecisionRecord;
    use crate::console::decisions::{DecisionLog, Finished};

    const LIVE: &str =
        "@id(\"tester-all\")\npermit (principal == Credential::\"tester\", action, resource);\n";

    fn record(log: &DecisionLog, id: &str, action: &str) {
        record_implying(log, id, action, Vec::new());
    }

    fn record_implying(log: &DecisionLog, id: &str, action: &str, implied: Vec<ImpliedAction>) {
        let asked = AskedRequest {
            principal: RecordedPrincipal::Credential {
                name: "tester".into(),
                access_key: "AK".into(),
                groups: Vec::new(),
            },
            action: action.into(),
            implied,
            bucket: "alpha".into(),
            key: Some("a/b".into()),
            context: RequestContext::new(AuthMode::Signed, [127, 0, 0, 1].into()),
        };
        let finished = Finished {
            request_id: id,
            operation: "GetObject",
            bucket: Some("alpha"),
            key: Some("a/b"),
            status: 200,
            result: crate::outcome::RequestResult::Ok,
        };
        let record = DecisionRecord {
            allowed: true,
            policies: vec!["tester-all".into()],
            asked: Some(Box::new(asked)),
        };
        log.record(finished, record);
    }

    #[test]
    fn a_candidate_lists_the_recorded_decisions_it_would_change() {
        let live = PolicySnapshot::from_sources(&[("/p/tester.cedar", LIVE)], 4).unwrap();
        let log = DecisionLog::new(10);
        record(&log, "get", "s3:GetObject");
        record(&log, "put", "s3:PutObject");
        let forbid =
            "@id(\"no-gets\")\nforbid (principal, action == Action::\"s3:GetObject\", resource);\n";
        let answer = try_candidate(&live, "extra.cedar", forbid, &log.recent(10));
        assert_eq!(answer["valid"], true, "{answer}");
        assert_eq!(answer["replayed"], 2);
        assert_eq!(answer["changed"], 1);
        let change = &answer["changes"][0];
        assert_eq!(change["request_id"], "get");
        assert_eq!(change["before"]["decision"], "allow");
        assert_eq!(change["after"]["decision"], "deny");
        assert_eq!(change["after"]["policies"][0], "no-gets");
        // Replacing the only permit denies both.
        let replaced = try_candidate(&live, "tester.cedar", forbid, &log.recent(10));
        assert_eq!(replaced["changed"], 2, "{replaced}");
        // The live set still allows.
        let first = log.recent(1);
        assert!(first[0].asked.as_ref().unwrap().decide(&live).allowed);
    }

    #[test]
    fn a_recorded_request_replays_with_its_implied_actions() {
        let live = PolicySnapshot::from_sources(&[("/p/tester.cedar", LIVE)], 4).unwrap();
        let log = DecisionLog::new(10);
        let tagging = cedargate_policies::implied_actions("PutObject", &[("x-amz-tagging", "a=b")]);
        record_implying(&log, "tagged", "s3:PutObject", tagging);
        record(&log, "plain", "s3:PutObject");
        let forbid = "@id(\"no-tagging\")\nforbid (principal, action == Action::\"s3:PutObjectTagging\", resource);\n";
        let answer = try_candidate(&live, "extra.cedar", forbid, &log.recent(10));
        assert_eq!(answer["changed"], 1, "{answer}");
        let change = &answer["changes"][0];
        assert_eq!(change["request_id"], "tagged");
        assert_eq!(change["implied"][0], "s3:PutObjectTagging");
        assert_eq!(change["before"]["denied_by"], Value::Null);
        assert_eq!(change["after"]["decision"], "deny");
        assert_eq!(change["after"]["policies"][0], "no-tagging");
        assert_eq!(
            change["after"]["denied_by"]["action"],
            "s3:PutObjectTagging"
        );
        assert_eq!(change["after"]["denied_by"]["header"], "x-amz-tagging");
        // The playground states headers the same way.
        let input: DecideInput = serde_json::from_value(json!({
            "principal": { "kind": "credential", "name": "tester" },
            "action": "PutObject",
            "bucket": "alpha",
            "key": "k",
            "headers": { "x-amz-acl": "public-read" },
        }))
        .unwrap();
        let asked = input.to_asked(&CredentialStore::default());
        assert_eq!(implied_names(&asked.implied), ["s3:PutObjectAcl"]);
        let candidate = live
            .with_file(
                "extra.cedar",
                &forbid.replace("PutObjectTagging", "PutObjectAcl"),
            )
            .unwrap();
        let answer = asked_json(&asked, &candidate);
        assert_eq!(answer["decision"], "deny", "{answer}");
        assert_eq!(answer["denied_by"]["action"], "s3:PutObjectAcl");
    }

    #[test]
    fn a_broken_candidate_reports_file_line_col() {
        let live = PolicySnapshot::from_sources(&[("tester.cedar", LIVE)], 1).unwrap();
        let answer = try_candidate(&live, "bad.cedar", "permit (\n  principal,\n  oops", &[]);
        assert_eq!(answer["valid"], false);
        let location = answer["errors"][0]["location"].as_str().unwrap();
        assert!(location.starts_with("bad.cedar:"), "{answer}");
        let name = |name: &str| CandidateInput {
            name: Some(name.into()),
            text: String::new(),
            limit: None,
        };
        assert!(check_candidate(&name("ok.cedar")).is_ok());
        for bad in ["../x.cedar", "x.txt", ".hidden.cedar", ""] {
            assert!(check_candidate(&name(bad)).is_err(), "{bad}");
        }
        let big = CandidateInput {
            name: None,
            text: "x".repeat(MAX_CANDIDATE_BYTES + 1),
            limit: None,
        };
        assert!(check_candidate(&big).is_err());
    }

    #[test]
    fn a_playground_request_explains_its_decision() {
        let live = PolicySnapshot::from_sources(&[("tester.cedar", LIVE)], 1).unwrap();
        let input: DecideInput = serde_json::from_value(json!({
            "principal": { "kind": "credential", "name": "tester" },
            "action": "GetObject",
            "bucket": "alpha",
            "key": "k",
            "context": { "source_ip": "10.1.2.3" },
        }))
        .unwrap();
        let asked = input.to_asked(&CredentialStore::default());
        assert_eq!(asked.action, "s3:GetObject");
        let answer = decision_json(&asked.decide(&live), &live);
        assert_eq!(answer["decision"], "allow", "{answer}");
        assert_eq!(answer["explanation"][0]["location"], "tester.cedar:1:1");
        let anonymous: DecideInput = serde_json::from_value(json!({
            "principal": { "kind": "anonymous" },
            "action": "s3:PutObject",
            "bucket": "alpha",
            "key": "k",
        }))
        .unwrap();
        let answer = decision_json(
            &anonymous
                .to_asked(&CredentialStore::default())
                .decide(&live),
            &live,
        );
        assert_eq!(answer["decision"], "deny");
        assert_eq!(answer["error_code"], "AccessDenied");
    }
}
