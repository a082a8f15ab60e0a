//! Bucket handlers: ListBuckets, HeadBucket, GetBucketLocation,
//! ListObjects and ListObjectsV2.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cedargate_backends::ListOptions;

use super::bucket_pages::BucketPaging;
use super::{HandlerEnv, backend_error, target_error};
use crate::buckets::BucketTarget;
use crate::request::S3Request;
use crate::response::S3Response;
use crate::xml;
use cedargate_s3::error::{S3Error, S3ErrorCode};

/// Whether ListBuckets shows `target` to the caller: decided per bucket,
/// on the bucket's stored ACL when policies read it (a bucket whose ACL
/// cannot be read is not shown).
async fn listed(target: &BucketTarget, env: HandlerEnv<'_>) -> bool {
    if !env.authz.reads_acl() {
        return env.authz.decide("ListBuckets", &target.name, None).allowed;
    }
    let Ok(acl) = crate::resource_acl::stored_bucket_acl(target).await else {
        return false;
    };
    let seen = crate::authorize::Seen {
        tags: None,
        acl: Some(acl.as_str().to_owned()),
    };
    env.authz
        .decide_with("ListBuckets", &target.name, None, &seen)
        .allowed
}

pub(super) async fn list_buckets(
    request: &S3Request,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    let paging = BucketPaging::from_request(request)?;
    // The policy filter first, then the listing's own selection; the
    // creation dates are looked up for the page only.
    let mut selected = Vec::new();
    for target in env.buckets.iter() {
        if paging.selects(&target.name, env.region) && listed(target, env).await {
            selected.push((target.name.clone(), Created::Ask(target)));
        }
    }
    match env.buckets.unlisted().await {
        Ok(unlisted) => {
            for (target, created) in unlisted {
                if paging.selects(&target.name, env.region) && listed(&target, env).await {
                    selected.push((target.name, Created::Known(created)));
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "the default route's buckets could not be listed");
        }
    }
    let (page, token) = paging.page(selected);
    let mut buckets = Vec::with_capacity(page.len());
    for (name, created) in page {
        let created = match created {
            Created::Known(created) => created,
            Created::Ask(target) => {
                match target.backend.head_bucket(&target.backend_bucket).await {
                    Ok(info) => info.created,
                    Err(error) => {
                        tracing::warn!(bucket = %target.name, %error, "bucket not reachable for ListBuckets");
                        None
                    }
                }
            }
        };
        buckets.push((name, created));
    }
    let page = xml::BucketsPage {
        buckets: &buckets,
        region: env.region,
        prefix: request.query.get("prefix"),
        continuation_token: token.as_deref(),
    };
    Ok(S3Response::xml(xml::list_all_my_buckets_result(
        &super::owner(),
        &page,
    )))
}

/// A listed bucket's creation date: known from the listing, or asked of
/// its backend once it is on the page.
enum Created<'a> {
    Known(Option<std::time::SystemTime>),
    Ask(&'a BucketTarget),
}

pub(super) async fn head_bucket(
    target: &BucketTarget,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    target
        .backend
        .head_bucket(&target.backend_bucket)
        .await
        .map_err(backend_error)?;
    Ok(S3Response::empty(200).header("x-amz-bucket-region", env.region))
}

pub(super) async fn get_bucket_location(
    target: &BucketTarget,
    env: HandlerEnv<'_>,
) -> Result<S3Response, S3Error> {
    target
        .backend
        .head_bucket(&target.backend_bucket)
        .await
        .map_err(backend_error)?;
    Ok(S3Response::xml(cedargate_s3::xml::location_constraint(
        env.region,
    )))
}

/// Parameters common to both listing versions: the client's `prefix`, and
/// the backend listing options without their start.
fn list_options(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<(String, ListOptions, bool), S3Error> {
    let (prefix, delimiter, encode_url) = request.listing_params()?;
    let max_keys = request
        .query_number("max-keys", 0..=i32::MAX as u64)?
        .unwrap_or(1000);
    let options = ListOptions {
        prefix: target.backend_key(&prefix).into_owned(),
        delimiter,
        start_after: None,
        max_keys: usize::try_from(max_keys.min(1000)).unwrap_or(1000),
    };
    Ok((prefix, options, encode_url))
}

pub(super) async fn list_objects_v1(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let (prefix, mut options, encode_url) = list_options(request, target)?;
    let marker = request.query.get("marker").filter(|m| !m.is_empty());
    options.start_after = target.backend_marker(marker);
    let requested_max = options.max_keys;
    let page = target
        .backend
        .list_objects(&target.backend_bucket, options.clone())
        .await
        .map_err(target_error(target))?;
    let page = target.client_page(page);
    let params = xml::ListObjectsParams {
        bucket: &target.name,
        prefix: &prefix,
        delimiter: options.delimiter.as_deref(),
        max_keys: requested_max,
        encoding_type_url: encode_url,
        owner: Some(&super::owner()),
    };
    Ok(S3Response::xml(xml::list_bucket_result_v1(
        &params,
        marker.unwrap_or_default(),
        &page,
    )))
}

pub(super) async fn list_objects_v2(
    request: &S3Request,
    target: &BucketTarget,
) -> Result<S3Response, S3Error> {
    let (prefix, mut options, encode_url) = list_options(request, target)?;
    let token = request.query.get("continuation-token");
    let start_after = request.query.get("start-after").filter(|s| !s.is_empty());
    let client_start = match token {
        Some(token) => Some(decode_token(token)?),
        None => start_after.map(str::to_owned),
    };
    options.start_after = target.backend_marker(client_start.as_deref());
    let page = target
        .backend
        .list_objects(&target.backend_bucket, options.clone())
        .await
        .map_err(target_error(target))?;
    let page = target.client_page(page);
    let next_token = page
        .next_start_after
        .as_ref()
        .filter(|_| page.is_truncated)
        .map(|key| URL_SAFE_NO_PAD.encode(key.as_bytes()));
    let owner = super::owner();
    let params = xml::ListObjectsParams {
        bucket: &target.name,
        prefix: &prefix,
        delimiter: options.delimiter.as_deref(),
        max_keys: options.max_keys,
        encoding_type_url: encode_url,
        owner: (request.query.get("fetch-owner") == Some("true")).then_some(&owner),
    };
    let v2 = xml::ListObjectsV2Params {
        continuation_token: token,
        next_continuation_token: next_token.as_deref(),
        start_after,
    };
    Ok(S3Response::xml(xml::list_bucket_result_v2(
        &params, &v2, &page,
    )))
}

/// A continuation token is the base64url of the client key to start after
/// (the key as the client sees it, so the token never reveals the prefix).
pub(super) fn decode_token(token: &str) -> Result<String, S3Error> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                "the continuation token provided is incorrect",
            )
        })
}
