//! A [`Backend`] decorator that records which trait method ran, then
//! delegates to the real backend.

use std::sync::Arc;

use async_trait::async_trait;
use cedargate_backends::{
    AttributesOptions, Backend, BackendResult, BodySource, BucketInfo, BucketSummary, CannedAcl,
    CompleteOptions, CompletedPart, CopyOptions, CopyOutput, DeleteOutput, GetObjectOutput,
    GetOptions, ListOptions, ListPage, ListPartsOptions, ListPartsPage, ListUploadsOptions,
    ListUploadsPage, ListVersionsOptions, ListVersionsPage, ObjectAttributes, ObjectIdentifier,
    ObjectMeta, ObjectRef, PartCopyOptions, PartOptions, PartOutput, PutOptions, PutOutput, TagSet,
    UploadRef, VersioningStatus,
};

use super::Shared;

/// The names of the backend methods called, in order.
pub(super) type Calls = Shared<&'static str>;

/// Records each call, then makes it on `inner`.
#[derive(Debug)]
pub(super) struct Recording {
    pub(super) inner: Arc<dyn Backend>,
    pub(super) calls: Calls,
}

#[async_trait]
impl Backend for Recording {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    fn check_key(&self, key: &str) -> BackendResult<()> {
        self.inner.check_key(key)
    }

    async fn head_bucket(&self, bucket: &str) -> BackendResult<BucketInfo> {
        self.calls.push("head_bucket");
        self.inner.head_bucket(bucket).await
    }

    async fn create_bucket(&self, bucket: &str) -> BackendResult<()> {
        self.calls.push("create_bucket");
        self.inner.create_bucket(bucket).await
    }

    async fn delete_bucket(&self, bucket: &str) -> BackendResult<()> {
        self.calls.push("delete_bucket");
        self.inner.delete_bucket(bucket).await
    }

    async fn list_buckets(&self) -> BackendResult<Vec<BucketSummary>> {
        self.calls.push("list_buckets");
        self.inner.list_buckets().await
    }

    async fn get_bucket_versioning(&self, bucket: &str) -> BackendResult<VersioningStatus> {
        self.calls.push("get_bucket_versioning");
        self.inner.get_bucket_versioning(bucket).await
    }

    async fn put_bucket_versioning(
        &self,
        bucket: &str,
        status: VersioningStatus,
    ) -> BackendResult<()> {
        self.calls.push("put_bucket_versioning");
        self.inner.put_bucket_versioning(bucket, status).await
    }

    async fn list_object_versions(
        &self,
        bucket: &str,
        options: ListVersionsOptions,
    ) -> BackendResult<ListVersionsPage> {
        self.calls.push("list_object_versions");
        self.inner.list_object_versions(bucket, options).await
    }

    async fn list_objects(&self, bucket: &str, options: ListOptions) -> BackendResult<ListPage> {
        self.calls.push("list_objects");
        self.inner.list_objects(bucket, options).await
    }

    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<GetObjectOutput> {
        self.calls.push("get_object");
        self.inner.get_object(bucket, key, options).await
    }

    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> BackendResult<ObjectMeta> {
        self.calls.push("head_object");
        self.inner.head_object(bucket, key, options).await
    }

    async fn get_object_attributes(
        &self,
        bucket: &str,
        key: &str,
        options: AttributesOptions,
    ) -> BackendResult<ObjectAttributes> {
        self.calls.push("get_object_attributes");
        self.inner.get_object_attributes(bucket, key, options).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn BodySource,
        options: PutOptions,
    ) -> BackendResult<PutOutput> {
        self.calls.push("put_object");
        self.inner.put_object(bucket, key, body, options).await
    }

    async fn copy_object(
        &self,
        source: ObjectRef<'_>,
        destination: ObjectRef<'_>,
        options: CopyOptions,
    ) -> BackendResult<CopyOutput> {
        self.calls.push("copy_object");
        self.inner.copy_object(source, destination, options).await
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> BackendResult<DeleteOutput> {
        self.calls.push("delete_object");
        self.inner.delete_object(bucket, key).await
    }

    async fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> BackendResult<DeleteOutput> {
        self.calls.push("delete_object_version");
        self.inner
            .delete_object_version(bucket, key, version_id)
            .await
    }

    async fn get_object_acl(&self, object: ObjectRef<'_>) -> BackendResult<CannedAcl> {
        self.calls.push("get_object_acl");
        self.inner.get_object_acl(object).await
    }

    async fn put_object_acl(&self, object: ObjectRef<'_>, acl: CannedAcl) -> BackendResult<()> {
        self.calls.push("put_object_acl");
        self.inner.put_object_acl(object, acl).await
    }

    async fn get_bucket_acl(&self, bucket: &str) -> BackendResult<CannedAcl> {
        self.calls.push("get_bucket_acl");
        self.inner.get_bucket_acl(bucket).await
    }

    async fn put_bucket_acl(&self, bucket: &str, acl: CannedAcl) -> BackendResult<()> {
        self.calls.push("put_bucket_acl");
        self.inner.put_bucket_acl(bucket, acl).await
    }

    async fn get_bucket_tagging(&self, bucket: &str) -> BackendResult<TagSet> {
        self.calls.push("get_bucket_tagging");
        self.inner.get_bucket_tagging(bucket).await
    }

    async fn put_bucket_tagging(&self, bucket: &str, tags: &TagSet) -> BackendResult<()> {
        self.calls.push("put_bucket_tagging");
        self.inner.put_bucket_tagging(bucket, tags).await
    }

    async fn delete_bucket_tagging(&self, bucket: &str) -> BackendResult<()> {
        self.calls.push("delete_bucket_tagging");
        self.inner.delete_bucket_tagging(bucket).await
    }

    async fn get_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<TagSet> {
        self.calls.push("get_object_tagging");
        self.inner.get_object_tagging(object, version_id).await
    }

    async fn put_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
        tags: &TagSet,
    ) -> BackendResult<()> {
        self.calls.push("put_object_tagging");
        self.inner
            .put_object_tagging(object, version_id, tags)
            .await
    }

    async fn delete_object_tagging(
        &self,
        object: ObjectRef<'_>,
        version_id: Option<&str>,
    ) -> BackendResult<()> {
        self.calls.push("delete_object_tagging");
        self.inner.delete_object_tagging(object, version_id).await
    }

    async fn delete_objects(
        &self,
        bucket: &str,
        objects: &[ObjectIdentifier],
    ) -> BackendResult<Vec<BackendResult<DeleteOutput>>> {
        self.calls.push("delete_objects");
        self.inner.delete_objects(bucket, objects).await
    }

    async fn create_multipart_upload(
        &self,
        bucket: &str,
        key: &str,
        options: PutOptions,
    ) -> BackendResult<String> {
        self.calls.push("create_multipart_upload");
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
        self.calls.push("upload_part");
        self.inner
            .upload_part(upload, part_number, body, options)
            .await
    }

    async fn upload_part_copy(
        &self,
        upload: UploadRef<'_>,
        part_number: u32,
        source: ObjectRef<'_>,
        options: PartCopyOptions,
    ) -> BackendResult<CopyOutput> {
        self.calls.push("upload_part_copy");
        self.inner
            .upload_part_copy(upload, part_number, source, options)
            .await
    }

    async fn complete_multipart_upload(
        &self,
        upload: UploadRef<'_>,
        parts: &[CompletedPart],
        options: CompleteOptions,
    ) -> BackendResult<PutOutput> {
        self.calls.push("complete_multipart_upload");
        self.inner
            .complete_multipart_upload(upload, parts, options)
            .await
    }

    async fn abort_multipart_upload(&self, upload: UploadRef<'_>) -> BackendResult<()> {
        self.calls.push("abort_multipart_upload");
        self.inner.abort_multipart_upload(upload).await
    }

    async fn list_parts(
        &self,
        upload: UploadRef<'_>,
        options: ListPartsOptions,
    ) -> BackendResult<ListPartsPage> {
        self.calls.push("list_parts");
        self.inner.list_parts(upload, options).await
    }

    async fn list_multipart_uploads(
        &self,
        bucket: &str,
        options: ListUploadsOptions,
    ) -> BackendResult<ListUploadsPage> {
        self.calls.push("list_multipart_uploads");
        self.inner.list_multipart_uploads(bucket, options).await
    }
}
