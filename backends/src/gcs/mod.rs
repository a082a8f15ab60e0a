//! The `gcs` backend: Google Cloud Storage through its S3-interoperable
//! XML API (`storage.googleapis.com`, HMAC keys), built on the
//! [`s3`](crate::s3) backend plus GCS's documented differences.
//!
//! | GCS difference | what this backend does |
//! |---|---|
//! | No aws-chunked / streaming-signature uploads | the s3 backend always sends a plain body with `Content-Length` and `UNSIGNED-PAYLOAD` (the gateway decodes aws-chunked before a backend sees it) |
//! | SDK checksum headers (`x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm`, `x-amz-trailer`) are rejected | never sent: the s3 backend runs with `checksums = false` (no client checksum, multipart checksum algorithm or `x-amz-checksum-mode` goes out; the gateway has verified the client's checksum), and this backend drops the client's checksum; the wire test checks it |
//! | `Accept-Encoding` may be rewritten on the way | never sent, so never signed |
//! | Multi-object delete (`POST /bucket?delete`) requires `Content-MD5` | the s3 backend's DeleteObjects already sends every XML document with its `Content-MD5` (and signed SHA-256); batches of at most 1,000 keys |
//! | No UploadPartCopy in XML API multipart uploads | `NotImplemented`, without any request |
//! | `x-amz-project-id` names the project for bucket listing and creation | sent with ListBuckets and CreateBucket when `project_id` is configured |
//! | No object tagging in the XML API | Get/Put/DeleteObjectTagging answer `NotImplemented` |
//! | Versions are generations, listed in GCS's own shape | GetBucketVersioning passes through; ListObjectVersions of an unversioned bucket lists its objects as version `null`, of a versioned one `NotImplemented`; `versionId` other than `null` is `NotImplemented` |
//! | Signing region | `auto` by default, as GCS documents for SigV4 with HMAC keys |
//!
//! Sources: Cloud Storage docs "Migrating from Amazon S3 to Cloud Storage"
//! (simple migration, HMAC keys), "XML API multipart uploads", and "Cloud
//! Storage XML API" request reference ("Delete multiple objects").

use std::time::Duration;

use async_trait::async_trait;

use crate::s3::{S3Backend, S3Config, SecretKey};
use crate::{
    Backend, BackendError, BackendResult, BodySource, BucketInfo, BucketSummary, CompleteOptions,
    CompletedPart, CopyOptions, CopyOutput, DeleteOutput, GetObjectOutput, GetOptions, ListOptions,
    ListPage, ListPartsOptions, ListPartsPage, ListUploadsOptions, ListUploadsPage,
    ListVersionsOptions, ListVersionsPage, ObjectIdentifier, ObjectMeta, ObjectRef,
    PartCopyOptions, PartOptions, PartOutput, PutOptions, PutOutput, TagSet, UploadRef,
    VersioningStatus,
};

/// GCS's XML API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// How to reach Cloud Storage.
#[derive(Debug, Clone)]
pub struct GcsConfig {
    /// The XML API endpoint; [`DEFAULT_ENDPOINT`] unless testing.
    pub endpoint: String,
    /// The HMAC key's access id.
    pub access_id: String,
    /// The HMAC key's secret.
    pub secret: SecretKey,
    /// The project for requests that need `x-amz-project-id`.
    pub project_id: Option<String>,
    /// The region signed for (`auto`).
    pub region: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long the service may stay silent mid-request.
    pub read_timeout: Duration,
}

impl GcsConfig {
    /// The default endpoint and region with an HMAC key.
    pub fn new(access_id: impl Into<String>, secret: impl Into<SecretKey>) -> Self {
        Self {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            access_id: access_id.into(),
            secret: secret.into(),
            project_id: None,
            region: "auto".to_owned(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// Cloud Storage behind the [`Backend`] trait.
#[derive(Debug)]
pub struct GcsBackend {
    inner: S3Backend,
    project_id: Option<String>,
}

impl GcsBackend {
    /// A backend for `config`.
    pub fn new(config: GcsConfig) -> BackendResult<Self> {
        let mut s3 = S3Config::new(
            config.endpoint,
            config.region,
            config.access_id,
            config.secret,
        );
        s3.path_style = true;
        s3.connect_timeout = config.connect_timeout;
        s3.read_timeout = config.read_timeout;
        s3.checksums = false;
        Ok(Self {
            inner: S3Backend::new(s3)?,
            project_id: config.project_id,
        })
    }

    /// The project sent as `x-amz-project-id` where GCS needs it.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }
}

/// GCS names versions by generation, not S3 version id: only `null`, the
/// current object, can be read.
fn current_version(mut options: GetOptions, operation: &'static str) -> BackendResult<GetOptions> {
    match options.version_id.take().as_deref() {
        None | Some("null") => Ok(options),
        Some(_) => Err(lacks(operation)),
    }
}

fn lacks(operation: &'static str) -> BackendError {
    BackendError::NotImplemented {
        operation,
        backend: "gcs",
    }
}

#[async_trait]
impl Backend for GcsBackend {
    fn kind(&self) -> &'static str {
        "gcs"
    }

    fn check_key(&self, key: &str) -> BackendResult<()> {
        self.inner.check_key(key)
    }

    async fn head_bucket(&self, bucket: &str) -> BackendResult<BucketInfo> {
        self.inner.head_bucket(bucket).await
    }

    async fn create_bucket(&self, bucket: &str) -> BackendResult<()> {
        self.inner
            .create_bucket_in(bucket, self.project_id.as_deref())
            .await
    }

    async fn delete_bucket(&self, bucket: &str) -> BackendResult<()> {
        self.inner.delete_bucket(bucket).await
    }

    async fn list_buckets(&self) -> BackendResult<Vec<BucketSummary>> {
        self.inner.list_buckets_in(self.project_id.as_deref()).await
    }

    async fn get_bucket_versioning(&self, bucket: &str) -> BackendResult<VersioningStatus> {
        self.inner.get_bucket_versioning(bucket).await
    }

    async fn list_object_versions(
        &self,
        bucket: &str,
        options: ListVersionsOptions,
    ) -> BackendResult<ListVersionsPage> {
        // GCS lists generations in its own shape; an unversioned bucket's
        // versions are its objects.
        if self.get_bucket_versioning(bucket).await? != VersioningStatus::Unversioned {
            return Err(lacks("ListObjectVersions"));
        }
        let listing = options.unversioned_listing()?;
        let page = self.inner.list_objects(bucket, listing).await?;
        Ok(ListVersionsPage::unversioned(page))
    }

    async fn list_objects(&self, bucket: &str, options: ListOptions) -> BackendResult<ListPage> {
        self.inner.list_objects(bucket, options).await
    }

    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<GetObjectOutput> {
        let options = current_version(options, "GetObject")?;
        self.inner.get_object(bucket, key, options).await
    }

    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<ObjectMeta> {
        let options = current_version(options, "HeadObject")?;
        self.inner.head_object(bucket, key, options).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn BodySource,
        options: PutOptions,
    ) -> BackendResult<PutOutput> {
        let options = PutOptions {
            checksum: None,
            ..options
        };
        self.inner.put_object(bucket, key, body, options).await
    }

    async fn copy_object(
        &self,
        source: ObjectRef<'_>,
        destination: ObjectRef<'_>,
        mut options: CopyOptions,
    ) -> BackendResult<CopyOutput> {
        match options.source_version_id.take().as_deref() {
            None | Some("null") => {}
            Some(_) => return Err(lacks("CopyObject")),
        }
        self.inner.copy_object(source, destination, options).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> BackendResult<DeleteOutput> {
        self.inner.delete_object(bucket, key).await
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> BackendResult<DeleteOutput> {
        if version_id != "null" {
            return Err(lacks("DeleteObject"));
        }
        self.inner.delete_object(bucket, key).await
    }

    async fn get_object_tagging(
        &self,
        _object: ObjectRef<'_>,
        _version_id: Option<&str>,
    ) -> BackendResult<TagSet> {
        Err(lacks("GetObjectTagging"))
    }

    async fn put_object_tagging(
        &self,
        _object: ObjectRef<'_>,
        _version_id: Option<&str>,
        _tags: &TagSet,
    ) -> BackendResult<()> {
        Err(lacks("PutObjectTagging"))
    }

    async fn delete_object_tagging(
        &self,
        _object: ObjectRef<'_>,
        _version_id: Option<&str>,
    ) -> BackendResult<()> {
        Err(lacks("DeleteObjectTagging"))
    }

    async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[ObjectIdentifier],
    ) -> BackendResult<Vec<BackendResult<DeleteOutput>>> {
        // As DeleteObject: only version `null` (the object) can be named;
        // any other version is that object's error.
        let (named, plain): (Vec<usize>, Vec<usize>) = (0..objects.len()).partition(|&i| {
            objects[i]
                .version_id
                .as_deref()
                .is_some_and(|v| v != "null")
        });
        let keys: Vec<ObjectIdentifier> = plain
            .iter()
            .map(|&i| ObjectIdentifier::key(objects[i].key.clone()))
            .collect();
        let deleted = if keys.is_empty() {
            Vec::new()
        } else {
            self.inner.delete_objects(bucket, &keys).await?
        };
        let mut results: Vec<Option<BackendResult<DeleteOutput>>> =
            objects.iter().map(|_| None).collect();
        for index in named {
            results[index] = Some(Err(lacks("DeleteObject")));
        }
        for (index, result) in plain.into_iter().zip(deleted) {
            results[index] = Some(result);
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(BackendError::other("an object was not deleted"))))
            .collect())
    }

    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: PutOptions,
    ) -> BackendResult<String> {
        self.inner
            .create_multipart_upload(bucket, key, options)
            .await
    }

    async fn upload_part(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        body: &mut dyn BodySource,
        options: PartOptions,
    ) -> BackendResult<PartOutput> {
        self.inner
            .upload_part(upload, part_number, body, options)
            .await
    }

    async fn upload_part_copy(
        &self,
        _upload: UploadRef<'_>,
        _part_number: u32,
        _source: ObjectRef<'_>,
        _options: PartCopyOptions,
    ) -> BackendResult<CopyOutput> {
        Err(lacks("UploadPartCopy"))
    }

    async fn complete_multipart_upload(
        &self,
        upload: UploadRef<'_>,
        parts: &[CompletedPart],
        options: CompleteOptions,
    ) -> BackendResult<PutOutput> {
        self.inner
            .complete_multipart_upload(upload, parts, options)
            .await
    }

    async fn abort_multipart_upload(&self, upload: UploadRef<'_>) -> BackendResult<()> {
        self.inner.abort_multipart_upload(upload).await
    }

    async fn list_parts(
        &self,
        upload: UploadRef<'_>,
        options: ListPartsOptions,
    ) -> BackendResult<ListPartsPage> {
        self.inner.list_parts(upload, options).await
    }

    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        options: ListUploadsOptions,
    ) -> BackendResult<ListUploadsPage> {
        self.inner.list_multipart_uploads(bucket, options).await
    }
}
