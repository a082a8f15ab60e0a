//! The console's JSON endpoints (and the login form's POST), each a small
//! function over the gateway's state: [`super::route`] picks one after the
//! admin token was checked. Every answer is JSON and bounded.

use std::sync::Arc;

use serde_json::{Value, json};

use super::auth::Login;
use super::{AdminRequest, ConsoleState, Reply, playground};
use crate::pipeline::Gateway;

/// The login form's POST: waits imposed on a source that sent wrong
/// tokens come first (429, the token untested), then the token.
pub(super) fn login(console: &ConsoleState, request: &AdminRequest<'_>) -> Reply {
    let source = request.source();
    if console.auth.requires_token()
        && let Err(wait) = console.logins.check(source)
    {
        return Reply::wait(wait);
    }
    let token = form_urlencoded::parse(&request.body)
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    match console.auth.login(&token) {
        Login::Open => Reply::redirect("/console", None),
        Login::Started(cookie) => {
            console.logins.succeeded(source);
            tracing::info!(source = %source, "console login");
            Reply::redirect("/console", Some(cookie))
        }
        Login::Refused => {
            console.logins.failed(source);
            Reply::error(401, "unauthorized", "wrong admin token")
        }
        Login::Unavailable => Reply::error(503, "unavailable", "try again later"),
    }
}

pub(super) fn decisions(console: &ConsoleState, query: Option<&str>) -> Reply {
    let capacity = console.decisions.capacity();
    let limit = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(name, _)| name == "limit")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(capacity)
        .min(capacity);
    let entries: Vec<Value> = console
        .decisions
        .recent(limit)
        .iter()
        .map(|entry| entry.to_json())
        .collect();
    Reply::json(200, &json!({ "capacity": capacity, "decisions": entries }))
}

/// What the playground's pickers offer: principals (names and groups,
/// never keys), actions and buckets.
pub(super) fn choices(gateway: &Gateway) -> Reply {
    let credentials = gateway.credentials.load();
    let mut principals: Vec<Value> = credentials
        .iter()
        .map(|c| json!({ "name": c.principal, "groups": c.groups }))
        .collect();
    principals.sort_by_key(|p| p["name"].as_str().map(str::to_owned));
    principals.dedup();
    let buckets: Vec<String> = gateway.config.buckets.keys().cloned().collect();
    Reply::json(
        200,
        &json!({
            "principals": principals,
            "actions": cedargate_policies::action_names(),
            "buckets": buckets,
        }),
    )
}

fn json_body<T: serde::de::DeserializeOwned>(request: &AdminRequest<'_>) -> Result<T, Reply> {
    let is_json = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(Reply::error(
            415,
            "unsupported_media_type",
            "send `Content-Type: application/json`",
        ));
    }
    serde_json::from_slice(&request.body).map_err(|error| {
        Reply::error(
            400,
            "invalid_request",
            &format!("invalid JSON body: {error}"),
        )
    })
}

pub(super) fn decide(gateway: &Gateway, request: &AdminRequest<'_>) -> Reply {
    let input: playground::DecideInput = match json_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let asked = input.to_asked(&gateway.credentials.load());
    let snapshot = gateway.policies.snapshot();
    Reply::json(200, &playground::asked_json(&asked, &snapshot))
}

pub(super) async fn candidate(
    gateway: &Arc<Gateway>,
    console: &ConsoleState,
    request: &AdminRequest<'_>,
) -> Reply {
    let input: playground::CandidateInput = match json_body(request) {
        Ok(input) => input,
        Err(reply) => return reply,
    };
    let Ok(_slot) = console.candidate_slots.try_acquire() else {
        return Reply::error(429, "busy", "two candidates are being tried; try again");
    };
    let name = match playground::check_candidate(&input) {
        Ok(name) => name.to_owned(),
        Err(message) => return Reply::error(400, "invalid_request", &message),
    };
    let limit = input
        .limit
        .unwrap_or(playground::MAX_REPLAY)
        .min(playground::MAX_REPLAY);
    let recorded = console.decisions.recent(limit);
    let live = gateway.policies.snapshot();
    let text = input.text;
    match tokio::task::spawn_blocking(move || {
        playground::try_candidate(&live, &name, &text, &recorded)
    })
    .await
    {
        Ok(answer) => Reply::json(200, &answer),
        Err(_) => Reply::error(500, "internal", "internal error"),
    }
}
