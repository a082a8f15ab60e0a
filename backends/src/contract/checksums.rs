//! Contract cases for checksums and the multipart details that go with
//! them: checksums stored and returned for every algorithm, multipart
//! COMPOSITE and FULL_OBJECT checksums, GetObjectAttributes, reads by part
//! number, part re-uploads, and repeated or conditional completion.

use bytes::Bytes;

use super::multipart::completed;
use super::{ContractConfig, assert_err, clean, fail, get_bytes, must, pattern, put, put_with};
use crate::{
    AttributesOptions, Backend, BackendError, ChecksumAlgorithm, ChecksumType, CompleteOptions,
    CompletedPart, Conditions, GetOptions, ListPartsOptions, MemoryBody, ObjectChecksum,
    PartOptions, PutOptions, UploadRef,
};

/// A FULL_OBJECT checksum of `data`.
fn checksum_of(algorithm: ChecksumAlgorithm, data: &[u8]) -> ObjectChecksum {
    ObjectChecksum::full_object(algorithm, algorithm.digest_base64(data))
}

/// A whole-object write with a checksum of each algorithm answers it and
/// stores it: HEAD and an unranged GET return it, FULL_OBJECT.
pub async fn checksums_stored(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/checksums/";
    clean(backend, bucket, prefix).await;
    let data = b"checksummed content";
    for algorithm in ChecksumAlgorithm::ALL {
        let key = format!("{prefix}{}", algorithm.lowercase_name());
        let expected = checksum_of(algorithm, data);
        let options = PutOptions {
            checksum: Some(expected.clone()),
            ..PutOptions::default()
        };
        let written = put_with(backend, bucket, &key, data, options).await;
        assert_eq!(
            written.checksum.as_ref(),
            Some(&expected),
            "{algorithm:?}: the write answers its checksum"
        );
        let meta = must(
            backend
                .head_object(bucket, &key, GetOptions::default())
                .await,
            "head",
        );
        assert_eq!(
            meta.checksum.as_ref(),
            Some(&expected),
            "{algorithm:?}: head"
        );
        let read = must(
            backend
                .get_object(bucket, &key, GetOptions::default())
                .await,
            "get",
        );
        assert_eq!(
            read.meta.checksum.as_ref(),
            Some(&expected),
            "{algorithm:?}: get"
        );
    }
    clean(backend, bucket, prefix).await;
}

/// Uploads `data` as part `number`, with its checksum of `algorithm`;
/// answers the part's ETag and checks the checksum it answers.
async fn upload_checksummed(
    backend: &dyn Backend,
    upload: UploadRef<'_>,
    number: u32,
    data: &Bytes,
    algorithm: ChecksumAlgorithm,
) -> CompletedPart {
    let checksum = checksum_of(algorithm, data);
    let options = PartOptions {
        content_length: Some(data.len() as u64),
        content_md5: None,
        checksum: Some(checksum.clone()),
    };
    let mut body = MemoryBody::new([data.clone()]);
    let part = must(
        backend
            .upload_part(upload, number, &mut body, options)
            .await,
        "upload_part",
    );
    if let Some(answered) = &part.checksum {
        assert_eq!(
            answered.digest(),
            checksum.value,
            "a part answers its checksum"
        );
    }
    CompletedPart {
        part_number: number,
        etag: part.etag,
        checksum: Some(checksum),
    }
}

/// A multipart upload created with an algorithm and a type completes with
/// S3's checksum: COMPOSITE is the digest of the part digests with `-N`,
/// FULL_OBJECT the checksum of the whole content; HEAD and ListParts show
/// them.
pub async fn multipart_checksums(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    let prefix = "contract/mpchecksums/";
    clean(backend, bucket, prefix).await;
    let parts = [pattern(config.min_part_size, 5), pattern(300, 6)];
    let whole = [&parts[0][..], &parts[1][..]].concat();
    let cases = [
        (ChecksumAlgorithm::Sha256, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc32, ChecksumType::Composite),
        (ChecksumAlgorithm::Crc32c, ChecksumType::FullObject),
        (ChecksumAlgorithm::Crc64Nvme, ChecksumType::FullObject),
    ];
    for (algorithm, kind) in cases {
        let key = format!("{prefix}{}", algorithm.lowercase_name());
        let options = PutOptions {
            multipart_checksum: Some((algorithm, kind)),
            ..PutOptions::default()
        };
        let upload_id = must(
            backend.create_multipart_upload(bucket, &key, options).await,
            "create",
        );
        let id = UploadRef {
            bucket,
            key: &key,
            upload_id: &upload_id,
        };
        let mut listed = Vec::new();
        for (number, data) in (1..).zip(&parts) {
            listed.push(upload_checksummed(backend, id, number, data, algorithm).await);
        }
        let stored = must(
            backend.list_parts(id, ListPartsOptions::default()).await,
            "list_parts",
        );
        for (part, listed) in stored.parts.iter().zip(&listed) {
            let expected = listed.checksum.as_ref().map(|c| c.value.as_str());
            assert_eq!(
                part.checksum.as_ref().map(ObjectChecksum::digest),
                expected,
                "{algorithm:?}: ListParts shows part {}'s checksum",
                part.part_number
            );
        }
        let expected = match kind {
            ChecksumType::Composite => {
                let digests: Vec<&str> = listed
                    .iter()
                    .filter_map(|part| part.checksum.as_ref().map(|c| c.value.as_str()))
                    .collect();
                match cedargate_s3::body::multipart_checksum::composite(algorithm, &digests) {
                    Ok(value) => value,
                    Err(error) => fail(format!("composite: {error}")),
                }
            }
            ChecksumType::FullObject => algorithm.digest_base64(&whole),
        };
        let done = must(
            backend
                .complete_multipart_upload(id, &listed, CompleteOptions::default())
                .await,
            "complete",
        );
        let expected = ObjectChecksum {
            algorithm: algorithm.lowercase_name().to_owned(),
            value: expected,
            checksum_type: kind,
        };
        assert_eq!(
            done.checksum.as_ref(),
            Some(&expected),
            "{algorithm:?} {kind:?}: completion answers the object's checksum"
        );
        let meta = must(
            backend
                .head_object(bucket, &key, GetOptions::default())
                .await,
            "head",
        );
        assert_eq!(
            meta.checksum.as_ref(),
            Some(&expected),
            "{algorithm:?}: head"
        );
    }
    clean(backend, bucket, prefix).await;
}

/// GetObjectAttributes answers the ETag, size and checksum of an object,
/// and the parts of a multipart one a page at a time.
pub async fn object_attributes(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    let prefix = "contract/attributes/";
    clean(backend, bucket, prefix).await;
    let single = "contract/attributes/single";
    let data = b"attributes";
    let checksum = checksum_of(ChecksumAlgorithm::Sha256, data);
    let options = PutOptions {
        checksum: Some(checksum.clone()),
        ..PutOptions::default()
    };
    let written = put_with(backend, bucket, single, data, options).await;
    let attributes = must(
        backend
            .get_object_attributes(bucket, single, AttributesOptions::default())
            .await,
        "attributes",
    );
    assert_eq!(attributes.meta.etag, written.etag);
    assert_eq!(attributes.meta.size, data.len() as u64);
    assert_eq!(
        attributes
            .meta
            .checksum
            .as_ref()
            .map(ObjectChecksum::digest),
        Some(checksum.value.as_str())
    );
    assert!(attributes.parts.is_none(), "a single write has no parts");

    let key = "contract/attributes/multipart";
    let options = PutOptions {
        multipart_checksum: Some((ChecksumAlgorithm::Crc32, ChecksumType::Composite)),
        ..PutOptions::default()
    };
    let upload_id = must(
        backend.create_multipart_upload(bucket, key, options).await,
        "create",
    );
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let parts = [pattern(config.min_part_size, 7), pattern(10, 8)];
    let mut listed = Vec::new();
    for (number, data) in (1..).zip(&parts) {
        listed.push(upload_checksummed(backend, id, number, data, ChecksumAlgorithm::Crc32).await);
    }
    must(
        backend
            .complete_multipart_upload(id, &listed, CompleteOptions::default())
            .await,
        "complete",
    );
    let first = must(
        backend
            .get_object_attributes(
                bucket,
                key,
                AttributesOptions {
                    max_parts: 1,
                    ..AttributesOptions::default()
                },
            )
            .await,
        "attributes page 1",
    );
    let Some(page) = first.parts else {
        fail("a multipart object has parts".into())
    };
    assert_eq!(page.total_parts_count, 2);
    assert!(page.is_truncated, "one part of two is a truncated page");
    assert_eq!(page.next_part_number_marker, Some(1));
    assert_eq!(page.parts.len(), 1);
    assert_eq!(page.parts[0].size, config.min_part_size);
    assert_eq!(
        page.parts[0].checksum.as_ref().map(ObjectChecksum::digest),
        listed[0].checksum.as_ref().map(|c| c.value.as_str())
    );
    let second = must(
        backend
            .get_object_attributes(
                bucket,
                key,
                AttributesOptions {
                    part_number_marker: 1,
                    ..AttributesOptions::default()
                },
            )
            .await,
        "attributes page 2",
    );
    let Some(page) = second.parts else {
        fail("a multipart object has parts".into())
    };
    assert!(!page.is_truncated);
    assert_eq!(
        page.parts
            .iter()
            .map(|p| (p.part_number, p.size))
            .collect::<Vec<_>>(),
        [(2, 10)]
    );
    clean(backend, bucket, prefix).await;
}

/// Reads by part number: a multipart object's part is its byte range, with
/// the part count; part 1 of a single write is all of it; a number past
/// the parts is InvalidPartNumber.
pub async fn part_number_reads(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    let prefix = "contract/partreads/";
    clean(backend, bucket, prefix).await;
    let key = "contract/partreads/multipart";
    let upload_id = super::multipart::create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let parts = [pattern(config.min_part_size, 9), pattern(33, 10)];
    let mut etags = Vec::new();
    for (number, data) in (1..).zip(&parts) {
        etags.push(super::multipart::upload(backend, id, number, data).await);
    }
    must(
        backend
            .complete_multipart_upload(
                id,
                &completed(&[(1, &etags[0]), (2, &etags[1])]),
                CompleteOptions::default(),
            )
            .await,
        "complete",
    );
    let size = config.min_part_size;
    for (number, range, data) in [
        (1, (0, size - 1), &parts[0]),
        (2, (size, size + 32), &parts[1]),
    ] {
        let options = GetOptions {
            part_number: Some(number),
            ..GetOptions::default()
        };
        let read = must(backend.get_object(bucket, key, options).await, "part read");
        assert_eq!(read.range, Some(range), "part {number}'s range");
        assert_eq!(read.meta.parts_count, Some(2), "the part count");
        assert_eq!(read.meta.size, size + 33, "the whole object's size");
        match crate::collect_body(read.body).await {
            Ok(body) => assert!(body == data[..], "part {number}'s bytes"),
            Err(error) => fail(format!("reading part {number}: {error}")),
        }
    }
    let past = GetOptions {
        part_number: Some(3),
        ..GetOptions::default()
    };
    assert_err!(
        backend.get_object(bucket, key, past).await,
        BackendError::InvalidPartNumber,
        "part 3 of 2"
    );

    let single = "contract/partreads/single";
    put(backend, bucket, single, b"whole").await;
    let first = GetOptions {
        part_number: Some(1),
        ..GetOptions::default()
    };
    let read = must(backend.get_object(bucket, single, first).await, "part 1");
    match crate::collect_body(read.body).await {
        Ok(body) => assert_eq!(body, b"whole", "part 1 of a single write is all of it"),
        Err(error) => fail(format!("reading part 1: {error}")),
    }
    let second = GetOptions {
        part_number: Some(2),
        ..GetOptions::default()
    };
    assert_err!(
        backend.get_object(bucket, single, second).await,
        BackendError::InvalidPartNumber,
        "part 2 of a single write"
    );
    clean(backend, bucket, prefix).await;
}

/// A part uploaded twice counts in its last version: ListParts shows it,
/// completion with its ETag makes the object of its bytes, and the first
/// version's ETag is InvalidPart.
pub async fn multipart_part_reupload(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/reupload/";
    clean(backend, bucket, prefix).await;
    let key = "contract/reupload/object";
    let upload_id = super::multipart::create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let first = super::multipart::upload(backend, id, 1, &Bytes::from_static(b"first")).await;
    let last = super::multipart::upload(backend, id, 1, &Bytes::from_static(b"second!")).await;
    let stored = must(
        backend.list_parts(id, ListPartsOptions::default()).await,
        "list_parts",
    );
    assert_eq!(
        stored
            .parts
            .iter()
            .map(|p| (p.part_number, p.etag.as_str(), p.size))
            .collect::<Vec<_>>(),
        [(1, last.as_str(), 7)],
        "one part, its last version"
    );
    assert_err!(
        backend
            .complete_multipart_upload(id, &completed(&[(1, &first)]), CompleteOptions::default())
            .await,
        BackendError::InvalidPart { .. },
        "the replaced version's ETag"
    );
    must(
        backend
            .complete_multipart_upload(id, &completed(&[(1, &last)]), CompleteOptions::default())
            .await,
        "complete",
    );
    assert_eq!(get_bytes(backend, bucket, key).await, b"second!");
    clean(backend, bucket, prefix).await;
}

/// A completion repeated with the same parts after it succeeded answers
/// the same result while the object is unchanged, and NoSuchUpload once
/// the key was written again.
pub async fn multipart_complete_again(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/again/";
    clean(backend, bucket, prefix).await;
    let key = "contract/again/object";
    let upload_id = super::multipart::create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let etag = super::multipart::upload(backend, id, 1, &Bytes::from_static(b"once")).await;
    let parts = completed(&[(1, &etag)]);
    let done = must(
        backend
            .complete_multipart_upload(id, &parts, CompleteOptions::default())
            .await,
        "complete",
    );
    let again = must(
        backend
            .complete_multipart_upload(id, &parts, CompleteOptions::default())
            .await,
        "complete again",
    );
    assert_eq!(again.etag, done.etag, "the same result");
    put(backend, bucket, key, b"changed").await;
    assert_err!(
        backend
            .complete_multipart_upload(id, &parts, CompleteOptions::default())
            .await,
        BackendError::NoSuchUpload,
        "completing again after the object changed"
    );
    clean(backend, bucket, prefix).await;
}

/// `If-None-Match: *` and `If-Match` on CompleteMultipartUpload: a failed
/// condition is PreconditionFailed and leaves the upload to complete.
pub async fn multipart_conditional_complete(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/condcomplete/";
    clean(backend, bucket, prefix).await;
    let key = "contract/condcomplete/object";
    let existing = put(backend, bucket, key, b"already here").await;
    let upload_id = super::multipart::create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let etag = super::multipart::upload(backend, id, 1, &Bytes::from_static(b"new")).await;
    let parts = completed(&[(1, &etag)]);
    let with = |conditions: Conditions| CompleteOptions {
        conditions,
        checksum: None,
    };
    let absent = Conditions {
        if_none_match: Some("*".to_owned()),
        ..Conditions::default()
    };
    assert_err!(
        backend
            .complete_multipart_upload(id, &parts, with(absent))
            .await,
        BackendError::PreconditionFailed,
        "If-None-Match: * over an object"
    );
    let other = Conditions {
        if_match: Some("\"0123456789abcdef0123456789abcdef\"".to_owned()),
        ..Conditions::default()
    };
    assert_err!(
        backend
            .complete_multipart_upload(id, &parts, with(other))
            .await,
        BackendError::PreconditionFailed,
        "If-Match of another ETag"
    );
    let current = Conditions {
        if_match: Some(format!("\"{}\"", existing.etag)),
        ..Conditions::default()
    };
    must(
        backend
            .complete_multipart_upload(id, &parts, with(current))
            .await,
        "If-Match of the current ETag",
    );
    assert_eq!(get_bytes(backend, bucket, key).await, b"new");
    clean(backend, bucket, prefix).await;
}
