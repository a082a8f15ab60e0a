//! Contract cases for listing multipart state: ListParts and
//! ListMultipartUploads, with their markers and delimiter.

use super::multipart::{create, upload};
use super::{clean, fail, must, pattern};
use crate::{Backend, ListPartsOptions, ListUploadsOptions, ListUploadsPage, UploadRef};

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
