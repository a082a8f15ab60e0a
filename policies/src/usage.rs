//! What a policy set reads of a request, found once when the set loads: the
//! attribute names it accesses (`resource.prefix`, `context.source_ip`,
//! `context has list_prefix`) and whether it reads the resource's tags.
//!
//! Building a Cedar request is most of a decision's cost (entities,
//! extension values such as `ip()` and `datetime()`, the context record).
//! Attributes and context fields no policy names cannot change a decision,
//! so the request builder leaves them out. The analysis is conservative:
//! a name accessed on any expression counts for every entity and the
//! context, and a policy that uses `context` as a whole value (or whose
//! JSON form cannot be had) makes every field count.

use std::collections::HashSet;

use cedar_policy::PolicySet;
use serde_json::Value;

/// The parts of a request a policy set may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PolicyUsage {
    /// Attribute and context field names accessed; `None` when every one
    /// must be built.
    attributes: Option<HashSet<String>>,
    /// Whether a policy applies `hasTag` / `getTag` to `resource`.
    reads_object_tags: bool,
}

impl PolicyUsage {
    /// The usage of every policy (and template) of `set`.
    pub(crate) fn of(set: &PolicySet) -> Self {
        let mut walk = Walk::default();
        let mut whole = false;
        let policies = set.policies().map(|policy| policy.to_json().ok());
        let templates = set.templates().map(|template| template.to_json().ok());
        for json in policies.chain(templates) {
            match json {
                Some(json) => walk.visit(&json),
                None => {
                    whole = true;
                    walk.reads_object_tags = true;
                }
            }
        }
        Self {
            attributes: (!whole && !walk.whole_context).then_some(walk.attributes),
            reads_object_tags: walk.reads_object_tags,
        }
    }

    /// Everything counts (for a request built outside any policy set).
    #[cfg(test)]
    pub(crate) fn everything() -> Self {
        Self {
            attributes: None,
            reads_object_tags: true,
        }
    }

    /// Whether attribute or context field `name` must be built.
    pub(crate) fn needs(&self, name: &str) -> bool {
        self.attributes
            .as_ref()
            .is_none_or(|names| names.contains(name))
    }

    /// Whether a policy reads the resource's tags.
    pub(crate) fn reads_object_tags(&self) -> bool {
        self.reads_object_tags
    }
}

#[derive(Default)]
struct Walk {
    attributes: HashSet<String>,
    whole_context: bool,
    reads_object_tags: bool,
}

impl Walk {
    fn visit(&mut self, json: &Value) {
        match json {
            Value::Object(map) => {
                if map.get("Var").is_some_and(|var| var == "context") {
                    // `context` itself, not one of its fields.
                    self.whole_context = true;
                }
                for (name, child) in map {
                    match name.as_str() {
                        // A record literal's keys are the user's: walk its
                        // values, never read its keys as operators.
                        "Record" => match child {
                            Value::Object(fields) => fields.values().for_each(|v| self.visit(v)),
                            other => self.visit(other),
                        },
                        "." | "has" => self.access(child),
                        "hasTag" | "getTag" => {
                            // Tags of anything but the principal may be the
                            // resource's (`if .. then resource else ..`).
                            if !is_var(child.get("left"), "principal") {
                                self.reads_object_tags = true;
                            }
                            self.visit(child);
                        }
                        _ => self.visit(child),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| self.visit(item)),
            _ => {}
        }
    }

    /// `left.attr` or `left has attr`: the name counts, and `left` is
    /// walked unless it is `context` itself (a field access, not a use of
    /// the whole record).
    fn access(&mut self, node: &Value) {
        match node.get("attr") {
            Some(Value::String(attr)) => {
                self.attributes.insert(attr.clone());
            }
            // `e has a.b` names a path.
            Some(Value::Array(path)) => {
                for attr in path.iter().filter_map(Value::as_str) {
                    self.attributes.insert(attr.to_owned());
                }
            }
            _ => {
                // Not the shape expected: count everything.
                self.whole_context = true;
                self.visit(node);
                return;
            }
        }
        match node.get("left") {
            Some(left) if is_var(Some(left), "context") => {}
            Some(left) => self.visit(left),
            None => {
                self.whole_context = true;
                self.visit(node);
            }
        }
    }
}

fn is_var(node: Option<&Value>, name: &str) -> bool {
    node.and_then(|node| node.get("Var"))
        .is_some_and(|var| var == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(text: &str) -> PolicyUsage {
        PolicyUsage::of(&text.parse().expect("policies"))
    }

    #[test]
    fn accessed_names_tags_and_whole_context_uses_are_found() {
        let plain = usage(r#"permit (principal == Credential::"bench", action, resource);"#);
        assert!(!plain.needs("source_ip") && !plain.needs("key"));
        assert!(!plain.reads_object_tags());

        let fields = usage(
            r#"permit (principal, action, resource)
               when { context.list_segments.first == "home" && resource has prefix
                      && context.source_ip.isInRange(ip("10.0.0.0/8")) };"#,
        );
        for name in ["list_segments", "first", "prefix", "source_ip"] {
            assert!(fields.needs(name), "{name}");
        }
        assert!(!fields.needs("request_time") && !fields.needs("segments"));

        let tags = usage(r#"forbid (principal, action, resource) when { resource.hasTag("c") };"#);
        assert!(tags.reads_object_tags());
        let principal_tags = usage(
            r#"permit (principal is Session, action, resource) when { principal.hasTag("e") };"#,
        );
        assert!(!principal_tags.reads_object_tags());

        let whole = usage(r#"permit (principal, action, resource) when { context == context };"#);
        assert!(whole.needs("request_time") && whole.needs("anything"));
    }
}
