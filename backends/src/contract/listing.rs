//! Contract cases for listing: prefixes, delimiters (not only `/`), pages,
//! `start_after` (including a returned common prefix) and more than 1000
//! keys.

use futures::StreamExt;

use super::{check_progress, clean, fail, get_bytes, must, put};
use crate::{Backend, ListOptions, ListPage};

/// Keys (relative to a case's prefix) that exercise byte order around `/`.
const TREE: [&str; 8] = ["a.txt", "b/1", "b/2", "b/c/3", "b0", "b-x", "c/", "d"];

async fn put_tree(backend: &dyn Backend, bucket: &str, prefix: &str) {
    clean(backend, bucket, prefix).await;
    for key in TREE {
        put(backend, bucket, &format!("{prefix}{key}"), key.as_bytes()).await;
    }
}

async fn list(
    backend: &dyn Backend,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
    max_keys: usize,
) -> ListPage {
    let options = ListOptions {
        prefix: prefix.to_owned(),
        delimiter: delimiter.map(str::to_owned),
        start_after: start_after.map(str::to_owned),
        max_keys,
    };
    must(
        backend.list_objects(bucket, options).await,
        &format!("list `{prefix}`"),
    )
}

/// Object keys and common prefixes of a page, relative to `base`.
fn relative(page: &ListPage, base: &str) -> (Vec<String>, Vec<String>) {
    let strip = |name: &str| match name.strip_prefix(base) {
        Some(rest) => rest.to_owned(),
        None => fail(format!("`{name}` is not under `{base}`")),
    };
    (
        page.objects.iter().map(|o| strip(&o.key)).collect(),
        page.common_prefixes.iter().map(|p| strip(p)).collect(),
    )
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// A listing case: prefix, delimiter, expected keys, expected common prefixes.
type ListCase<'a> = (&'a str, Option<&'a str>, &'a [&'a str], &'a [&'a str]);

/// A start-after case: prefix, delimiter, start after, expected keys and prefixes.
type StartAfterCase<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a [&'a str],
    &'a [&'a str],
);

/// Prefix and delimiter roll-ups, and pages of every size that together
/// give exactly the unpaged listing.
pub async fn list_delimiters_and_pages(backend: &dyn Backend, bucket: &str) {
    let base = "contract/list/";
    put_tree(backend, bucket, base).await;
    let all = ["a.txt", "b-x", "b/1", "b/2", "b/c/3", "b0", "c/", "d"];
    let cases: [ListCase<'_>; 8] = [
        ("", None, &all, &[]),
        ("", Some("/"), &["a.txt", "b-x", "b0", "d"], &["b/", "c/"]),
        ("b", Some("/"), &["b-x", "b0"], &["b/"]),
        ("b/", Some("/"), &["b/1", "b/2"], &["b/c/"]),
        (
            "",
            Some("-"),
            &["a.txt", "b/1", "b/2", "b/c/3", "b0", "c/", "d"],
            &["b-"],
        ),
        (
            "",
            Some("/c"),
            &["a.txt", "b-x", "b/1", "b/2", "b0", "c/", "d"],
            &["b/c"],
        ),
        ("b/c/3", Some("/"), &["b/c/3"], &[]),
        ("zzz", Some("/"), &[], &[]),
    ];
    for (prefix, delimiter, objects, prefixes) in cases {
        let page = list(
            backend,
            bucket,
            &format!("{base}{prefix}"),
            delimiter,
            None,
            1000,
        )
        .await;
        let what = format!("prefix `{prefix}` delimiter {delimiter:?}");
        assert_eq!(
            relative(&page, base),
            (owned(objects), owned(prefixes)),
            "{what}"
        );
        assert!(!page.is_truncated, "{what}");
        assert_eq!(page.next_start_after, None, "{what}");
    }
    let empty = list(backend, bucket, base, None, None, 0).await;
    assert_eq!(
        empty,
        ListPage::default(),
        "max_keys 0 answers an empty, untruncated page"
    );

    for delimiter in [None, Some("/")] {
        let whole = list(backend, bucket, base, delimiter, None, 1000).await;
        let mut expected: Vec<String> = whole.objects.iter().map(|o| o.key.clone()).collect();
        expected.extend(whole.common_prefixes.iter().cloned());
        expected.sort();
        for max in 1..=4 {
            let mut seen = Vec::new();
            let mut start_after: Option<String> = None;
            loop {
                let page = list(
                    backend,
                    bucket,
                    base,
                    delimiter,
                    start_after.as_deref(),
                    max,
                )
                .await;
                let mut entries: Vec<String> = page.objects.iter().map(|o| o.key.clone()).collect();
                entries.extend(page.common_prefixes.iter().cloned());
                entries.sort();
                let what = format!("delimiter {delimiter:?} max {max} after {start_after:?}");
                if let Some(after) = &start_after {
                    assert!(
                        entries.iter().all(|e| e > after),
                        "start_after is exclusive: {what}"
                    );
                }
                if page.is_truncated {
                    assert_eq!(entries.len(), max, "a truncated page is full: {what}");
                    assert_eq!(page.next_start_after.as_ref(), entries.last(), "{what}");
                } else {
                    assert!(entries.len() <= max, "{what}");
                }
                seen.extend(entries);
                if !page.is_truncated {
                    break;
                }
                check_progress(start_after.as_deref(), page.next_start_after.as_deref());
                start_after = page.next_start_after;
            }
            assert_eq!(
                seen, expected,
                "pages of {max} with delimiter {delimiter:?}"
            );
        }
    }
    clean(backend, bucket, base).await;
}

/// `start_after` is exclusive, and a common prefix passed back skips
/// itself and every key under it.
pub async fn list_start_after(backend: &dyn Backend, bucket: &str) {
    let base = "contract/start-after/";
    put_tree(backend, bucket, base).await;
    let cases: [StartAfterCase<'_>; 7] = [
        ("", Some("/"), "b/", &["b0", "d"], &["c/"]),
        (
            "",
            None,
            "b/",
            &["b/1", "b/2", "b/c/3", "b0", "c/", "d"],
            &[],
        ),
        ("", Some("/"), "b0", &["d"], &["c/"]),
        ("", None, "b/2", &["b/c/3", "b0", "c/", "d"], &[]),
        (
            "",
            None,
            "a",
            &["a.txt", "b-x", "b/1", "b/2", "b/c/3", "b0", "c/", "d"],
            &[],
        ),
        ("b/", Some("/"), "b/c/", &[], &[]),
        ("", Some("/"), "zzz", &[], &[]),
    ];
    for (prefix, delimiter, after, objects, prefixes) in cases {
        let start_after = format!("{base}{after}");
        let page = list(
            backend,
            bucket,
            &format!("{base}{prefix}"),
            delimiter,
            Some(&start_after),
            1000,
        )
        .await;
        let what = format!("prefix `{prefix}` delimiter {delimiter:?} after `{after}`");
        assert_eq!(
            relative(&page, base),
            (owned(objects), owned(prefixes)),
            "{what}"
        );
        assert!(!page.is_truncated, "{what}");
    }
    let before_everything = list(backend, bucket, base, None, Some("contract/"), 1000).await;
    assert_eq!(before_everything.objects.len(), TREE.len());
    clean(backend, bucket, base).await;
}

/// More than 1000 keys: the first page holds 1000 and is truncated, the
/// second holds the rest.
pub async fn list_many_keys(backend: &dyn Backend, bucket: &str) {
    let base = "contract/many/";
    clean(backend, bucket, base).await;
    let keys: Vec<String> = (0..1100).map(|i| format!("{base}k{i:04}")).collect();
    futures::stream::iter(keys.iter().map(|key| put(backend, bucket, key, b"")))
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    for delimiter in [None, Some("/")] {
        let first = list(backend, bucket, base, delimiter, None, 1000).await;
        let first_keys: Vec<&str> = first.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            first_keys,
            keys[..1000].iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(first.is_truncated, "1100 keys do not fit in one page");
        assert_eq!(first.next_start_after.as_deref(), Some(keys[999].as_str()));
        let second = list(
            backend,
            bucket,
            base,
            delimiter,
            first.next_start_after.as_deref(),
            1000,
        )
        .await;
        let second_keys: Vec<&str> = second.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(
            second_keys,
            keys[1000..].iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(!second.is_truncated);
        assert_eq!(second.next_start_after, None);
        assert!(
            second
                .objects
                .iter()
                .all(|o| o.size == 0 && o.etag == "d41d8cd98f00b204e9800998ecf8427e")
        );
    }
    clean(backend, bucket, base).await;
    assert!(
        list(backend, bucket, base, None, None, 1000)
            .await
            .objects
            .is_empty()
    );
}

/// Keys that are also prefixes of other keys (`a`, `a/`, `a/b`, `a/b/c`)
/// coexist with their neighbours in byte order (`a!` < `a/` < `a0`): each
/// keeps its own content, listings give S3's order with and without a
/// delimiter and from every marker, and deleting one leaves the others.
/// (Keys with empty segments, such as `a//b`, are left to backends' own
/// tests: the s3 backend refuses them.)
pub async fn keys_that_are_prefixes(backend: &dyn Backend, bucket: &str) {
    let base = "contract/prefix-keys/";
    clean(backend, bucket, base).await;
    let keys = ["a/b", "a", "a0", "a/b/c", "a/", "a!"];
    for key in keys {
        put(backend, bucket, &format!("{base}{key}"), key.as_bytes()).await;
    }
    for key in keys {
        let content = get_bytes(backend, bucket, &format!("{base}{key}")).await;
        assert_eq!(content, key.as_bytes(), "`{key}` keeps its own content");
    }
    let all = ["a", "a!", "a/", "a/b", "a/b/c", "a0"];
    let cases: [ListCase<'_>; 7] = [
        ("", None, &all, &[]),
        ("", Some("/"), &["a", "a!", "a0"], &["a/"]),
        ("a", Some("/"), &["a", "a!", "a0"], &["a/"]),
        ("a/", Some("/"), &["a/", "a/b"], &["a/b/"]),
        ("a/", None, &["a/", "a/b", "a/b/c"], &[]),
        ("a/b", Some("/"), &["a/b"], &["a/b/"]),
        ("a/b/", Some("/"), &["a/b/c"], &[]),
    ];
    for (prefix, delimiter, objects, prefixes) in cases {
        let page = list(
            backend,
            bucket,
            &format!("{base}{prefix}"),
            delimiter,
            None,
            1000,
        )
        .await;
        let what = format!("prefix `{prefix}` delimiter {delimiter:?}");
        assert_eq!(
            relative(&page, base),
            (owned(objects), owned(prefixes)),
            "{what}"
        );
    }
    let after_cases: [StartAfterCase<'_>; 6] = [
        ("", None, "a", &["a!", "a/", "a/b", "a/b/c", "a0"], &[]),
        ("", None, "a/", &["a/b", "a/b/c", "a0"], &[]),
        ("", Some("/"), "a!", &["a0"], &["a/"]),
        ("", Some("/"), "a/", &["a0"], &[]),
        ("a/", Some("/"), "a/", &["a/b"], &["a/b/"]),
        ("", None, "a/b", &["a/b/c", "a0"], &[]),
    ];
    for (prefix, delimiter, after, objects, prefixes) in after_cases {
        let start_after = format!("{base}{after}");
        let page = list(
            backend,
            bucket,
            &format!("{base}{prefix}"),
            delimiter,
            Some(&start_after),
            1000,
        )
        .await;
        let what = format!("prefix `{prefix}` delimiter {delimiter:?} after `{after}`");
        assert_eq!(
            relative(&page, base),
            (owned(objects), owned(prefixes)),
            "{what}"
        );
    }
    // One key per page walks every key in order.
    let mut seen = Vec::new();
    let mut start_after: Option<String> = None;
    for _ in 0..=all.len() {
        let page = list(backend, bucket, base, None, start_after.as_deref(), 1).await;
        seen.extend(relative(&page, base).0);
        if !page.is_truncated {
            break;
        }
        check_progress(start_after.as_deref(), page.next_start_after.as_deref());
        start_after = page.next_start_after;
    }
    assert_eq!(seen, owned(&all), "pages of one key");

    for key in ["a", "a/b"] {
        must(
            backend.delete_object(bucket, &format!("{base}{key}")).await,
            &format!("delete `{key}`"),
        );
    }
    let page = list(backend, bucket, base, None, None, 1000).await;
    let left = ["a!", "a/", "a/b/c", "a0"];
    assert_eq!(
        relative(&page, base).0,
        owned(&left),
        "deletes leave the others"
    );
    for key in left {
        let content = get_bytes(backend, bucket, &format!("{base}{key}")).await;
        assert_eq!(content, key.as_bytes(), "`{key}` after the deletes");
    }
    clean(backend, bucket, base).await;
}
