//! Contract cases for multipart uploads: completion and its ETag, every
//! completion error, abort, ListParts, ListMultipartUploads and
//! UploadPartCopy.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::{
    ContractConfig, assert_err, clean, fail, get_bytes, md5_hex, multipart_etag, must, pattern,
    put, size,
};
use crate::{
    Backend, BackendError, ByteRange, CompletedPart, Conditions, GetOptions, ListPartsOptions,
    ListUploadsOptions, ListUploadsPage, MemoryBody, ObjectHeaders, ObjectRef, PartCopyOptions,
    PartOptions, PutOptions, UploadRef,
};

async fn create(backend: &dyn Backend, bucket: &str, key: &str) -> String {
    let options = PutOptions::default();
    must(
        backend.create_multipart_upload(bucket, key, options).await,
        &format!("create `{key}`"),
    )
}

async fn upload(backend: &dyn Backend, upload: UploadRef<'_>, number: u32, data: &Bytes) -> String {
    let mut body = MemoryBody::new([data.clone()]);
    let options = PartOptions {
        content_length: Some(data.len() as u64),
        content_md5: None,
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

fn completed(parts: &[(u32, &str)]) -> Vec<CompletedPart> {
    parts
        .iter()
        .map(|(part_number, etag)| CompletedPart {
            part_number: *part_number,
            etag: (*etag).to_owned(),
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
        backend.complete_multipart_upload(id, &chosen).await,
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

/// InvalidPartOrder, InvalidPart, EntityTooSmall, an empty part list, bad
/// part numbers and unknown uploads are refused, and leave the upload
/// usable.
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
        let result = backend.complete_multipart_upload(id, &parts).await;
        assert_err!(result, BackendError::InvalidPartOrder, "parts {parts:?}");
    }
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &e2), (2, &e2)]))
        .await;
    assert_err!(
        result,
        BackendError::InvalidPart { part_number: 1 },
        "wrong ETag"
    );
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &e1), (4, &e3)]))
        .await;
    assert_err!(
        result,
        BackendError::InvalidPart { part_number: 4 },
        "missing part"
    );
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &e1), (2, &e2), (3, &e3)]))
        .await;
    assert_err!(
        result,
        BackendError::EntityTooSmall { part_number: 2 },
        "small middle part"
    );
    let result = backend.complete_multipart_upload(id, &[]).await;
    assert_err!(result, BackendError::InvalidArgument { .. }, "no parts");
    for number in [0, 10_001] {
        let mut body = MemoryBody::from(&b"x"[..]);
        let result = backend
            .upload_part(id, number, &mut body, PartOptions::default())
            .await;
        assert_err!(
            result,
            BackendError::InvalidArgument { .. },
            "part number {number}"
        );
    }
    let other_key = UploadRef {
        key: "contract/multipart-errors/other",
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
    for wrong in [other_key, unknown, hostile] {
        let mut body = MemoryBody::from(&b"x"[..]);
        let result = backend
            .upload_part(wrong, 1, &mut body, PartOptions::default())
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
            .complete_multipart_upload(wrong, &completed(&[(1, &e1)]))
            .await;
        assert_err!(result, BackendError::NoSuchUpload, "complete {wrong:?}");
        let result = backend.abort_multipart_upload(wrong).await;
        assert_err!(result, BackendError::NoSuchUpload, "abort {wrong:?}");
    }
    let quoted = format!("\"{e2}\"");
    let done = must(
        backend
            .complete_multipart_upload(id, &completed(&[(1, &e1), (2, &quoted)]))
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

/// Abort frees the upload: later calls on it answer NoSuchUpload and no
/// object appears.
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
    let mut body = MemoryBody::from(&b"x"[..]);
    let result = backend
        .upload_part(id, 2, &mut body, PartOptions::default())
        .await;
    assert_err!(
        result,
        BackendError::NoSuchUpload,
        "upload_part after abort"
    );
    let result = backend
        .complete_multipart_upload(id, &completed(&[(1, &etag)]))
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

/// ListParts pages by part number and shows a re-uploaded part's new ETag.
pub async fn multipart_list_parts(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/multipart-parts/";
    clean(backend, bucket, prefix).await;
    let key = "contract/multipart-parts/object";
    let upload_id = create(backend, bucket, key).await;
    let id = UploadRef {
        bucket,
        key,
        upload_id: &upload_id,
    };
    for number in [5, 1, 3, 2] {
        upload(backend, id, number, &pattern(u64::from(number) * 10, 8)).await;
    }
    let replacement = pattern(7, 9);
    let replaced = upload(backend, id, 2, &replacement).await;
    let list = |marker, max| {
        backend.list_parts(
            id,
            ListPartsOptions {
                part_number_marker: marker,
                max_parts: max,
            },
        )
    };
    let page = must(list(0, 1000).await, "list_parts");
    let numbers: Vec<(u32, u64)> = page.parts.iter().map(|p| (p.part_number, p.size)).collect();
    assert_eq!(numbers, vec![(1, 10), (2, 7), (3, 30), (5, 50)]);
    assert_eq!(
        page.parts[1].etag, replaced,
        "a re-uploaded part replaces the old one"
    );
    assert!(!page.is_truncated);
    let first = must(list(0, 2).await, "list_parts page 1");
    assert_eq!(
        first
            .parts
            .iter()
            .map(|p| p.part_number)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(first.is_truncated);
    assert_eq!(first.next_part_number_marker, Some(2));
    let second = must(list(2, 2).await, "list_parts page 2");
    assert_eq!(
        second
            .parts
            .iter()
            .map(|p| p.part_number)
            .collect::<Vec<_>>(),
        vec![3, 5]
    );
    assert!(!second.is_truncated);
    assert!(must(list(5, 2).await, "past the end").parts.is_empty());
    must(backend.abort_multipart_upload(id).await, "abort");
}

fn upload_entries(page: &ListUploadsPage) -> Vec<String> {
    let mut entries: Vec<String> = page
        .uploads
        .iter()
        .map(|u| format!("{} {}", u.key, u.upload_id))
        .collect();
    entries.extend(page.common_prefixes.iter().cloned());
    entries
}

/// ListMultipartUploads filters by prefix, rolls up at the delimiter,
/// orders a key's uploads by initiation and pages with key and upload-id
/// markers.
pub async fn multipart_list_uploads(backend: &dyn Backend, bucket: &str) {
    let prefix = "contract/multipart-uploads/";
    clean(backend, bucket, prefix).await;
    let mut created = Vec::new();
    for name in ["a", "b/c", "a", "b/d", "e"] {
        let key = format!("{prefix}{name}");
        let upload_id = create(backend, bucket, &key).await;
        created.push((key, upload_id));
    }
    let list = |delimiter: Option<&str>,
                key_marker: Option<String>,
                upload_id_marker: Option<String>,
                max| {
        let options = ListUploadsOptions {
            prefix: prefix.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            key_marker,
            upload_id_marker,
            max_uploads: max,
        };
        backend.list_multipart_uploads(bucket, options)
    };
    let page = must(list(None, None, None, 1000).await, "list uploads");
    let order = [0, 2, 1, 3, 4];
    let expected: Vec<String> = order
        .iter()
        .map(|i| format!("{} {}", created[*i].0, created[*i].1))
        .collect();
    assert_eq!(upload_entries(&page), expected, "by key, then initiation");
    assert!(!page.is_truncated);
    let rolled = must(
        list(Some("/"), None, None, 1000).await,
        "list uploads with delimiter",
    );
    assert_eq!(rolled.common_prefixes, vec![format!("{prefix}b/")]);
    assert_eq!(
        rolled
            .uploads
            .iter()
            .map(|u| u.key.as_str())
            .collect::<Vec<_>>(),
        [&created[0].0, &created[2].0, &created[4].0]
    );

    for delimiter in [None, Some("/")] {
        let whole = must(list(delimiter, None, None, 1000).await, "whole");
        let mut expected = upload_entries(&whole);
        expected.sort();
        let mut seen = Vec::new();
        let (mut key_marker, mut id_marker) = (None, None);
        let mut finished = false;
        for _ in 0..=expected.len() {
            let page = must(
                list(delimiter, key_marker, id_marker, 1).await,
                "page of uploads",
            );
            assert!(page.uploads.len() + page.common_prefixes.len() <= 1);
            seen.extend(upload_entries(&page));
            if !page.is_truncated {
                finished = true;
                break;
            }
            (key_marker, id_marker) = (page.next_key_marker, page.next_upload_id_marker);
            if key_marker.is_none() {
                fail("a truncated uploads page has no next_key_marker".into());
            }
        }
        assert!(
            finished,
            "pages of one upload end within {} pages",
            expected.len() + 1
        );
        seen.sort();
        assert_eq!(seen, expected, "pages of one with delimiter {delimiter:?}");
    }
    for (key, upload_id) in &created {
        must(
            backend
                .abort_multipart_upload(UploadRef {
                    bucket,
                    key,
                    upload_id,
                })
                .await,
            "abort",
        );
    }
    let after = must(list(None, None, None, 1000).await, "list after abort");
    assert!(after.uploads.is_empty(), "aborted uploads are not listed");
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
        backend.complete_multipart_upload(id, &parts).await,
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
