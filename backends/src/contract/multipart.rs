//! Contract cases for multipart uploads: completion and its ETag, every
//! completion error, uploads addressed wrongly, abort and UploadPartCopy.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::{
    ContractConfig, assert_err, clean, get_bytes, md5_hex, multipart_etag, must, part_declared,
    pattern, put, size,
};
use crate::{
    Backend, BackendError, ByteRange, CompletedPart, Conditions, GetOptions, ListPartsOptions,
    MemoryBody, ObjectHeaders, ObjectRef, PartCopyOptions, PartOptions, PutOptions, UploadRef,
};

pub(super) async fn create(backend: &dyn Backend, bucket: &str, key: &str) -> String {
    let options = PutOptions::default();
    must(
        backend.create_multipart_upload(bucket, key, options).await,
        &format!("create `{key}`"),
    )
}

pub(super) async fn upload(
    backend: &dyn Backend,
    upload: UploadRef<'_>,
    number: u32,
    data: &Bytes,
) -> String {
    let mut body = MemoryBody::new([data.clone()]);
    let options = PartOptions {
        content_length: Some(data.len() as u64),
        content_md5: None,
        checksum: None,
    };
    let part = must(
        backend
            .upload_part(upload, number, &mut body, options)
            .await,
        "upload_part",
    );
    assert_eq!(part.etag, md5_hex(data), "a part's ETag is its MD5");
    part.etag
}

pub(super) fn completed(parts: &[(u32, &str)]) -> Vec<CompletedPart> {
    parts
        .iter()
        .map(|(part_number, etag)| CompletedPart {
            part_number: *part_number,
            etag: (*etag).to_owned(),
            checksum: None,
        })
        .collect()
}

/// Parts uploaded out of order and completed in order (some skipped) make
/// one object with the `md5-of-md5s-N` ETag and the creation's metadata;
/// the upload is gone afterwards.
pub async fn multipart_complete(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    let prefix = "contract/multipart/";
    clean(backend, bucket, prefix).await;
    let key = "contract/multipart/object";
    let headers = ObjectHeaders {
        content_type: Some("video/mp4".into()),
        ..ObjectHeaders::default()
    };
    let metadata = BTreeMap::from([("origin".to_owned(), "contract".to_owned())]);
    let options = PutOptions {
        headers: headers.clone(),
        user_metadata: metadata.clone(),
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
    let parts = [
        pattern(config.min_part_size, 1),
        pattern(config.min_part_size, 2),
        pattern(100, 3),
        pattern(50, 4),
    ];
    let mut etags = BTreeMap::new();
    for number in [2, 1, 4, 3] {
        etags.insert(
            number,
            upload(backend, id, number, &parts[size(u64::from(number) - 1)]).await,
        );
    }
    let chosen = completed(&[(1, &etags[&1]), (2, &etags[&2]), (4, &etags[&4])]);
    let done = must(
        backend
            .complete_multipart_upload(id, &chosen, Default::default())
            .await,
        "complete",
    );
    let expected_etag = multipart_etag(&[&parts[0], &parts[1], &parts[3]]);
    assert_eq!(done.etag, expected_etag, "multipart ETag is md5-of-md5s-N");
    assert_eq!(done.size, 2 * config.min_part_size + 50);
    let content = [&parts[0][..], &parts[1][..], &parts[3][..]].concat();
    assert!(
        get_bytes(backend, bucket, key).await == content,
        "content is the chosen parts in order"
    );
    let meta = must(
        backend
            .head_object(bucket, key, GetOptions::default())
            .await,
        "head",
    );
    assert_eq!(meta.etag, expected_etag);
    assert_eq!(
        (meta.headers, meta.user_metadata),
        (headers, metadata),
        "creation metadata kept"
    );
    assert!(
        matches!(meta.parts_count, None | Some(3)),
        "parts_count {:?}",
        meta.parts_count
    );
    let listed = backend.list_parts(id, ListPartsOptions::default()).await;
    assert_err!(
        listed,
        BackendError::NoSuchUpload,
        "the upload is gone after completion"
    );
    clean(backend, bucket, prefix).await;
}

/// InvalidPartOrder, InvalidPart, EntityTooSmall, an empty part list and
/// bad part numbers are refused, and leave the upload usable.
pub async fn multipart_errors(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    let prefix = "contract/multipart-errors/";
    clean(backend, bucket, prefix).await;
    let key = "contract/multipart-errors/object";
    let upload_id = create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let (big, small) = (pattern(config.min_part_size, 5), pattern(10, 6));
    let e1 = upload(backend, id, 1, &big).await;
    let e2 = upload(backend, id, 2, &small).await;
    let e3 = upload(backend, id, 3, &small).await;

    let order = [
        completed(&[(2, &e2), (1, &e1)]),
        completed(&[(1, &e1), (1, &e1)]),
    ];
    for parts in order {
        let result = backend
            .complete_multipart_upload(id, &parts, Default::default())
            .await;
        assert_err!(result, BackendError::InvalidPartOrder, "parts {parts:?}");
    }
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &e2), (2, &e2)]), Default::default())
        .await;
    assert_err!(
        result,
        BackendError::InvalidPart { part_number: 1 },
        "wrong ETag"
    );
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &e1), (4, &e3)]), Default::default())
        .await;
    assert_err!(
        result,
        BackendError::InvalidPart { part_number: 4 },
        "missing part"
    );
    let result = backend
        .complete_multipart_upload(
            id,
            &completed(&[(1, &e1), (2, &e2), (3, &e3)]),
            Default::default(),
        )
        .await;
    assert_err!(
        result,
        BackendError::EntityTooSmall { part_number: 2 },
        "small middle part"
    );
    let result = backend
        .complete_multipart_upload(id, &[], Default::default())
        .await;
    assert_err!(result, BackendError::InvalidArgument { .. }, "no parts");
    for number in [0, 10_001] {
        let mut body = MemoryBody::from(&b"x"[..]);
        let result = backend
            .upload_part(id, number, &mut body, part_declared(b"x"))
            .await;
        assert_err!(
            result,
            BackendError::InvalidArgument { .. },
            "part number {number}"
        );
    }
    let quoted = format!("\"{e2}\"");
    let done = must(
        backend
            .complete_multipart_upload(
                id,
                &completed(&[(1, &e1), (2, &quoted)]),
                Default::default(),
            )
            .await,
        "complete",
    );
    assert_eq!(
        done.etag,
        multipart_etag(&[&big, &small]),
        "quotes around part ETags are ignored"
    );
    clean(backend, bucket, prefix).await;
}

/// An upload addressed with another key, an unknown id, a hostile id or
/// an aborted upload's id answers NoSuchUpload to every call (UploadPart,
/// ListParts, Complete, Abort), and the real upload is untouched.
pub async fn multipart_wrong_upload(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/multipart-wrong/";
    clean(backend, bucket, prefix).await;
    let key = "contract/multipart-wrong/object";
    let upload_id = create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let data = pattern(10, 12);
    let e1 = upload(backend, id, 1, &data).await;
    let other_key = UploadRef {
        key: "contract/multipart-wrong/other",
        ..id
    };
    let unknown = UploadRef {
        upload_id: "0000000000000000deadbeefdeadbeefdeadbeefdeadbeef",
        ..id
    };
    let hostile = UploadRef {
        upload_id: "../../../etc",
        ..id
    };
    let aborted_id = create(backend, bucket, key).await;
    let aborted = UploadRef {
        upload_id: &aborted_id,
        ..id
    };
    must(backend.abort_multipart_upload(aborted).await, "abort");
    for wrong in [other_key, unknown, hostile, aborted] {
        let mut body = MemoryBody::from(&b"x"[..]);
        let result = backend
            .upload_part(wrong, 1, &mut body, part_declared(b"x"))
            .await;
        assert_err!(
            result,
            BackendError::NoSuchUpload,
            "upload_part to {wrong:?}"
        );
        let result = backend.list_parts(wrong, ListPartsOptions::default()).await;
        assert_err!(
            result,
            BackendError::NoSuchUpload,
            "list_parts of {wrong:?}"
        );
        let result = backend
            .complete_multipart_upload(wrong, &completed(&[(1, &e1)]), Default::default())
            .await;
        assert_err!(result, BackendError::NoSuchUpload, "complete {wrong:?}");
        let result = backend.abort_multipart_upload(wrong).await;
        assert_err!(result, BackendError::NoSuchUpload, "abort {wrong:?}");
    }
    let done = must(
        backend
            .complete_multipart_upload(id, &completed(&[(1, &e1)]), Default::default())
            .await,
        "complete the real upload",
    );
    assert_eq!(done.etag, multipart_etag(&[&data]));
    assert!(get_bytes(backend, bucket, key).await == data[..]);
    clean(backend, bucket, prefix).await;
}

/// Abort frees the upload: later calls on it answer NoSuchUpload and no
/// object appears (UploadPart after abort: see [`multipart_wrong_upload`]).
pub async fn multipart_abort(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/multipart-abort/";
    clean(backend, bucket, prefix).await;
    let key = "contract/multipart-abort/object";
    let upload_id = create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let etag = upload(backend, id, 1, &pattern(10, 7)).await;
    must(backend.abort_multipart_upload(id).await, "abort");
    assert_err!(
        backend.abort_multipart_upload(id).await,
        BackendError::NoSuchUpload,
        "abort again"
    );
    let listed = backend.list_parts(id, ListPartsOptions::default()).await;
    assert_err!(listed, BackendError::NoSuchUpload, "list_parts after abort");
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &etag)]), Default::default())
        .await;
    assert_err!(result, BackendError::NoSuchUpload, "complete after abort");
    let head = backend
        .head_object(bucket, key, GetOptions::default())
        .await;
    assert_err!(
        head,
        BackendError::NoSuchKey,
        "an aborted upload leaves no object"
    );
}

/// UploadPartCopy copies (ranges of) an object into parts, checking the
/// source's conditions and the range.
pub async fn multipart_part_copy(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    let prefix = "contract/multipart-copy/";
    clean(backend, bucket, prefix).await;
    let (source_key, key) = (
        "contract/multipart-copy/source",
        "contract/multipart-copy/object",
    );
    let data = pattern(config.min_part_size + 10, 11);
    let written = put(backend, bucket, source_key, &data).await;
    let source = ObjectRef {
        bucket,
        key: source_key,
    };
    let upload_id = create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    let ranged = |first, last| PartCopyOptions {
        range: Some(ByteRange::FromTo {
            first,
            last: Some(last),
        }),
        source_conditions: Conditions::default(),
        source_version_id: None,
    };
    let split = config.min_part_size;
    let p1 = must(
        backend
            .upload_part_copy(id, 1, source, ranged(0, split - 1))
            .await,
        "copy part 1",
    );
    let p2 = must(
        backend
            .upload_part_copy(id, 2, source, ranged(split, split + 9))
            .await,
        "copy part 2",
    );
    assert_eq!(p1.etag, md5_hex(&data[..size(split)]));
    assert_eq!(p2.etag, md5_hex(&data[size(split)..]));
    let whole = must(
        backend
            .upload_part_copy(id, 3, source, PartCopyOptions::default())
            .await,
        "copy whole",
    );
    assert_eq!(
        whole.etag, written.etag,
        "a whole-object part has the object's ETag"
    );
    let size_now = config.min_part_size + 10;
    let result = backend
        .upload_part_copy(id, 4, source, ranged(size_now, size_now + 5))
        .await;
    assert_err!(
        result,
        BackendError::InvalidRange { .. },
        "range past the source"
    );
    let wrong = PartCopyOptions {
        source_conditions: Conditions {
            if_match: Some("\"nope\"".into()),
            ..Conditions::default()
        },
        ..PartCopyOptions::default()
    };
    let result = backend.upload_part_copy(id, 4, source, wrong).await;
    assert_err!(result, BackendError::PreconditionFailed, "source If-Match");
    let missing = ObjectRef {
        bucket,
        key: "contract/multipart-copy/missing",
    };
    let result = backend
        .upload_part_copy(id, 4, missing, PartCopyOptions::default())
        .await;
    assert_err!(result, BackendError::NoSuchKey, "missing source");
    let parts = completed(&[(1, &p1.etag), (2, &p2.etag)]);
    let done = must(
        backend
            .complete_multipart_upload(id, &parts, Default::default())
            .await,
        "complete",
    );
    assert_eq!(
        done.etag,
        multipart_etag(&[&data[..size(split)], &data[size(split)..]])
    );
    assert!(
        get_bytes(backend, bucket, key).await == data[..],
        "the copy reassembles the source"
    );
    clean(backend, bucket, prefix).await;
}
