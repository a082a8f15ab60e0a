//! Canned ACLs and bucket tags: stored with the object or bucket, read
//! back, and never returned with an object's headers.

use std::collections::BTreeMap;

use super::{clean, fail, must, put, put_with};
use crate::{
    Backend, CannedAcl, CompletedPart, CopyOptions, GetOptions, MemoryBody, MetadataDirective,
    ObjectHeaders, ObjectRef, PartOptions, PutOptions, TagSet, UploadRef,
};

fn with_acl(acl: CannedAcl) -> ObjectHeaders {
    ObjectHeaders {
        storage: BTreeMap::from([("x-amz-acl".to_owned(), acl.as_str().to_owned())]),
        ..ObjectHeaders::default()
    }
}

/// An object's canned ACL: `private` by default; set by `x-amz-acl` on
/// PutObject, CopyObject (never copied from the source) and
/// CreateMultipartUpload (applied at completion); replaced by
/// PutObjectAcl; absent from the object's headers. A bucket's: `private`
/// by default, replaced by PutBucketAcl (the case leaves it `private`).
pub async fn canned_acls(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/acl/";
    clean(backend, bucket, prefix).await;
    let plain = format!("{prefix}plain");
    put(backend, bucket, &plain, b"plain").await;
    let object = |key| ObjectRef { bucket, key };
    let acl_of = |key: String| async move {
        must(
            backend
                .get_object_acl(ObjectRef { bucket, key: &key })
                .await,
            &format!("GetObjectAcl `{key}`"),
        )
    };
    if acl_of(plain.clone()).await != CannedAcl::Private {
        fail("an object written without x-amz-acl is not private".to_owned());
    }
    let public = format!("{prefix}public");
    let options = PutOptions {
        headers: with_acl(CannedAcl::PublicRead),
        ..PutOptions::default()
    };
    put_with(backend, bucket, &public, b"public", options).await;
    if acl_of(public.clone()).await != CannedAcl::PublicRead {
        fail("x-amz-acl: public-read on PutObject was not stored".to_owned());
    }
    let meta = must(
        backend
            .head_object(bucket, &public, GetOptions::default())
            .await,
        "head",
    );
    if meta.headers.storage.contains_key("x-amz-acl") {
        fail(format!(
            "the ACL is returned with the object's headers: {:?}",
            meta.headers.storage
        ));
    }
    must(
        backend
            .put_object_acl(object(&public), CannedAcl::AuthenticatedRead)
            .await,
        "PutObjectAcl",
    );
    if acl_of(public.clone()).await != CannedAcl::AuthenticatedRead {
        fail("PutObjectAcl did not replace the ACL".to_owned());
    }

    let copied = format!("{prefix}copied");
    let to = object(&copied);
    must(
        backend
            .copy_object(object(&public), to, CopyOptions::default())
            .await,
        "copy",
    );
    if acl_of(copied.clone()).await != CannedAcl::Private {
        fail("a copy without x-amz-acl did not get the private ACL".to_owned());
    }
    let copy = CopyOptions {
        metadata_directive: MetadataDirective::Replace,
        headers: with_acl(CannedAcl::PublicRead),
        ..CopyOptions::default()
    };
    must(backend.copy_object(object(&plain), to, copy).await, "copy");
    if acl_of(copied.clone()).await != CannedAcl::PublicRead {
        fail("a copy with x-amz-acl did not get it".to_owned());
    }

    let multipart = format!("{prefix}multipart");
    let options = PutOptions {
        headers: with_acl(CannedAcl::PublicRead),
        ..PutOptions::default()
    };
    let upload_id = must(
        backend
            .create_multipart_upload(bucket, &multipart, options)
            .await,
        "create",
    );
    let upload = UploadRef {
        bucket,
        key: &multipart,
        upload_id: &upload_id,
    };
    let data = b"one part";
    let part = PartOptions {
        content_length: Some(data.len() as u64),
        content_md5: None,
        ..PartOptions::default()
    };
    let mut body = MemoryBody::from(&data[..]);
    let uploaded = must(
        backend.upload_part(upload, 1, &mut body, part).await,
        "upload part",
    );
    let parts = [CompletedPart {
        part_number: 1,
        etag: uploaded.etag,
        checksum: None,
    }];
    must(
        backend
            .complete_multipart_upload(upload, &parts, crate::CompleteOptions::default())
            .await,
        "complete",
    );
    if acl_of(multipart.clone()).await != CannedAcl::PublicRead {
        fail("the ACL of CreateMultipartUpload was not applied at completion".to_owned());
    }

    if must(backend.get_bucket_acl(bucket).await, "GetBucketAcl") != CannedAcl::Private {
        fail("the test bucket is not private".to_owned());
    }
    for acl in [CannedAcl::PublicRead, CannedAcl::Private] {
        must(backend.put_bucket_acl(bucket, acl).await, "PutBucketAcl");
        if must(backend.get_bucket_acl(bucket).await, "GetBucketAcl") != acl {
            fail(format!("PutBucketAcl {acl} was not stored"));
        }
    }
    clean(backend, bucket, prefix).await;
}

/// A bucket's tags: none at first, replaced by PutBucketTagging, removed by
/// DeleteBucketTagging (the case leaves none).
pub async fn bucket_tagging(backend: &dyn Backend, bucket: &str) {
    if !must(backend.get_bucket_tagging(bucket).await, "GetBucketTagging").is_empty() {
        fail("the test bucket has tags".to_owned());
    }
    let tags: TagSet = [("team", "data eng"), ("cost", "42")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    must(
        backend.put_bucket_tagging(bucket, &tags).await,
        "PutBucketTagging",
    );
    if must(backend.get_bucket_tagging(bucket).await, "GetBucketTagging") != tags {
        fail("PutBucketTagging did not store the tags".to_owned());
    }
    must(
        backend.delete_bucket_tagging(bucket).await,
        "DeleteBucketTagging",
    );
    if !must(backend.get_bucket_tagging(bucket).await, "GetBucketTagging").is_empty() {
        fail("DeleteBucketTagging left tags".to_owned());
    }
}
