//! Listing for the filesystem backend: an in-order walk of a bucket's
//! directory tree that yields decoded keys in ascending byte order, rolls
//! them up to common prefixes and stops one entry past a full page.
//!
//! Order: a directory named for segment `s` holds key `s` itself (its
//! data file) and the keys below `s/` (its subdirectories). It is listed
//! as two entries, `s` and `s/`, sorted with its siblings' entries: key
//! `a` sorts before `a!`, which sorts before the keys under `a/`, which
//! sort before `a0`. Sorting siblings that way and recursing into the `s/`
//! entries yields keys in global byte order. Pages: an entry (key or common prefix) is returned only when it
//! sorts strictly after `start_after`, so a common prefix returned as
//! `next_start_after` is neither repeated nor re-entered. The walk jumps
//! straight to the directory the prefix names, and never descends into a
//! directory whose keys are all before `start_after`, outside the prefix,
//! or under a common prefix already returned.

use std::path::Path;

use super::layout::{DATA_FILE, MAX_SEGMENT_LEN, decode_segment, encode_segment};
use super::object::open_object;
use super::{Ctx, blocking, ensure_bucket, io_error, is_missing};
use crate::{BackendResult, ListOptions, ListPage, ObjectSummary};

/// Largest page a listing answers.
pub(super) const MAX_PAGE: usize = 1000;

/// The common prefix `key` rolls up to, if any.
pub(super) fn rollup(prefix: &str, delimiter: Option<&str>, key: &str) -> Option<String> {
    let delimiter = delimiter?;
    let rest = key.strip_prefix(prefix)?;
    let at = rest.find(delimiter)?;
    Some(key[..prefix.len() + at + delimiter.len()].to_owned())
}

#[derive(Debug)]
enum Entry {
    Object(String),
    Prefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Self::Object(name) | Self::Prefix(name) => name,
        }
    }
}

#[derive(Debug)]
struct Walk<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    start_after: Option<&'a str>,
    max: usize,
    /// Keys under this common prefix are already accounted for.
    skip: Option<String>,
    entries: Vec<Entry>,
    truncated: bool,
}

impl Walk<'_> {
    fn skipped(&self, name: &str) -> bool {
        self.skip
            .as_deref()
            .is_some_and(|skip| name.starts_with(skip))
    }

    /// True when the directory holding keys `dir_key...` may add entries.
    fn may_hold(&self, dir_key: &str) -> bool {
        (dir_key.starts_with(self.prefix) || self.prefix.starts_with(dir_key))
            && !self.skipped(dir_key)
            && !self
                .start_after
                .is_some_and(|after| dir_key < after && !after.starts_with(dir_key))
    }

    /// Walks `dir`, whose keys all start with `dir_key`; true once the
    /// page is full and one more entry proved it truncated.
    fn walk(&mut self, dir: &Path, dir_key: &str) -> BackendResult<bool> {
        let reader = match std::fs::read_dir(dir) {
            Ok(reader) => reader,
            Err(e) if is_missing(&e) => return Ok(false),
            Err(e) => return Err(io_error("listing", dir, e)),
        };
        let mut children = Vec::new();
        for entry in reader {
            let entry = entry.map_err(|e| io_error("listing", dir, e))?;
            let Some(segment) = entry.file_name().to_str().and_then(decode_segment) else {
                continue;
            };
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                children.push((format!("{dir_key}{segment}"), false));
                children.push((format!("{dir_key}{segment}/"), true));
            }
        }
        children.sort_unstable();
        for (key, is_dir) in children {
            if self.skipped(dir_key) {
                break;
            }
            let done = if is_dir {
                self.may_hold(&key) && self.walk(&dir.join(child_name(&key, dir_key)), &key)?
            } else {
                let name = child_name(&format!("{key}/"), dir_key);
                self.visit(key, &dir.join(name).join(DATA_FILE))
            };
            if done {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Counts key `key`, whose data file is `data` if it exists.
    fn visit(&mut self, key: String, data: &Path) -> bool {
        if !key.starts_with(self.prefix) || self.skipped(&key) {
            return false;
        }
        let entry = match rollup(self.prefix, self.delimiter, &key) {
            Some(common) => Entry::Prefix(common),
            None => Entry::Object(key),
        };
        if self.start_after.is_some_and(|after| entry.name() <= after) {
            return false;
        }
        // A directory without a data file only holds other keys.
        if !std::fs::symlink_metadata(data).is_ok_and(|m| m.is_file()) {
            return false;
        }
        if self.entries.len() == self.max {
            self.truncated = true;
            return true;
        }
        if let Entry::Prefix(common) = &entry {
            self.skip = Some(common.clone());
        }
        self.entries.push(entry);
        false
    }
}

/// The file name of the directory holding keys `key` (which ends in `/`).
fn child_name(key: &str, dir_key: &str) -> String {
    let segment = &key[dir_key.len()..key.len() - 1];
    encode_segment(segment)
}

pub(super) async fn list_objects(
    ctx: &Ctx,
    bucket: &str,
    options: ListOptions,
) -> BackendResult<ListPage> {
    let bucket_dir = ctx.shared.layout.bucket_dir(bucket)?;
    let (ctx, bucket) = (ctx.clone(), bucket.to_owned());
    blocking(move || {
        ensure_bucket(&bucket_dir)?;
        let max = options.max_keys.min(MAX_PAGE);
        if max == 0 {
            return Ok(ListPage::default());
        }
        let delimiter = options.delimiter.as_deref().filter(|d| !d.is_empty());
        let start_after = options.start_after.as_deref();
        let prefix = options.prefix.as_str();
        let mut walk = Walk {
            prefix,
            delimiter,
            start_after,
            max,
            skip: start_after.and_then(|after| rollup(prefix, delimiter, after)),
            entries: Vec::new(),
            truncated: false,
        };
        // Jump to the directory named by the prefix's complete segments.
        let dir_key = prefix.rfind('/').map_or("", |at| &prefix[..=at]);
        let mut dir = bucket_dir;
        if !dir_key.is_empty() {
            for segment in dir_key[..dir_key.len() - 1].split('/') {
                let name = encode_segment(segment);
                if name.len() > MAX_SEGMENT_LEN {
                    return Ok(ListPage::default());
                }
                dir.push(name);
            }
        }
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) && walk.may_hold(dir_key) {
            walk.walk(&dir, dir_key)?;
        }
        let next_start_after = walk
            .truncated
            .then(|| walk.entries.last().map(|e| e.name().to_owned()))
            .flatten();
        let mut page = ListPage {
            is_truncated: walk.truncated,
            next_start_after,
            ..ListPage::default()
        };
        for entry in walk.entries {
            match entry {
                Entry::Prefix(common) => page.common_prefixes.push(common),
                Entry::Object(key) => {
                    if let Some(summary) = summarize(&ctx, &bucket, &key) {
                        page.objects.push(summary);
                    }
                }
            }
        }
        Ok(page)
    })
    .await
}

/// The listing entry of one key; `None` (logged) when it vanished or
/// cannot be read, so one bad file does not break a listing.
fn summarize(ctx: &Ctx, bucket: &str, key: &str) -> Option<ObjectSummary> {
    let result = ctx
        .shared
        .layout
        .object(bucket, key)
        .and_then(|paths| open_object(ctx, &paths));
    match result {
        Ok((_file, meta)) => Some(ObjectSummary {
            key: meta.key,
            size: meta.size,
            etag: meta.etag,
            last_modified: meta.last_modified,
        }),
        // Gone since the walk, or a name no storable key maps to.
        Err(crate::BackendError::NoSuchKey | crate::BackendError::InvalidArgument { .. }) => None,
        Err(error) => {
            tracing::warn!(bucket, key, %error, "skipping an unreadable object in a listing");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_finds_the_first_delimiter_after_the_prefix() {
        assert_eq!(rollup("", Some("/"), "a/b/c").as_deref(), Some("a/"));
        assert_eq!(rollup("a/", Some("/"), "a/b/c").as_deref(), Some("a/b/"));
        assert_eq!(rollup("a/", Some("/"), "a/b").as_deref(), None);
        assert_eq!(rollup("", Some("--"), "x--y--z").as_deref(), Some("x--"));
        assert_eq!(rollup("", None, "a/b").as_deref(), None);
        assert_eq!(rollup("b", Some("/"), "a/b").as_deref(), None);
    }

    #[test]
    fn directory_names_encode_their_segment() {
        assert_eq!(child_name("a/%/", "a/"), "%25");
        assert_eq!(child_name("a//", "a/"), "%");
    }
}
