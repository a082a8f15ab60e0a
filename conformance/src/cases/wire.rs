//! Wire-shape rules, each with a case of its own (they are also checked on
//! every error the other cases provoke): the `<Error>` document, escaping of
//! client-supplied values, no body on HEAD errors, unique request ids, and
//! generic 5xx messages. Most need no fixtures: an unsigned request to a
//! probe bucket is answered with an error by any gateway.

use std::time::SystemTime;

use super::{Case, Ctx, Outcome, Step};
use crate::check::{Target, describe, wire_problems};
use crate::errxml;
use crate::request::{Payload, S3Request};
use crate::table::RowId;

/// How many requests the request-id uniqueness sample sends.
const ID_SAMPLE: usize = 8;
/// The client-supplied key whose escaping is checked.
const AWKWARD_KEY: &str = "<x>&\"y\"";

pub(crate) const CASES: &[Case] = &[
    Case {
        name: "wire.error_shape",
        row: RowId::Wire("xml_shape"),
        needs: &[],
        about: "unsigned GET in a probe bucket: the error document's shape",
        run: error_shape,
    },
    Case {
        name: "wire.escaping",
        row: RowId::Wire("escaping"),
        needs: &[],
        about: "GET of key `<x>&\"y\"` (signed in buckets.main when given): Resource round-trips through an XML parser",
        run: escaping,
    },
    Case {
        name: "wire.head_error_no_body",
        row: RowId::Wire("no_body"),
        needs: &[],
        about: "HEAD of a missing object (signed in buckets.main when given): an error status and no body bytes",
        run: head_error_no_body,
    },
    Case {
        name: "wire.unique_request_ids",
        row: RowId::Wire("unique_request_ids"),
        needs: &[],
        about: "several unsigned GETs: every answer has a distinct x-amz-request-id",
        run: unique_request_ids,
    },
    Case {
        name: "wire.generic_5xx",
        row: RowId::Wire("generic_5xx"),
        needs: &[
            "credentials.full",
            "buckets.unreachable_backend|buckets.garbage_backend|buckets.internal_error",
        ],
        about: "signed GET in a broken-backend bucket: a 5xx whose message is generic and leaks nothing",
        run: generic_5xx,
    },
];

/// A request for `key` in the main bucket signed with `full` when both
/// fixtures exist, else an unsigned one in a probe bucket.
fn probe(ctx: &Ctx<'_>, method: &str, key: &str) -> Result<(String, S3Request), Outcome> {
    let fixtures = ctx.fixtures;
    match (&fixtures.buckets.main, &fixtures.credentials.full) {
        (Some(bucket), Some(full)) => {
            let request = S3Request::new(method, bucket, Some(key));
            let request = ctx.signed(request, full, SystemTime::now(), &Payload::Body)?;
            Ok((bucket.clone(), request))
        }
        _ => {
            let bucket = ctx.probe_bucket();
            let request = S3Request::new(method, &bucket, Some(key));
            Ok((bucket, request))
        }
    }
}

fn error_status(status: u16, problems: &mut Vec<String>) {
    if status < 400 {
        problems.push(format!("status {status}, expected an error"));
    }
}

fn error_shape(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.probe_bucket();
    let request = S3Request::new("GET", &bucket, Some(&ctx.key("shape")));
    let response = ctx.send(&request)?;
    let mut problems = Vec::new();
    error_status(response.status, &mut problems);
    problems.extend(wire_problems(
        ctx,
        &response,
        &Target::of(&request, Some(&bucket)),
    ));
    Ok(Outcome::judged(describe(&response), problems).expecting("4xx <Error> document"))
}

fn escaping(ctx: &Ctx<'_>) -> Step {
    let key = ctx.key(AWKWARD_KEY);
    let (bucket, request) = probe(ctx, "GET", &key)?;
    let response = ctx.send(&request)?;
    let mut problems = Vec::new();
    error_status(response.status, &mut problems);
    problems.extend(wire_problems(
        ctx,
        &response,
        &Target::of(&request, Some(&bucket)),
    ));
    if let Ok(doc) = errxml::parse(&response.body) {
        let wanted = format!("/{bucket}/{key}");
        match doc.get("Resource") {
            Some(resource) if resource == wanted => {}
            Some(resource) => problems.push(format!(
                "<Resource> `{resource}` does not round-trip to `{wanted}`"
            )),
            None => {}
        }
    }
    Ok(Outcome::judged(describe(&response), problems).expecting("Resource round-trips"))
}

fn head_error_no_body(ctx: &Ctx<'_>) -> Step {
    let (bucket, request) = probe(ctx, "HEAD", &ctx.key("head-missing"))?;
    let response = ctx.send(&request)?;
    let mut problems = Vec::new();
    error_status(response.status, &mut problems);
    problems.extend(wire_problems(
        ctx,
        &response,
        &Target::of(&request, Some(&bucket)),
    ));
    let got = format!("{} {} body bytes", response.status, response.body.len());
    Ok(Outcome::judged(got, problems).expecting("4xx, 0 body bytes"))
}

fn unique_request_ids(ctx: &Ctx<'_>) -> Step {
    let bucket = ctx.probe_bucket();
    let mut ids: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for i in 0..ID_SAMPLE {
        let request = S3Request::new("GET", &bucket, Some(&ctx.key(&format!("id-{i}"))));
        let response = ctx.send(&request)?;
        match response.header("x-amz-request-id") {
            Some(id) if !id.is_empty() => {
                if ids.iter().any(|seen| seen == id) {
                    problems.push(format!("request id `{id}` repeated"));
                }
                ids.push(id.to_owned());
            }
            _ => problems.push(format!("answer {} has no x-amz-request-id", i + 1)),
        }
    }
    let got = format!("{} distinct of {ID_SAMPLE}", {
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        unique.len()
    });
    Ok(Outcome::judged(got, problems).expecting(format!("{ID_SAMPLE} distinct ids")))
}

fn generic_5xx(ctx: &Ctx<'_>) -> Step {
    let buckets = &ctx.fixtures.buckets;
    let bucket = buckets
        .unreachable_backend
        .as_ref()
        .or(buckets.garbage_backend.as_ref())
        .or(buckets.internal_error.as_ref());
    let bucket = super::need(bucket, "buckets.unreachable_backend")?;
    let request = S3Request::new("GET", bucket, Some(&ctx.key("generic-5xx")));
    let response = ctx.send_signed(request.clone(), ctx.full()?)?;
    let mut problems = Vec::new();
    if response.status < 500 {
        problems.push(format!("status {}, expected a 5xx", response.status));
    }
    problems.extend(wire_problems(
        ctx,
        &response,
        &Target::of(&request, Some(bucket)),
    ));
    let policy = &ctx.table.wire_policy;
    let expected = format!("5xx \"{}\"", policy.generic_5xx_message);
    Ok(Outcome::judged(describe(&response), problems).expecting(expected))
}
