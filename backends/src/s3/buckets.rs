//! Bucket-level operations of the s3 backend: CreateBucket (with the
//! region's LocationConstraint), DeleteBucket, ListBuckets,
//! Get/PutBucketVersioning and ListObjectVersions, passed through to the
//! upstream.

use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use super::client::Client;
use super::error::{Op, Target};
use super::objects::{document, head_bucket, send_delete};
use super::request::{Payload, Request};
use super::response::MAX_DOCUMENT;
use super::xml::{self, ListAllMyBucketsResult, ListVersionsResult, VersioningConfiguration};
use crate::{
    BackendError, BackendResult, BucketSummary, ListVersionsOptions, ListVersionsPage,
    ObjectVersion, VersioningStatus,
};

const CREATE_BUCKET: Op = Op::new("CreateBucket", Target::Bucket);
const DELETE_BUCKET: Op = Op::new("DeleteBucket", Target::Bucket);
const LIST_BUCKETS: Op = Op::new("ListBuckets", Target::Bucket);
const GET_BUCKET_VERSIONING: Op = Op::new("GetBucketVersioning", Target::Bucket);
const PUT_BUCKET_VERSIONING: Op = Op::new("PutBucketVersioning", Target::Bucket);
const LIST_OBJECT_VERSIONS: Op = Op::new("ListObjectVersions", Target::Bucket);

/// Regions where CreateBucket takes no LocationConstraint: AWS's default
/// region, and the signing regions of services that choose themselves.
const NO_LOCATION_CONSTRAINT: &[&str] = &["us-east-1", "auto"];

pub(super) async fn create(
    client: &Arc<Client>,
    bucket: &str,
    project_id: Option<&str>,
) -> BackendResult<()> {
    // In us-east-1 S3 answers 200 to creating a bucket one already owns;
    // a HEAD first makes that BucketAlreadyOwnedByYou everywhere.
    if head_bucket(client, bucket).await.is_ok() {
        return Err(BackendError::BucketAlreadyOwnedByYou);
    }
    let mut request = Request::new(Method::PUT, CREATE_BUCKET, bucket, None);
    request.headers.add_opt("x-amz-project-id", project_id)?;
    let region = client.region();
    let payload = if NO_LOCATION_CONSTRAINT.contains(&region) {
        Payload::Empty
    } else {
        let region = xml::text(region).unwrap_or_default();
        Payload::Document(Bytes::from(format!(
            "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint>\
             </CreateBucketConfiguration>"
        )))
    };
    let response = client.send(request, payload).await?;
    response.check(&[200]).await?.body(MAX_DOCUMENT).await?;
    Ok(())
}

pub(super) async fn delete(client: &Arc<Client>, bucket: &str) -> BackendResult<()> {
    let request = Request::new(Method::DELETE, DELETE_BUCKET, bucket, None);
    send_delete(client, request).await
}

pub(super) async fn list(
    client: &Arc<Client>,
    project_id: Option<&str>,
) -> BackendResult<Vec<BucketSummary>> {
    let mut request = Request::service(Method::GET, LIST_BUCKETS);
    request.headers.add_opt("x-amz-project-id", project_id)?;
    let response = client.send(request, Payload::Empty).await?;
    let body = document(response.check(&[200]).await?, LIST_BUCKETS).await?;
    let result: ListAllMyBucketsResult = xml::parse(&body)?;
    let mut buckets = Vec::new();
    for bucket in result.buckets.bucket {
        let created = match &bucket.creation_date {
            Some(date) => Some(xml::parse_timestamp(date)?),
            None => None,
        };
        buckets.push(BucketSummary {
            name: bucket.name,
            created,
        });
    }
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(buckets)
}

pub(super) async fn versioning(
    client: &Arc<Client>,
    bucket: &str,
) -> BackendResult<VersioningStatus> {
    let request =
        Request::new(Method::GET, GET_BUCKET_VERSIONING, bucket, None).param("versioning", "");
    let response = client.send(request, Payload::Empty).await?;
    let body = document(response.check(&[200]).await?, GET_BUCKET_VERSIONING).await?;
    let result: VersioningConfiguration = xml::parse(&body)?;
    Ok(match result.status.as_deref().map(str::trim) {
        Some("Enabled") => VersioningStatus::Enabled,
        Some("Suspended") => VersioningStatus::Suspended,
        _ => VersioningStatus::Unversioned,
    })
}

pub(super) async fn put_versioning(
    client: &Arc<Client>,
    bucket: &str,
    status: VersioningStatus,
) -> BackendResult<()> {
    let status = status.as_str().ok_or_else(|| {
        BackendError::invalid_argument("versioning can only be enabled or suspended")
    })?;
    let request =
        Request::new(Method::PUT, PUT_BUCKET_VERSIONING, bucket, None).param("versioning", "");
    let doc = format!(
        "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <Status>{status}</Status></VersioningConfiguration>"
    );
    let response = client
        .send(request, Payload::Document(Bytes::from(doc)))
        .await?;
    response.check(&[200]).await?.body(MAX_DOCUMENT).await?;
    Ok(())
}

pub(super) async fn list_versions(
    client: &Arc<Client>,
    bucket: &str,
    options: ListVersionsOptions,
) -> BackendResult<ListVersionsPage> {
    let mut request = Request::new(Method::GET, LIST_OBJECT_VERSIONS, bucket, None)
        .param("versions", "")
        .param("max-keys", options.max_keys.min(1000).to_string());
    if !options.prefix.is_empty() {
        request = request.param("prefix", options.prefix);
    }
    if let Some(delimiter) = options.delimiter {
        request = request.param("delimiter", delimiter);
    }
    if let Some(marker) = options.key_marker {
        request = request.param("key-marker", marker);
    }
    if let Some(marker) = options.version_id_marker {
        request = request.param("version-id-marker", marker);
    }
    let response = client.send(request, Payload::Empty).await?;
    let body = document(response.check(&[200]).await?, LIST_OBJECT_VERSIONS).await?;
    let result: ListVersionsResult = xml::parse(&body)?;
    let entries = (result.version.into_iter().map(|version| (version, false))).chain(
        result
            .delete_marker
            .into_iter()
            .map(|marker| (marker, true)),
    );
    let mut versions = Vec::new();
    for (version, is_delete_marker) in entries {
        versions.push(ObjectVersion {
            last_modified: xml::parse_timestamp(&version.last_modified)?,
            etag: xml::unquote_etag(&version.etag),
            key: version.key,
            version_id: version.version_id,
            is_latest: version.is_latest,
            is_delete_marker,
            size: version.size,
        });
    }
    // Versions and delete markers come as two lists here: back to S3's
    // order, by key and newest first within a key (the current version
    // first: timestamps have whole seconds).
    versions.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then_with(|| b.is_latest.cmp(&a.is_latest))
            .then_with(|| b.last_modified.cmp(&a.last_modified))
    });
    Ok(ListVersionsPage {
        versions,
        common_prefixes: result
            .common_prefixes
            .into_iter()
            .map(|common| common.prefix)
            .collect(),
        is_truncated: result.is_truncated,
        next_key_marker: result.next_key_marker.filter(|_| result.is_truncated),
        next_version_id_marker: result
            .next_version_id_marker
            .filter(|_| result.is_truncated),
    })
}
