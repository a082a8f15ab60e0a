//! ListObjectsV2 for the s3 backend: `start-after` exclusive on every
//! entry (a common prefix passed back skips itself and every key under
//! it), pages topped up with the continuation token when filtering drops
//! an entry, and the next marker of a truncated page.

use std::sync::Arc;

use http::Method;

use super::client::Client;
use super::error::{Op, Target};
use super::not_s3::not_s3;
use super::objects::{document, head_bucket};
use super::request::{Payload, Request};
use super::xml::{self, ListBucketResult, parse_timestamp, unquote_etag};
use crate::{BackendResult, ListOptions, ListPage, ObjectSummary};

const LIST_OBJECTS: Op = Op::new("ListObjectsV2", Target::Bucket);

/// How many upstream pages one listing may read (a page can lose an
/// entry to `start_after` filtering and need topping up).
const LIST_ROUNDS: usize = 4;

pub(super) async fn list(
    client: &Arc<Client>,
    bucket: &str,
    options: ListOptions,
) -> BackendResult<ListPage> {
    if options.max_keys == 0 {
        head_bucket(client, bucket).await?;
        return Ok(ListPage::default());
    }
    let want = options.max_keys.min(1000);
    let after = options.start_after.as_deref();
    let keep = |name: &str| after.is_none_or(|after| name > after);
    let mut page = ListPage::default();
    let mut token: Option<String> = None;
    for _ in 0..LIST_ROUNDS {
        let count = page.objects.len() + page.common_prefixes.len();
        let mut request = Request::new(Method::GET, LIST_OBJECTS, bucket, None)
            .param("list-type", "2")
            .param("max-keys", (want - count).to_string());
        if !options.prefix.is_empty() {
            request = request.param("prefix", options.prefix.clone());
        }
        if let Some(delimiter) = &options.delimiter {
            request = request.param("delimiter", delimiter.clone());
        }
        match (&token, after) {
            (Some(token), _) => request = request.param("continuation-token", token.clone()),
            (None, Some(after)) => request = request.param("start-after", after),
            (None, None) => {}
        }
        let response = client.send(request, Payload::Empty).await?;
        let body = document(response.check(&[200]).await?, LIST_OBJECTS).await?;
        let result: ListBucketResult = xml::parse(&body)?;
        for entry in result.contents {
            if keep(&entry.key) {
                page.objects.push(ObjectSummary {
                    last_modified: parse_timestamp(&entry.last_modified)?,
                    etag: unquote_etag(&entry.etag),
                    size: entry.size,
                    key: entry.key,
                });
            }
        }
        page.common_prefixes.extend(
            result
                .common_prefixes
                .into_iter()
                .map(|p| p.prefix)
                .filter(|p| keep(p)),
        );
        page.is_truncated = result.is_truncated;
        let count = page.objects.len() + page.common_prefixes.len();
        if count >= want || !result.is_truncated {
            break;
        }
        token = Some(
            result
                .next_continuation_token
                .ok_or_else(|| not_s3("a truncated listing has no continuation token"))?,
        );
    }
    trim_page(&mut page, want);
    Ok(page)
}

/// Keeps the first `want` entries (keys and prefixes in order) and sets
/// the next marker of a truncated page.
fn trim_page(page: &mut ListPage, want: usize) {
    page.objects.sort_by(|a, b| a.key.cmp(&b.key));
    page.common_prefixes.sort();
    while page.objects.len() + page.common_prefixes.len() > want {
        page.is_truncated = true;
        let last_object = page.objects.last().map(|o| o.key.as_str());
        let last_prefix = page.common_prefixes.last().map(String::as_str);
        if last_object > last_prefix {
            page.objects.pop();
        } else {
            page.common_prefixes.pop();
        }
    }
    page.next_start_after = if page.is_truncated {
        let last_object = page.objects.last().map(|o| o.key.clone());
        let last_prefix = page.common_prefixes.last().cloned();
        last_object.max(last_prefix)
    } else {
        None
    };
}
