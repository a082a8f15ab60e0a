//! The console's live decisions: the last N authorization decisions,
//! recorded by the *respond* stage where the access log line is written,
//! in a bounded ring (oldest dropped first).
//!
//! An entry holds what the access log holds of the decision (principal,
//! operation, bucket, key, allow or deny, deciding policy ids, status and
//! S3 error code) plus the question asked ([`AskedRequest`]) so the
//! playground can re-decide it. Never a secret, a signature, a query
//! string or an object's content; keys are cut to [`MAX_KEY_CHARS`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::authorize::DecisionRecord;
use crate::authorize::replay::AskedRequest;
use crate::outcome::RequestResult;

/// Longest key kept, in characters (S3 keys are at most 1024 bytes).
pub const MAX_KEY_CHARS: usize = 1024;

/// One recorded decision.
#[derive(Debug, Clone)]
pub struct DecisionEntry {
    /// When the request finished.
    pub at: SystemTime,
    /// The request id (`x-amz-request-id`).
    pub request_id: String,
    /// The S3 operation.
    pub operation: &'static str,
    /// The request's bucket.
    pub bucket: Option<String>,
    /// The request's key.
    pub key: Option<String>,
    /// Allowed or denied.
    pub allowed: bool,
    /// The deciding policy ids.
    pub policies: Vec<String>,
    /// The HTTP status sent.
    pub status: u16,
    /// `ok`, or the S3 error code / reason the request ended with.
    pub result: RequestResult,
    /// The question asked, for replay.
    pub asked: Option<Box<AskedRequest>>,
}

impl DecisionEntry {
    /// The entry as the console's JSON shows it.
    pub fn to_json(&self) -> Value {
        let asked = self.asked.as_deref();
        let principal = asked.map(|asked| {
            json!({
                "kind": asked.principal.kind(),
                "name": asked.principal.name(),
                "groups": asked.principal.groups(),
            })
        });
        json!({
            "at_ms": unix_ms(self.at),
            "request_id": self.request_id,
            "principal": principal,
            "auth_mode": asked.map(|a| a.context.auth_mode.as_str()),
            "source_ip": asked.map(|a| a.context.source_ip.to_string()),
            "operation": self.operation,
            "action": asked.map(|a| a.action.as_str()),
            "implied": asked.map(|a| super::playground::implied_names(&a.implied)),
            "bucket": self.bucket,
            "key": self.key,
            "decision": if self.allowed { "allow" } else { "deny" },
            "policies": self.policies,
            "status": self.status,
            "error_code": (self.result != RequestResult::Ok).then_some(self.result.as_str()),
        })
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The facts of a finished request the log needs, besides its decision.
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    /// The request id.
    pub request_id: &'a str,
    /// The S3 operation.
    pub operation: &'static str,
    /// The request's bucket.
    pub bucket: Option<&'a str>,
    /// The request's key.
    pub key: Option<&'a str>,
    /// The HTTP status sent.
    pub status: u16,
    /// `ok` or the error code / reason.
    pub result: RequestResult,
}

/// The bounded ring of recent decisions.
#[derive(Debug)]
pub struct DecisionLog {
    capacity: usize,
    ring: Mutex<VecDeque<Arc<DecisionEntry>>>,
}

impl DecisionLog {
    /// A log keeping the last `capacity` decisions (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            ring: Mutex::new(VecDeque::with_capacity(capacity)),
        }
    }

    /// How many decisions are kept at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Records a finished request's decision.
    pub fn record(&self, finished: Finished<'_>, decision: DecisionRecord) {
        let entry = Arc::new(DecisionEntry {
            at: SystemTime::now(),
            request_id: finished.request_id.to_owned(),
            operation: finished.operation,
            bucket: finished.bucket.map(str::to_owned),
            key: finished.key.map(cut_key),
            allowed: decision.allowed,
            policies: decision.policies,
            status: finished.status,
            result: finished.result,
            asked: decision.asked.map(|mut asked| {
                asked.key = asked.key.as_deref().map(cut_key);
                asked
            }),
        });
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(entry);
    }

    /// The last `limit` decisions, newest first.
    pub fn recent(&self, limit: usize) -> Vec<Arc<DecisionEntry>> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.iter().rev().take(limit).cloned().collect()
    }
}

fn cut_key(key: &str) -> String {
    key.chars().take(MAX_KEY_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::replay::RecordedPrincipal;
    use cedargate_policies::{AuthMode, RequestContext};

    fn finished(request_id: &str) -> Finished<'_> {
        Finished {
            request_id,
            operation: "GetObject",
            bucket: Some("alpha"),
            key: Some("k"),
            status: 403,
            result: RequestResult::S3Error(cedargate_s3::error::S3ErrorCode::AccessDenied),
        }
    }

    fn denied() -> DecisionRecord {
        DecisionRecord {
            allowed: false,
            policies: vec!["no-secrets".into()],
            asked: Some(Box::new(AskedRequest {
                principal: RecordedPrincipal::Credential {
                    name: "tester".into(),
                    access_key: "AKIDNEVERSHOWN".into(),
                    groups: vec!["team".into()],
                },
                action: "s3:GetObject".into(),
                implied: Vec::new(),
                bucket: "alpha".into(),
                key: Some("x".repeat(5000)),
                context: RequestContext::new(AuthMode::Signed, [10, 0, 0, 1].into()),
            })),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_entries_up_to_its_capacity() {
        let log = DecisionLog::new(3);
        for id in ["a", "b", "c", "d", "e"] {
            log.record(finished(id), denied());
        }
        let ids: Vec<String> = log
            .recent(10)
            .iter()
            .map(|e| e.request_id.clone())
            .collect();
        assert_eq!(ids, ["e", "d", "c"]);
        assert_eq!(log.recent(1).len(), 1);
        assert_eq!(DecisionLog::new(0).capacity(), 1);
    }

    #[test]
    fn the_json_names_the_principal_and_policies_but_never_the_access_key() {
        let log = DecisionLog::new(2);
        log.record(finished("r1"), denied());
        let entry = &log.recent(1)[0];
        assert_eq!(
            entry.asked.as_ref().unwrap().key.as_ref().unwrap().len(),
            MAX_KEY_CHARS
        );
        let json = entry.to_json();
        assert_eq!(json["principal"]["name"], "tester");
        assert_eq!(json["principal"]["groups"][0], "team");
        assert_eq!(json["decision"], "deny");
        assert_eq!(json["policies"][0], "no-secrets");
        assert_eq!(json["error_code"], "AccessDenied");
        assert_eq!(json["source_ip"], "10.0.0.1");
        assert!(!json.to_string().contains("AKIDNEVERSHOWN"));
    }
}
