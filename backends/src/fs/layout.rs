//! Where the filesystem backend keeps things: key <-> path mapping, bucket
//! and upload-id validation, and the paths of the internal directories.
//!
//! A key is split on `/` and each segment becomes one path component,
//! encoded so that the mapping is bijective and cannot leave the bucket
//! directory (see the [module docs](super) for the table). The components
//! name the key's directory, which holds the object's files under reserved
//! names no encoded segment can be. Everything here is pure path
//! arithmetic; nothing touches the filesystem.

use std::path::{Path, PathBuf};

use crate::{BackendError, BackendResult};

/// Longest key accepted, in bytes (S3's limit).
pub(super) const MAX_KEY_LEN: usize = 1024;
/// Longest encoded segment, in bytes (`NAME_MAX` on common filesystems).
pub(super) const MAX_SEGMENT_LEN: usize = 255;
/// Longest upload id accepted before touching the filesystem.
const MAX_UPLOAD_ID_LEN: usize = 128;

/// The data file in a key's directory. Encoded segments only hold `%` as
/// `%25`, `%2E` or a lone `%`, so no segment is ever named `%` followed by
/// a lowercase letter: such names are the backend's own.
pub(super) const DATA_FILE: &str = "%object";
/// The metadata sidecar next to [`DATA_FILE`].
pub(super) const SIDECAR_FILE: &str = "%meta.json";

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

/// True for the names the backend keeps inside key directories
/// ([`DATA_FILE`], [`SIDECAR_FILE`] and any other `%` + lowercase letter).
#[cfg(test)]
pub(super) fn is_reserved(name: &str) -> bool {
    name.strip_prefix('%')
        .and_then(|rest| rest.bytes().next())
        .is_some_and(|first| first.is_ascii_lowercase())
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
                    "key `{key}` has a segment between slashes longer than \
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
    /// `<root>/.cedargate/uploads`: multipart staging, one tree per bucket.
    pub uploads: PathBuf,
    /// `<root>/.cedargate/meta`: the sidecar trees of layout version 1,
    /// emptied by the migration.
    pub legacy_meta: PathBuf,
    /// `<root>/.cedargate/layout`: the layout version, written last by a
    /// migration.
    pub marker: PathBuf,
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
    /// The key's directory: `<root>/<bucket>/<encoded segments>`.
    pub dir: PathBuf,
    /// The data file, `<dir>/%object`.
    pub data: PathBuf,
    /// The sidecar, `<dir>/%meta.json`.
    pub meta: PathBuf,
}

impl ObjectPaths {
    /// The directories from the key's directory up to (not including) the
    /// bucket directory, deepest first.
    pub fn key_dirs(&self) -> impl Iterator<Item = &Path> {
        self.dir
            .ancestors()
            .take_while(move |dir| *dir != self.bucket_dir)
    }
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: PathBuf) -> Self {
        let internal = root.join(".cedargate");
        Self {
            tmp: internal.join("tmp"),
            uploads: internal.join("uploads"),
            legacy_meta: internal.join("meta"),
            marker: internal.join("layout"),
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
        let mut dir = bucket_dir.clone();
        dir.extend(encode_key(key)?);
        Ok(ObjectPaths {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            data: dir.join(DATA_FILE),
            meta: dir.join(SIDECAR_FILE),
            bucket_dir,
            dir,
        })
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
        for stray in [
            "%zz",
            "%2",
            "a%",
            "%2e",
            ".",
            "..",
            "",
            DATA_FILE,
            SIDECAR_FILE,
        ] {
            assert_eq!(decode_segment(stray), None, "{stray:?}");
        }
    }

    #[test]
    fn no_segment_encodes_to_a_reserved_name() {
        let segments = [
            "",
            ".",
            "..",
            "%",
            "%object",
            "object",
            "%meta.json",
            "%versions",
            "%2E",
        ];
        for segment in segments {
            assert!(!is_reserved(&encode_segment(segment)), "{segment:?}");
        }
        for name in [DATA_FILE, SIDECAR_FILE, "%versions"] {
            assert!(is_reserved(name), "{name}");
        }
    }

    #[test]
    fn keys_stay_inside_the_bucket() {
        let layout = Layout::new(PathBuf::from("/r"));
        // Every key gets its own directory, so a key and the keys under
        // it (`a`, `a/`, `a/b`, `a//b`) never share a path.
        let cases = [
            ("a", "/r/b/a"),
            ("a/", "/r/b/a/%"),
            ("a/b", "/r/b/a/b"),
            ("a/b/c", "/r/b/a/b/c"),
            ("a//b", "/r/b/a/%/b"),
            ("a!", "/r/b/a!"),
            ("../escape", "/r/b/%2E%2E/escape"),
            ("/abs", "/r/b/%/abs"),
            ("dir/", "/r/b/dir/%"),
            ("x//y", "/r/b/x/%/y"),
            ("a/./b", "/r/b/a/%2E/b"),
            ("%object", "/r/b/%25object"),
            ("a/%meta.json", "/r/b/a/%25meta.json"),
            ("/", "/r/b/%/%"),
        ];
        for (key, dir) in cases {
            let paths = layout
                .object("b", key)
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(paths.dir, PathBuf::from(dir), "{key}");
            assert_eq!(paths.data, PathBuf::from(format!("{dir}/%object")), "{key}");
            assert_eq!(
                paths.meta,
                PathBuf::from(format!("{dir}/%meta.json")),
                "{key}"
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
    fn key_dirs_stop_at_the_bucket() {
        let layout = Layout::new(PathBuf::from("/r"));
        let paths = layout
            .object("b", "a/b/c")
            .unwrap_or_else(|e| panic!("{e}"));
        let dirs: Vec<&Path> = paths.key_dirs().collect();
        assert_eq!(
            dirs,
            [
                Path::new("/r/b/a/b/c"),
                Path::new("/r/b/a/b"),
                Path::new("/r/b/a")
            ]
        );
    }
}
