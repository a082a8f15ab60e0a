//! Random policy sets and requests over the S3 schema, drawn from any
//! source of choices ([`Draw`]): a seeded generator in the test suite,
//! fuzzer bytes in the fuzz target.
//!
//! Policies are built to validate strictly: each scope narrows the
//! principal and resource types a condition may read, and every attribute
//! access outside them is guarded (`principal is Credential && ...`).
//! They use `in` (groups, action groups, buckets), `like`, `has`, entity
//! tags, `unless`, every context field, `@error` / `@reason`, policies
//! without `@id` (keyed `file:line`), and conditions that fail to evaluate
//! for some requests (overflow). Requests cover every principal type and
//! every action, with all context fields drawn independently.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use cedargate_policies::{
    ACTION_GROUPS, AuthMode, RequestContext, ResourceKind, action_group, action_names,
    action_resource,
};

/// A source of choices.
pub trait Draw {
    /// A number below `n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize;

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    fn pick<T: Copy>(&mut self, items: &[T]) -> T
    where
        Self: Sized,
    {
        items[self.below(items.len())]
    }
}

/// Credential names (one outside ASCII).
pub const USERS: [&str; 3] = ["alice", "bob", "zoë"];
/// Groups policies name; requests may also carry `ghost`.
pub const GROUPS: [&str; 3] = ["admins", "team-a", "team-b"];
/// Buckets policies name; requests may also ask for `other`.
pub const BUCKETS: [&str; 3] = ["photos", "logs", "shared"];
/// Keys: folders, wildcard and escape characters, empty segments.
pub const KEYS: [&str; 11] = [
    "a.txt",
    "home/alice/notes.txt",
    "home/bob/x",
    "home/alice",
    "tmp/",
    "team-a/r.pdf",
    "a*b",
    "q\"uote\\d/x",
    "/lead/x",
    "dir//x",
    "ü/ñ/ok.txt",
];
/// `like` patterns, as Cedar source (already escaped).
const PATTERNS: [&str; 9] = [
    "home/*",
    "*.txt",
    "a\\*b",
    "*",
    "tmp/*",
    "home/alice/*",
    "*/*/*",
    "q\\\"*",
    "",
];
/// List prefixes.
const PREFIXES: [&str; 7] = [
    "",
    "home/",
    "home/alice",
    "home/alice/",
    "tmp/x/y",
    "a*b",
    "/",
];
/// (issuer, subject, role) of the STS sessions.
const SESSIONS: [(&str, &str, &str); 2] = [
    ("https://idp.example", "u1", "reader"),
    ("https://idp.example", "u2", "writer"),
];
/// Client addresses, the last an IPv4 client seen on a dual-stack socket.
const IPS: [IpAddr; 6] = [
    IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)),
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 5)),
    IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203)),
];
/// Request times as (milliseconds since the epoch, the Cedar datetime
/// they truncate to).
pub const TIMES: [(i64, &str); 5] = [
    (0, "1970-01-01T00:00:00Z"),
    (1_772_366_400_750, "2026-03-01T12:00:00Z"),
    (1_784_159_999_999, "2026-07-15T23:59:59Z"),
    (946_684_799_000, "1999-12-31T23:59:59Z"),
    (-1_500, "1969-12-31T23:59:58Z"),
];
/// Byte counts, up to values that overflow once multiplied or summed.
const LONGS: [u64; 7] = [0, 1, 100, 5_000, 1 << 40, 1 << 62, u64::MAX];
const ERROR_CODES: [&str; 5] = [
    "EntityTooLarge",
    "AccessDenied",
    "InvalidRequest",
    "InvalidArgument",
    "NotImplemented",
];
const REASONS: [&str; 4] = ["quota", "blocked", "office_hours", "r1"];
/// Actions most policies and requests are about.
const HOT_ACTIONS: [&str; 8] = [
    "GetObject",
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "UploadPart",
    "ListObjectsV2",
    "HeadBucket",
    "ListBuckets",
];

/// Every action (without `s3:`) with its resource kind and group.
pub static ACTIONS: LazyLock<Vec<(String, ResourceKind, &'static str)>> = LazyLock::new(|| {
    action_names()
        .into_iter()
        .filter_map(|name| {
            let short = name.strip_prefix("s3:")?.to_owned();
            Some((short, action_resource(&name)?, action_group(&name)?))
        })
        .collect()
});

/// `text` as the inside of a Cedar string literal.
pub fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The principal types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Credential,
    Session,
    Anonymous,
}

impl Who {
    const ALL: [Self; 3] = [Self::Credential, Self::Session, Self::Anonymous];

    fn name(self) -> &'static str {
        match self {
            Self::Credential => "Credential",
            Self::Session => "Session",
            Self::Anonymous => "Anonymous",
        }
    }
}

/// What a policy's scope leaves possible; conditions read only that.
struct Scope {
    principals: Vec<Who>,
    resources: Vec<ResourceKind>,
    /// The scope itself names the type, so no guard is needed.
    principal_typed: bool,
    resource_typed: bool,
}

/// One generated policy.
#[derive(Debug, Clone)]
pub struct PolicyCase {
    /// The id the loader gives it: `@id`, or `file:line`.
    pub id: String,
    /// Its source, as written in its file.
    pub text: String,
    /// Whether it is a forbid.
    pub forbid: bool,
}

/// A generated policy set: files in load order.
#[derive(Debug, Clone, Default)]
pub struct SetCase {
    /// (file name, policies), in load order.
    pub files: Vec<(String, Vec<PolicyCase>)>,
}

impl SetCase {
    /// The text of each file.
    pub fn sources(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(name, policies)| {
                let text: String = policies.iter().map(|p| p.text.as_str()).collect();
                (name.clone(), text)
            })
            .collect()
    }

    /// Every file, each after a `--- name` line: what a failure prints.
    pub fn listing(&self) -> String {
        self.sources()
            .iter()
            .map(|(name, text)| format!("--- {name}\n{text}"))
            .collect()
    }

    /// Every policy, in load order.
    pub fn policies(&self) -> impl Iterator<Item = &PolicyCase> {
        self.files.iter().flat_map(|(_, policies)| policies)
    }

    /// Up to `max` policies in one to three files.
    pub fn generate(draw: &mut impl Draw, max: usize) -> Self {
        let count = 1 + draw.below(max.max(1));
        let file_count = 1 + draw.below(3);
        let mut files: Vec<(String, Vec<PolicyCase>)> = (0..file_count)
            .map(|index| (format!("{}.cedar", ["a", "b", "c"][index]), Vec::new()))
            .collect();
        let mut lines = vec![1usize; file_count];
        for index in 0..count {
            let file = draw.below(file_count);
            let short = files[file].0.clone();
            let policy = random_policy(draw, index, &short, &mut lines[file]);
            files[file].1.push(policy);
        }
        Self { files }
    }
}

/// A policy; `line` is the line of its file it starts on, moved past it.
fn random_policy(draw: &mut impl Draw, index: usize, file: &str, line: &mut usize) -> PolicyCase {
    let forbid = draw.chance(40);
    let mut text = String::new();
    if draw.chance(15) {
        text.push_str("// a comment with \"quotes\"; and a semicolon\n");
    }
    let start = *line + text.matches('\n').count();
    let id = if draw.chance(80) {
        text.push_str(&format!("@id(\"p{index}\")\n"));
        format!("p{index}")
    } else {
        format!("{file}:{start}")
    };
    if forbid && draw.chance(40) {
        text.push_str(&format!("@error(\"{}\")\n", draw.pick(&ERROR_CODES)));
    }
    if draw.chance(50) {
        text.push_str(&format!("@reason(\"{}\")\n", draw.pick(&REASONS)));
    }
    let (principal, mut scope) = principal_scope(draw);
    let resource = resource_scope(draw, &mut scope);
    let action = action_scope(draw, &mut scope);
    let effect = if forbid { "forbid" } else { "permit" };
    text.push_str(&format!(
        "{effect} (\n  {principal},\n  {action},\n  {resource}\n)"
    ));
    for _ in 0..draw.below(3) {
        let keyword = if draw.chance(70) { "when" } else { "unless" };
        let condition = condition(draw, &scope, 2);
        text.push_str(&format!("\n{keyword} {{ {condition} }}"));
    }
    text.push_str(";\n");
    *line += text.matches('\n').count();
    PolicyCase { id, text, forbid }
}

fn principal_scope(draw: &mut impl Draw) -> (String, Scope) {
    let mut scope = Scope {
        principals: Who::ALL.to_vec(),
        resources: vec![ResourceKind::Object, ResourceKind::Bucket],
        principal_typed: false,
        resource_typed: false,
    };
    let only = |who: Who, scope: &mut Scope| {
        scope.principals = vec![who];
        scope.principal_typed = true;
    };
    let text = match draw.below(12) {
        0 | 1 => {
            only(Who::Credential, &mut scope);
            format!("principal == Credential::\"{}\"", draw.pick(&USERS))
        }
        2 | 3 => format!("principal in Group::\"{}\"", draw.pick(&GROUPS)),
        4 => {
            only(Who::Credential, &mut scope);
            format!(
                "principal is Credential in Group::\"{}\"",
                draw.pick(&GROUPS)
            )
        }
        5 => {
            let who = draw.pick(&Who::ALL);
            only(who, &mut scope);
            format!("principal is {}", who.name())
        }
        6 => {
            only(Who::Session, &mut scope);
            let (issuer, subject, _) = draw.pick(&SESSIONS);
            format!("principal == Session::\"{issuer}#{subject}\"")
        }
        7 => {
            only(Who::Anonymous, &mut scope);
            "principal == Anonymous::\"anonymous\"".into()
        }
        8 => format!("principal in Credential::\"{}\"", draw.pick(&USERS)),
        _ => "principal".into(),
    };
    (text, scope)
}

fn resource_scope(draw: &mut impl Draw, scope: &mut Scope) -> String {
    let only = |kind: ResourceKind, scope: &mut Scope| {
        scope.resources = vec![kind];
        scope.resource_typed = true;
    };
    match draw.below(10) {
        0 | 1 => format!("resource in Bucket::\"{}\"", draw.pick(&BUCKETS)),
        2 => {
            only(ResourceKind::Bucket, scope);
            format!("resource == Bucket::\"{}\"", draw.pick(&BUCKETS))
        }
        3 => {
            only(ResourceKind::Object, scope);
            let (bucket, key) = (draw.pick(&BUCKETS), draw.pick(&KEYS));
            format!("resource == Object::\"{bucket}/{}\"", escape(key))
        }
        4 => {
            only(ResourceKind::Object, scope);
            format!("resource is Object in Bucket::\"{}\"", draw.pick(&BUCKETS))
        }
        5 => {
            let kind = draw.pick(&[ResourceKind::Object, ResourceKind::Bucket]);
            only(kind, scope);
            format!("resource is {}", kind_name(kind))
        }
        _ => "resource".into(),
    }
}

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Object => "Object",
        ResourceKind::Bucket => "Bucket",
    }
}

/// An action or action group that applies to a resource kind the scope
/// allows (strict validation refuses the others); narrows the scope's
/// kinds to the action's.
fn action_scope(draw: &mut impl Draw, scope: &mut Scope) -> String {
    let fits = |kind: &ResourceKind| scope.resources.contains(kind);
    let actions: Vec<&(String, ResourceKind, &str)> =
        ACTIONS.iter().filter(|(_, kind, _)| fits(kind)).collect();
    let pick_action = |draw: &mut dyn FnMut(usize) -> usize| {
        let hot: Vec<&&(String, ResourceKind, &str)> = actions
            .iter()
            .filter(|(name, _, _)| HOT_ACTIONS.contains(&name.as_str()))
            .collect();
        if !hot.is_empty() && draw(100) < 60 {
            *hot[draw(hot.len())]
        } else {
            actions[draw(actions.len())]
        }
    };
    let mut below = |n: usize| draw.below(n);
    match below(6) {
        0 | 1 => {
            let (name, kind, _) = pick_action(&mut below);
            scope.resources = vec![*kind];
            format!("action == Action::\"s3:{name}\"")
        }
        2 | 3 => {
            let groups: Vec<&str> = ACTION_GROUPS
                .iter()
                .copied()
                .filter(|group| actions.iter().any(|(_, _, g)| g == group))
                .collect();
            let group = groups[below(groups.len())];
            scope.resources = actions
                .iter()
                .filter(|(_, _, g)| *g == group)
                .map(|(_, kind, _)| *kind)
                .fold(Vec::new(), |mut kinds, kind| {
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                    kinds
                });
            format!("action in Action::\"{group}\"")
        }
        4 => {
            let first = pick_action(&mut below).0.clone();
            let second = pick_action(&mut below).0.clone();
            format!("action in [Action::\"s3:{first}\", Action::\"s3:{second}\"]")
        }
        _ => "action".into(),
    }
}

/// What an atom needs: the principal type and resource kind it reads.
type Needs = (Option<Who>, Option<ResourceKind>);

/// A condition of up to `depth` levels of `!`, `&&`, `||`, `if`.
fn condition(draw: &mut impl Draw, scope: &Scope, depth: usize) -> String {
    if depth == 0 || draw.chance(50) {
        return atom(draw, scope);
    }
    match draw.below(4) {
        0 => format!("!({})", condition(draw, scope, depth - 1)),
        1 => format!(
            "({} && {})",
            condition(draw, scope, depth - 1),
            condition(draw, scope, depth - 1)
        ),
        2 => format!(
            "({} || {})",
            condition(draw, scope, depth - 1),
            condition(draw, scope, depth - 1)
        ),
        _ => format!(
            "(if {} then {} else {})",
            condition(draw, scope, depth - 1),
            condition(draw, scope, depth - 1),
            condition(draw, scope, depth - 1)
        ),
    }
}

/// One comparison the scope can read, guarded by type tests where the
/// scope does not fix the type.
fn atom(draw: &mut impl Draw, scope: &Scope) -> String {
    for _ in 0..8 {
        let (text, (who, kind)) = raw_atom(draw);
        let who_fits = who.is_none_or(|who| scope.principals.contains(&who));
        let kind_fits = kind.is_none_or(|kind| scope.resources.contains(&kind));
        if !who_fits || !kind_fits {
            continue;
        }
        let mut guards = Vec::new();
        if let Some(who) = who.filter(|_| !scope.principal_typed) {
            guards.push(format!("principal is {}", who.name()));
        }
        if let Some(kind) = kind.filter(|_| !scope.resource_typed) {
            guards.push(format!("resource is {}", kind_name(kind)));
        }
        if guards.is_empty() {
            return text;
        }
        return format!("({} && ({text}))", guards.join(" && "));
    }
    "context.secure_transport".into()
}

fn raw_atom(draw: &mut impl Draw) -> (String, Needs) {
    let none = (None, None);
    let object = (None, Some(ResourceKind::Object));
    let credential = (Some(Who::Credential), None);
    let session = (Some(Who::Session), None);
    let bucket = draw.pick(&BUCKETS);
    let key = escape(draw.pick(&KEYS));
    let pattern = draw.pick(&PATTERNS);
    let user = draw.pick(&USERS);
    let group = draw.pick(&GROUPS);
    let long = draw.pick(&[0, 100, 5_000]);
    let text: String;
    let needs = match draw.below(40) {
        // Context.
        0 => {
            text = "context.secure_transport".into();
            none
        }
        1 => {
            let mode = draw.pick(&["signed", "presigned", "sts", "anonymous"]);
            text = format!("context.auth_mode == \"{mode}\"");
            none
        }
        2 => {
            let range = draw.pick(&[
                "10.0.0.0/8",
                "203.0.113.0/24",
                "2001:db8::/32",
                "127.0.0.0/8",
                "::1/128",
            ]);
            text = format!("context.source_ip.isInRange(ip(\"{range}\"))");
            none
        }
        3 => {
            let method = draw.pick(&["isIpv4()", "isIpv6()", "isLoopback()"]);
            text = format!("context.source_ip.{method}");
            none
        }
        4 => {
            text = "context.source_ip == ip(\"10.1.2.3\")".into();
            none
        }
        5 => {
            let op = draw.pick(&["<", ">="]);
            text = format!("context.request_time {op} datetime(\"2026-06-01\")");
            none
        }
        6 => {
            text = draw
                .pick(&[
                    "context.request_time.toDate() == datetime(\"2026-03-01\")",
                    "context.request_time.toTime() < duration(\"12h\")",
                    "context.request_time.durationSince(datetime(\"2026-01-01\")) > duration(\"30d\")",
                ])
                .into();
            none
        }
        // Fails to evaluate (overflow) for requests after about 1970.
        7 => {
            text = "context.request_time.offset(duration(\"106751990000d\")) > datetime(\"1970-01-01\")"
                .into();
            none
        }
        8 => {
            let field = draw.pick(&[
                "content_length",
                "write_bytes",
                "bucket_usage",
                "bucket_reserved",
            ]);
            let op = draw.pick(&[">", "<=", "=="]);
            text = format!("context.{field} {op} {long}");
            none
        }
        9 | 10 => {
            text = "context has bucket_hard_cap && context.bucket_usage + context.bucket_reserved + context.write_bytes > context.bucket_hard_cap".into();
            none
        }
        // Fail to evaluate (overflow) for large values.
        11 => {
            text = draw
                .pick(&[
                    "context.content_length * 5 > 10",
                    "context.content_length * context.write_bytes > 100",
                    "context.bucket_usage + context.bucket_reserved + context.write_bytes + context.content_length + context.bucket_usage > 0",
                    "-context.content_length - context.bucket_usage - context.write_bytes - context.bucket_reserved - context.content_length < 0",
                ])
                .into();
            none
        }
        12 => {
            text = format!("context has list_prefix && context.list_prefix like \"{pattern}\"");
            none
        }
        13 => {
            let part = draw.pick(&["first", "second"]);
            let value = draw.pick(&["home", "alice", ""]);
            text =
                format!("context has list_segments && context.list_segments.{part} == \"{value}\"");
            none
        }
        14 => {
            text = draw
                .pick(&[
                    "context has list_prefix",
                    "context has copy_source",
                    "context has bucket_hard_cap",
                ])
                .into();
            none
        }
        15 => {
            text = format!("context has copy_source && context.copy_source.bucket == \"{bucket}\"");
            none
        }
        16 => {
            text = format!("context has copy_source && context.copy_source.key like \"{pattern}\"");
            none
        }
        17 => {
            text = format!(
                "context has copy_source && context.copy_source == {{bucket: \"{bucket}\", key: \"{key}\"}}"
            );
            none
        }
        18 => {
            text = "context.has_response_overrides".into();
            none
        }
        // Record literals whose keys look like context fields or operators.
        19 => {
            text = "{\"source_ip\": 1, \"has\": 2, \"Var\": \"context\"}[\"has\"] == 2".into();
            none
        }
        // The resource.
        20 | 21 => {
            text = format!("resource.key like \"{pattern}\"");
            object
        }
        22 => {
            text = format!("resource.key == \"{key}\"");
            object
        }
        23 => {
            let prefix = draw.pick(&["home/alice/", "", "dir/", "tmp/"]);
            text = format!("resource.prefix == \"{prefix}\"");
            object
        }
        24 => {
            let part = draw.pick(&["first", "second"]);
            let value = draw.pick(&["home", "alice", "", "lead"]);
            text = format!("resource.segments.{part} == \"{value}\"");
            object
        }
        25 => {
            text = format!("resource.bucket == \"{bucket}\"");
            object
        }
        26 | 27 => {
            let value = draw.pick(&["public", "secret"]);
            text = format!(
                "resource.hasTag(\"classification\") && resource.getTag(\"classification\") == \"{value}\""
            );
            object
        }
        28 => {
            text = "resource.hasTag(\"owner\")".into();
            object
        }
        29 => {
            text = format!("resource.name == \"{bucket}\"");
            (None, Some(ResourceKind::Bucket))
        }
        30 => {
            text = format!("resource in Bucket::\"{bucket}\"");
            none
        }
        // The principal.
        31 => {
            text = format!("principal.name == \"{user}\"");
            credential
        }
        32 => {
            text = format!("principal.groups.contains(\"{group}\")");
            credential
        }
        33 => {
            text = "principal.access_key like \"AKIA*\"".into();
            credential
        }
        34 => {
            text = draw
                .pick(&[
                    "resource.segments.second == principal.name",
                    "resource.hasTag(\"owner\") && resource.getTag(\"owner\") == principal.name",
                ])
                .into();
            (Some(Who::Credential), Some(ResourceKind::Object))
        }
        35 => {
            text = "context has list_segments && context.list_segments.second == principal.name"
                .into();
            credential
        }
        36 => {
            text = draw
                .pick(&[
                    "principal.role == \"reader\"",
                    "principal.issuer == \"https://idp.example\"",
                    "principal.hasTag(\"team\") && principal.getTag(\"team\") == \"team-a\"",
                ])
                .into();
            session
        }
        37 => {
            text = "principal.hasTag(\"team\") && resource.hasTag(\"team\") && principal.getTag(\"team\") == resource.getTag(\"team\")".into();
            (Some(Who::Session), Some(ResourceKind::Object))
        }
        38 => {
            text = draw
                .pick(&[
                    "principal in Group::\"admins\"",
                    "principal is Anonymous",
                    "principal == Credential::\"alice\"",
                ])
                .into();
            none
        }
        // The action.
        _ => {
            text = draw
                .pick(&[
                    "action in Action::\"read\"",
                    "action == Action::\"s3:GetObject\"",
                    "action in [Action::\"s3:PutObject\", Action::\"write\"]",
                ])
                .into();
            none
        }
    };
    (text, needs)
}

/// Who asks in a [`RequestCase`].
#[derive(Debug, Clone)]
pub enum Asker {
    /// `Credential::"<name>"` in `groups`.
    Credential {
        /// The name.
        name: &'static str,
        /// The access key.
        access_key: &'static str,
        /// Its groups.
        groups: Vec<String>,
    },
    /// `Session::"<issuer>#<subject>"`.
    Session {
        /// Issuer, subject, role.
        session: (&'static str, &'static str, &'static str),
        /// Its claims (entity tags).
        claims: BTreeMap<String, String>,
    },
    /// `Anonymous::"anonymous"`.
    Anonymous,
}

/// A generated request.
#[derive(Debug, Clone)]
pub struct RequestCase {
    /// Who.
    pub asker: Asker,
    /// The action, without `s3:`.
    pub action: &'static str,
    /// Its resource kind.
    pub kind: ResourceKind,
    /// The bucket.
    pub bucket: &'static str,
    /// The key (object actions only).
    pub key: Option<&'static str>,
    /// The context the gateway is given.
    pub context: RequestContext,
    /// The Cedar datetime `context.request_time` must be.
    pub time: &'static str,
}

impl RequestCase {
    /// A random request.
    pub fn generate(draw: &mut impl Draw) -> Self {
        let (asker, mode) = match draw.below(6) {
            0..=3 => {
                let groups = GROUPS
                    .iter()
                    .chain(&["ghost"])
                    .filter(|_| draw.chance(35))
                    .map(|group| (*group).to_owned())
                    .collect();
                let mode = draw.pick(&[AuthMode::Signed, AuthMode::Presigned]);
                let credential = Asker::Credential {
                    name: draw.pick(&USERS),
                    access_key: draw.pick(&["AKIAEXAMPLE", "ASIATEMP"]),
                    groups,
                };
                (credential, mode)
            }
            4 => {
                let mut claims = BTreeMap::new();
                if draw.chance(60) {
                    claims.insert("team".into(), draw.pick(&["team-a", "team-b"]).into());
                }
                if draw.chance(30) {
                    claims.insert("email".into(), "u@example.com".into());
                }
                let session = Asker::Session {
                    session: draw.pick(&SESSIONS),
                    claims,
                };
                (session, AuthMode::Sts)
            }
            _ => (Asker::Anonymous, AuthMode::Anonymous),
        };
        let (action, kind) = if draw.chance(50) {
            let name = draw.pick(&HOT_ACTIONS);
            let (name, kind, _) = ACTIONS
                .iter()
                .find(|(known, _, _)| known == name)
                .unwrap_or(&ACTIONS[0]);
            (name.as_str(), *kind)
        } else {
            let (name, kind, _) = &ACTIONS[draw.below(ACTIONS.len())];
            (name.as_str(), *kind)
        };
        let mut context = RequestContext::new(mode, draw.pick(&IPS));
        let (millis, time) = draw.pick(&TIMES);
        context.request_time = if millis >= 0 {
            UNIX_EPOCH + Duration::from_millis(millis.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_millis(millis.unsigned_abs())
        };
        context.secure_transport = draw.chance(50);
        let long = |draw: &mut dyn FnMut(usize) -> usize| {
            (draw(100) < 85).then(|| LONGS[draw(LONGS.len())])
        };
        let mut below = |n: usize| draw.below(n);
        context.content_length = long(&mut below);
        context.write_bytes = long(&mut below);
        context.bucket_usage = long(&mut below);
        context.bucket_reserved = long(&mut below);
        context.bucket_hard_cap = long(&mut below).filter(|_| below(2) == 0);
        if below(100) < 30 {
            context.list_prefix = Some(PREFIXES[below(PREFIXES.len())].to_owned());
        }
        if below(100) < 25 {
            let bucket = BUCKETS[below(BUCKETS.len())].to_owned();
            context.copy_source = Some((bucket, KEYS[below(KEYS.len())].to_owned()));
        }
        context.has_response_overrides = below(100) < 15;
        if below(100) < 50 {
            let mut tags = BTreeMap::new();
            for (name, values) in [
                ("classification", ["public", "secret"]),
                ("owner", ["alice", "bob"]),
                ("team", ["team-a", "team-b"]),
            ] {
                if below(2) == 0 {
                    tags.insert(name.to_owned(), values[below(2)].to_owned());
                }
            }
            context.object_tags = Some(tags);
        }
        let bucket = ["photos", "logs", "shared", "other"][below(4)];
        let key = (kind == ResourceKind::Object).then(|| KEYS[below(KEYS.len())]);
        Self {
            asker,
            action,
            kind,
            bucket,
            key,
            context,
            time,
        }
    }
}
