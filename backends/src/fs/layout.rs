//! Where the filesystem backend keeps things: key <-> path mapping, bucket
//! and upload-id validation, and the paths of the internal directories.
//!
//! A key is split on `/` and each segment becomes one path component,
//! encoded so that the mapping is bijective and cannot leave the bucket
//! directory (see the [module docs](super) for the table). Everything here is
//! pure path arithmetic; nothing touches the filesystem.

use std::path::{Path, PathBuf};

use crate::{BackendError, BackendResult};

/// Longest key accepted, in bytes (S3's limit).
pub(super) const MAX_KEY_LEN: usize = 1024;
/// Longest encoded segment, in bytes (`NAME_MAX` on common filesystems).
pub(super) const MAX_SEGMENT_LEN: usize = 255;
/// Longest upload id accepted before touching the filesystem.
const MAX_UPLOAD_ID_LEN: usize = 128;

/// Encodes one key segment as a file name.
pub(super) fn encode_segment(segment: &str) -> String {
    match segment {
        "" => "%".to_owned(),
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => segment.replace('%', "%25"),
    }
}

/// Decodes a file name back into a key segment; `None` for names that no
/// key encodes to (files placed by hand with a stray `%`, say).
pub(super) fn decode_segment(name: &str) -> Option<String> {
    match name {
        "%" => return Some(String::new()),
        "%2E" => return Some(".".to_owned()),
        "%2E%2E" => return Some("..".to_owned()),
        "" | "." | ".." => return None,
        _ => {}
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = rest[at..].strip_prefix("%25")?;
        out.push('%');
    }
    out.push_str(rest);
    Some(out)
}

/// Checks a key and returns its encoded segments.
pub(super) fn encode_key(key: &str) -> BackendResult<Vec<String>> {
    if key.is_empty() {
        return Err(BackendError::invalid_argument("the key must not be empty"));
    }
    if key.contains('\0') {
        return Err(BackendError::invalid_argument(
            "the key must not contain a nul character",
        ));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(BackendError::invalid_argument(format!(
            "the key is longer than {MAX_KEY_LEN} bytes"
        )));
    }
    key.split('/')
        .map(|segment| {
            let encoded = encode_segment(segment);
            if encoded.len() > MAX_SEGMENT_LEN {
                return Err(BackendError::invalid_argument(format!(
                    "a segment of the key between slashes is longer than \
                     {MAX_SEGMENT_LEN} bytes once stored"
                )));
            }
            Ok(encoded)
        })
        .collect()
}

/// True for bucket names the backend can hold as a directory: not empty,
/// not starting with `.` (so never `.cedargate`), no path separators.
pub(super) fn is_valid_bucket(bucket: &str) -> bool {
    !bucket.is_empty()
        && bucket.len() <= MAX_SEGMENT_LEN
        && !bucket.starts_with('.')
        && !bucket.contains(['/', '\\', '\0'])
}

/// True for upload ids that are safe as a single path component.
pub(super) fn is_valid_upload_id(upload_id: &str) -> bool {
    !upload_id.is_empty()
        && upload_id.len() <= MAX_UPLOAD_ID_LEN
        && upload_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The backend's directory tree.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// `<root>`.
    pub root: PathBuf,
    /// `<root>/.cedargate/tmp`: temp files, renamed into place.
    pub tmp: PathBuf,
    /// `<root>/.cedargate/meta`: sidecars, one tree per bucket.
    pub meta: PathBuf,
    /// `<root>/.cedargate/uploads`: multipart staging, one tree per bucket.
    pub uploads: PathBuf,
}

/// The paths of one object.
#[derive(Debug, Clone)]
pub(super) struct ObjectPaths {
    /// Backend bucket name.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// `<root>/<bucket>`.
    pub bucket_dir: PathBuf,
    /// `<root>/.cedargate/meta/<bucket>`.
    pub meta_bucket_dir: PathBuf,
    /// The data file.
    pub data: PathBuf,
    /// The sidecar.
    pub meta: PathBuf,
}

impl ObjectPaths {
    /// The key made of the first `count` segments (for conflict messages).
    pub fn ancestor_key(&self, count: usize) -> String {
        self.key
            .split('/')
            .take(count)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The data-file ancestors strictly between the bucket dir and the data
    /// file, shallowest first, with how many key segments each holds.
    pub fn data_ancestors(&self) -> Vec<(usize, &Path)> {
        let mut out: Vec<&Path> = self
            .data
            .ancestors()
            .skip(1)
            .take_while(|dir| *dir != self.bucket_dir)
            .collect();
        out.reverse();
        out.into_iter()
            .enumerate()
            .map(|(i, dir)| (i + 1, dir))
            .collect()
    }
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: PathBuf) -> Self {
        let internal = root.join(".cedargate");
        Self {
            tmp: internal.join("tmp"),
            meta: internal.join("meta"),
            uploads: internal.join("uploads"),
            root,
        }
    }

    /// `<root>/<bucket>`, or `NoSuchBucket` for a name no bucket can have.
    pub fn bucket_dir(&self, bucket: &str) -> BackendResult<PathBuf> {
        if is_valid_bucket(bucket) {
            Ok(self.root.join(bucket))
        } else {
            Err(BackendError::NoSuchBucket)
        }
    }

    /// The paths of `key` in `bucket`, after checking both.
    pub fn object(&self, bucket: &str, key: &str) -> BackendResult<ObjectPaths> {
        let bucket_dir = self.bucket_dir(bucket)?;
        let segments = encode_key(key)?;
        let meta_bucket_dir = self.meta.join(bucket);
        let mut data = bucket_dir.clone();
        let mut meta = meta_bucket_dir.clone();
        for segment in &segments {
            data.push(segment);
            meta.push(segment);
        }
        Ok(ObjectPaths {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            bucket_dir,
            meta_bucket_dir,
            data,
            meta,
        })
    }

    /// `<root>/.cedargate/buckets/<bucket>.json`: the bucket's metadata
    /// (ACL, tags), or `NoSuchBucket` for a name no bucket can have.
    pub fn bucket_meta(&self, bucket: &str) -> BackendResult<PathBuf> {
        self.bucket_dir(bucket)?;
        Ok(self
            .meta
            .with_file_name("buckets")
            .join(format!("{bucket}.json")))
    }

    /// `<root>/.cedargate/uploads/<bucket>`.
    pub fn uploads_dir(&self, bucket: &str) -> BackendResult<PathBuf> {
        self.bucket_dir(bucket)?;
        Ok(self.uploads.join(bucket))
    }

    /// The staging directory of one upload, or `NoSuchUpload` when the id
    /// is not a token this backend could have issued.
    pub fn upload_dir(&self, bucket: &str, upload_id: &str) -> BackendResult<PathBuf> {
        let dir = self.uploads_dir(bucket)?;
        if is_valid_upload_id(upload_id) {
            Ok(dir.join(upload_id))
        } else {
            Err(BackendError::NoSuchUpload)
        }
    }

    /// A fresh temp-file path.
    pub fn temp_path(&self, suffix: &str) -> PathBuf {
        self.tmp
            .join(format!("{}{suffix}", uuid::Uuid::new_v4().simple()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip() {
        let cases = [
            ("", "%"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("...", "..."),
            ("%", "%25"),
            ("%2E", "%252E"),
            ("%2E%2E", "%252E%252E"),
            ("100%", "100%25"),
            ("a b+c", "a b+c"),
            ("ü", "ü"),
            (".hidden", ".hidden"),
        ];
        for (segment, name) in cases {
            assert_eq!(encode_segment(segment), name, "encode {segment:?}");
            assert_eq!(
                decode_segment(name).as_deref(),
                Some(segment),
                "decode {name:?}"
            );
        }
        for stray in ["%zz", "%2", "a%", "%2e", ".", "..", ""] {
            assert_eq!(decode_segment(stray), None, "{stray:?}");
        }
    }

    #[test]
    fn keys_stay_inside_the_bucket() {
        let layout = Layout::new(PathBuf::from("/r"));
        let cases = [
            ("a/b/c", "/r/b/a/b/c"),
            ("../escape", "/r/b/%2E%2E/escape"),
            ("/abs", "/r/b/%/abs"),
            ("dir/", "/r/b/dir/%"),
            ("x//y", "/r/b/x/%/y"),
            ("a/./b", "/r/b/a/%2E/b"),
        ];
        for (key, path) in cases {
            let paths = layout
                .object("b", key)
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(paths.data, PathBuf::from(path), "{key}");
            assert_eq!(
                paths.meta,
                PathBuf::from(path.replacen("/r/b", "/r/.cedargate/meta/b", 1))
            );
        }
    }

    #[test]
    fn bad_keys_bucket_names_and_upload_ids_are_refused() {
        let layout = Layout::new(PathBuf::from("/r"));
        let long_segment = "x".repeat(256);
        let percent_segment = "%".repeat(100);
        for key in [
            "",
            "a\0b",
            &"k".repeat(1025),
            &long_segment,
            &percent_segment,
        ] {
            assert!(
                matches!(
                    layout.object("b", key),
                    Err(BackendError::InvalidArgument { .. })
                ),
                "{key:?}"
            );
        }
        for bucket in ["", ".cedargate", "a/b", "..", "a\\b"] {
            assert!(matches!(
                layout.object(bucket, "k"),
                Err(BackendError::NoSuchBucket)
            ));
        }
        for id in ["", "../x", "a/b", "a.b", &"a".repeat(129)] {
            assert!(matches!(
                layout.upload_dir("b", id),
                Err(BackendError::NoSuchUpload)
            ));
        }
        assert!(layout.upload_dir("b", "0123abcDEF-_").is_ok());
    }

    #[test]
    fn ancestors_name_their_keys() {
        let layout = Layout::new(PathBuf::from("/r"));
        let paths = layout
            .object("b", "a/b/c")
            .unwrap_or_else(|e| panic!("{e}"));
        let ancestors = paths.data_ancestors();
        assert_eq!(
            ancestors,
            vec![(1, Path::new("/r/b/a")), (2, Path::new("/r/b/a/b"))]
        );
        assert_eq!(paths.ancestor_key(2), "a/b");
    }
}
