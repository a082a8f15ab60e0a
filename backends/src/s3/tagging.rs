//! Object tagging for the s3 backend: GET, PUT and DELETE `?tagging`,
//! passed through to the upstream.

use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use super::client::Client;
use super::error::{Op, Target};
use super::objects::{document, send_delete};
use super::request::{Payload, Request};
use super::response::MAX_DOCUMENT;
use super::xml::{self, TaggingDoc};
use crate::{BackendError, BackendResult, ObjectRef, TagSet};

const GET_OBJECT_TAGGING: Op = Op::new("GetObjectTagging", Target::Object);
const PUT_OBJECT_TAGGING: Op = Op::new("PutObjectTagging", Target::Object);
const DELETE_OBJECT_TAGGING: Op = Op::new("DeleteObjectTagging", Target::Object);

/// The `?tagging` request on `object`, of `version_id` when given.
fn tagging_request<'a>(
    method: Method,
    op: Op,
    object: ObjectRef<'a>,
    version_id: Option<&str>,
) -> Request<'a> {
    let request = Request::new(method, op, object.bucket, Some(object.key)).param("tagging", "");
    match version_id {
        Some(version_id) => request.param("versionId", version_id.to_owned()),
        None => request,
    }
}

pub(super) async fn get(
    client: &Arc<Client>,
    object: ObjectRef<'_>,
    version_id: Option<&str>,
) -> BackendResult<TagSet> {
    if object.key.is_empty() {
        return Err(BackendError::NoSuchKey);
    }
    let request = tagging_request(Method::GET, GET_OBJECT_TAGGING, object, version_id);
    let response = client.send(request, Payload::Empty).await?;
    let body = document(response.check(&[200]).await?, GET_OBJECT_TAGGING).await?;
    let doc: TaggingDoc = xml::parse(&body)?;
    Ok(doc
        .tag_set
        .tag
        .into_iter()
        .map(|tag| (tag.key, tag.value))
        .collect())
}

pub(super) async fn put(
    client: &Arc<Client>,
    object: ObjectRef<'_>,
    version_id: Option<&str>,
    tags: &TagSet,
) -> BackendResult<()> {
    if object.key.is_empty() {
        return Err(BackendError::NoSuchKey);
    }
    let doc = xml::tagging_request(tags)
        .ok_or_else(|| BackendError::invalid_argument("a tag cannot be sent to the storage"))?;
    let request = tagging_request(Method::PUT, PUT_OBJECT_TAGGING, object, version_id);
    let response = client
        .send(request, Payload::Document(Bytes::from(doc)))
        .await?;
    response.check(&[200]).await?.body(MAX_DOCUMENT).await?;
    Ok(())
}

pub(super) async fn delete(
    client: &Arc<Client>,
    object: ObjectRef<'_>,
    version_id: Option<&str>,
) -> BackendResult<()> {
    if object.key.is_empty() {
        return Err(BackendError::NoSuchKey);
    }
    let request = tagging_request(Method::DELETE, DELETE_OBJECT_TAGGING, object, version_id);
    send_delete(client, request).await
}
