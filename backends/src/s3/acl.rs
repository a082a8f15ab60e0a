//! ACLs and bucket tags for the s3 backend, passed through to the upstream:
//! GET and PUT `?acl` on objects and buckets (a canned ACL is set with
//! `x-amz-acl`; the upstream's AccessControlPolicy reads back as the
//! canned ACL it is exactly equivalent to), and GET, PUT and DELETE
//! `?tagging` on buckets (S3's `NoSuchTagSet` is an empty tag set).

use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use super::client::Client;
use super::error::{Op, Target};
use super::objects::{document, send_delete};
use super::request::{Payload, Request};
use super::response::MAX_DOCUMENT;
use super::xml::{self, TaggingDoc};
use crate::{BackendError, BackendResult, CannedAcl, TagSet};

const GET_OBJECT_ACL: Op = Op::new("GetObjectAcl", Target::Object);
const PUT_OBJECT_ACL: Op = Op::new("PutObjectAcl", Target::Object);
const GET_BUCKET_ACL: Op = Op::new("GetBucketAcl", Target::Bucket);
const PUT_BUCKET_ACL: Op = Op::new("PutBucketAcl", Target::Bucket);
const GET_BUCKET_TAGGING: Op = Op::new("GetBucketTagging", Target::Bucket);
const PUT_BUCKET_TAGGING: Op = Op::new("PutBucketTagging", Target::Bucket);
const DELETE_BUCKET_TAGGING: Op = Op::new("DeleteBucketTagging", Target::Bucket);

/// The canned ACL of the object, or of the bucket when `key` is `None`.
pub(super) async fn get(
    client: &Arc<Client>,
    bucket: &str,
    key: Option<&str>,
) -> BackendResult<CannedAcl> {
    if key.is_some_and(str::is_empty) {
        return Err(BackendError::NoSuchKey);
    }
    let op = if key.is_some() {
        GET_OBJECT_ACL
    } else {
        GET_BUCKET_ACL
    };
    let request = Request::new(Method::GET, op, bucket, key).param("acl", "");
    let response = client.send(request, Payload::Empty).await?;
    let body = document(response.check(&[200]).await?, op).await?;
    let grants = cedargate_s3::xml::parse_access_control_policy(&body)
        .map_err(|_| super::not_s3::not_s3("an AccessControlPolicy answer is not valid"))?;
    CannedAcl::from_grants(&grants, None).ok_or(BackendError::NotImplemented {
        operation: op.name,
        backend: "s3",
    })
}

/// Sets the canned ACL of the object, or of the bucket when `key` is `None`.
pub(super) async fn put(
    client: &Arc<Client>,
    bucket: &str,
    key: Option<&str>,
    acl: CannedAcl,
) -> BackendResult<()> {
    if key.is_some_and(str::is_empty) {
        return Err(BackendError::NoSuchKey);
    }
    let op = if key.is_some() {
        PUT_OBJECT_ACL
    } else {
        PUT_BUCKET_ACL
    };
    let mut request = Request::new(Method::PUT, op, bucket, key).param("acl", "");
    request.headers.add("x-amz-acl", acl.as_str())?;
    let response = client.send(request, Payload::Empty).await?;
    response.check(&[200]).await?.body(MAX_DOCUMENT).await?;
    Ok(())
}

pub(super) async fn get_bucket_tagging(
    client: &Arc<Client>,
    bucket: &str,
) -> BackendResult<TagSet> {
    let request = Request::new(Method::GET, GET_BUCKET_TAGGING, bucket, None).param("tagging", "");
    let response = client.send(request, Payload::Empty).await?;
    if response.status == 404 {
        let failure = response.failure().await?;
        if failure.failure.code() == Some("NoSuchTagSet") {
            return Ok(TagSet::new());
        }
        return Err(failure.into_error_for_op());
    }
    let body = document(response.check(&[200]).await?, GET_BUCKET_TAGGING).await?;
    let doc: TaggingDoc = xml::parse(&body)?;
    Ok(doc
        .tag_set
        .tag
        .into_iter()
        .map(|tag| (tag.key, tag.value))
        .collect())
}

pub(super) async fn put_bucket_tagging(
    client: &Arc<Client>,
    bucket: &str,
    tags: &TagSet,
) -> BackendResult<()> {
    let doc = xml::tagging_request(tags)
        .ok_or_else(|| BackendError::invalid_argument("a tag cannot be sent to the storage"))?;
    let request = Request::new(Method::PUT, PUT_BUCKET_TAGGING, bucket, None).param("tagging", "");
    let response = client
        .send(request, Payload::Document(Bytes::from(doc)))
        .await?;
    response
        .check(&[200, 204])
        .await?
        .body(MAX_DOCUMENT)
        .await?;
    Ok(())
}

pub(super) async fn delete_bucket_tagging(client: &Arc<Client>, bucket: &str) -> BackendResult<()> {
    let request =
        Request::new(Method::DELETE, DELETE_BUCKET_TAGGING, bucket, None).param("tagging", "");
    send_delete(client, request).await
}
