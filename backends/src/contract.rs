//! The contract suite: the same cases run against every backend, so that
//! swapping a bucket's backend changes nothing a client can see except the
//! backend's documented limits.
//!
//! Each case takes a backend and the name of an existing bucket it may
//! write to, works under its own `contract/<case>/` prefix (cleaning it
//! before and after), and panics with a message naming the failed
//! expectation, like `assert!`. Writes declare their body's length, as the
//! gateway always does (it refuses writes without one). [`run_all`] runs
//! every case in turn; [`ContractConfig::expected_failures`] names cases a
//! test server cannot pass, each with its reason. Those still run, and must
//! fail: one that passes fails the suite, so the list never outlives the
//! deviation it excuses.
//!
//! The module is compiled only with the crate's `contract` feature.
//!
//! ```no_run
//! # async fn demo(backend: &dyn cedargate_backends::Backend) {
//! use cedargate_backends::contract::{ContractConfig, ExpectedFailure};
//! let config = ContractConfig {
//!     min_part_size: 1024,
//!     expected_failures: vec![ExpectedFailure {
//!         case: "multipart_list_uploads",
//!         reason: "the test server ignores the delimiter",
//!     }],
//! };
//! cedargate_backends::contract::run_all_with(backend, "test-bucket", &config).await;
//! # }
//! ```

mod acl;
mod buckets;
mod checksums;
mod conditions;
mod copy;
mod listing;
mod multipart;
mod objects;
mod uploads;
mod versioning;

use std::any::Any;
use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use futures::FutureExt;
use md5::{Digest, Md5};

pub use acl::{bucket_tagging, canned_acls};
pub use buckets::{bucket_lifecycle, object_tagging, unversioned_versions, version_null_requests};
pub use checksums::{
    checksums_stored, multipart_checksums, multipart_complete_again,
    multipart_conditional_complete, multipart_part_reupload, object_attributes, part_number_reads,
};
pub use conditions::{conditional_put, read_conditions};
pub use copy::copy_object;
pub use listing::{
    keys_that_are_prefixes, list_delimiters_and_pages, list_many_keys, list_start_after,
};
pub use multipart::{
    multipart_abort, multipart_complete, multipart_errors, multipart_part_copy,
    multipart_wrong_upload,
};
pub use objects::{
    awkward_keys, delete_objects, failed_bodies_store_nothing, missing_bucket, put_get_head_delete,
    ranges,
};
pub use uploads::{multipart_list_parts, multipart_list_uploads};
pub use versioning::{
    versioning_enabled, versioning_listing, versioning_marker_deletes, versioning_suspended,
};

use crate::{
    Backend, BackendResult, BodySource, ListOptions, ListUploadsOptions, MemoryBody,
    ObjectIdentifier, PartOptions, PutOptions, PutOutput, UploadRef,
};

/// What the suite needs to know about the backend under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractConfig {
    /// The smallest size the backend accepts for a multipart part that is
    /// not the last (S3: 5 MiB). Multipart cases upload parts of this size.
    pub min_part_size: u64,
    /// Cases that must fail, each with the reason. Only for a test server
    /// that deviates from S3 where the backend cannot help it (never for
    /// the backend's own shortcomings): keep it short and explain every
    /// entry. A listed case that passes fails the suite.
    pub expected_failures: Vec<ExpectedFailure>,
}

impl Default for ContractConfig {
    fn default() -> Self {
        Self {
            min_part_size: 5 * 1024 * 1024,
            expected_failures: Vec::new(),
        }
    }
}

/// A case [`run_all_with`] runs expecting it to fail, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFailure {
    /// The case: the name of its function in this module.
    pub case: &'static str,
    /// Why it cannot pass against this backend's test server.
    pub reason: &'static str,
}

/// Every case [`run_all_with`] runs, by name.
pub const CASES: [&str; 33] = [
    "missing_bucket",
    "put_get_head_delete",
    "failed_bodies_store_nothing",
    "ranges",
    "read_conditions",
    "conditional_put",
    "awkward_keys",
    "copy_object",
    "delete_objects",
    "list_delimiters_and_pages",
    "list_start_after",
    "list_many_keys",
    "keys_that_are_prefixes",
    "multipart_complete",
    "multipart_errors",
    "multipart_wrong_upload",
    "multipart_abort",
    "multipart_list_parts",
    "multipart_list_uploads",
    "multipart_part_copy",
    "bucket_lifecycle",
    "unversioned_versions",
    "version_null_requests",
    "object_tagging",
    "canned_acls",
    "bucket_tagging",
    "checksums_stored",
    "multipart_checksums",
    "object_attributes",
    "part_number_reads",
    "multipart_part_reupload",
    "multipart_complete_again",
    "multipart_conditional_complete",
];

/// The versioning cases [`run_versioning`] runs, by name: each creates
/// and removes a bucket of its own, named after the one given.
pub const VERSIONING_CASES: [&str; 4] = [
    "versioning_enabled",
    "versioning_marker_deletes",
    "versioning_suspended",
    "versioning_listing",
];

/// Runs every case of [`VERSIONING_CASES`], for backends that keep
/// versions (PutBucketVersioning), as [`run_all_with`] runs [`CASES`].
pub async fn run_versioning(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    run_cases(&VERSIONING_CASES, backend, bucket, config).await;
}

/// Runs every case with the default [`ContractConfig`] (5 MiB parts).
pub async fn run_all(backend: &dyn Backend, bucket: &str) {
    run_all_with(backend, bucket, &ContractConfig::default()).await;
}

/// Runs every case of [`CASES`] in turn. A case `config` lists as an
/// expected failure must fail (reported on stderr with its reason, after
/// which everything under `contract/` is cleaned away); if it passes, the
/// suite fails, asking for the entry to be removed.
pub async fn run_all_with(backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    run_cases(&CASES, backend, bucket, config).await;
}

/// Runs `cases` in turn, as [`run_all_with`] describes.
async fn run_cases(cases: &[&str], backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    for expected in &config.expected_failures {
        if !CASES.contains(&expected.case) && !VERSIONING_CASES.contains(&expected.case) {
            fail(format!(
                "the expected failures name an unknown case `{}`",
                expected.case
            ));
        }
    }
    for &case in cases {
        let Some(expected) = config.expected_failures.iter().find(|e| e.case == case) else {
            run_case(case, backend, bucket, config).await;
            continue;
        };
        let outcome = AssertUnwindSafe(run_case(case, backend, bucket, config))
            .catch_unwind()
            .await;
        match outcome {
            Ok(()) => fail(format!(
                "`{case}` is listed as an expected failure ({}), but it passed: remove it \
                 from the list",
                expected.reason
            )),
            Err(panic) => {
                eprintln!(
                    "contract: `{case}` failed, as expected ({}): {}",
                    expected.reason,
                    panic_message(panic.as_ref())
                );
                clean(backend, bucket, "contract/").await;
            }
        }
    }
}

/// Runs the case named `case`.
async fn run_case(case: &str, backend: &dyn Backend, bucket: &str, config: &ContractConfig) {
    match case {
        "missing_bucket" => missing_bucket(backend, bucket).await,
        "put_get_head_delete" => put_get_head_delete(backend, bucket).await,
        "failed_bodies_store_nothing" => failed_bodies_store_nothing(backend, bucket).await,
        "ranges" => ranges(backend, bucket).await,
        "read_conditions" => read_conditions(backend, bucket).await,
        "conditional_put" => conditional_put(backend, bucket).await,
        "awkward_keys" => awkward_keys(backend, bucket).await,
        "copy_object" => copy_object(backend, bucket).await,
        "delete_objects" => delete_objects(backend, bucket).await,
        "list_delimiters_and_pages" => list_delimiters_and_pages(backend, bucket).await,
        "list_start_after" => list_start_after(backend, bucket).await,
        "list_many_keys" => list_many_keys(backend, bucket).await,
        "keys_that_are_prefixes" => keys_that_are_prefixes(backend, bucket).await,
        "multipart_complete" => multipart_complete(backend, bucket, config).await,
        "multipart_errors" => multipart_errors(backend, bucket, config).await,
        "multipart_wrong_upload" => multipart_wrong_upload(backend, bucket).await,
        "multipart_abort" => multipart_abort(backend, bucket).await,
        "multipart_list_parts" => multipart_list_parts(backend, bucket).await,
        "multipart_list_uploads" => multipart_list_uploads(backend, bucket).await,
        "multipart_part_copy" => multipart_part_copy(backend, bucket, config).await,
        "bucket_lifecycle" => bucket_lifecycle(backend, bucket).await,
        "unversioned_versions" => unversioned_versions(backend, bucket).await,
        "version_null_requests" => version_null_requests(backend, bucket).await,
        "object_tagging" => object_tagging(backend, bucket).await,
        "canned_acls" => canned_acls(backend, bucket).await,
        "bucket_tagging" => bucket_tagging(backend, bucket).await,
        "versioning_enabled" => versioning_enabled(backend, bucket).await,
        "versioning_suspended" => versioning_suspended(backend, bucket).await,
        "versioning_marker_deletes" => versioning_marker_deletes(backend, bucket).await,
        "versioning_listing" => versioning_listing(backend, bucket).await,
        "checksums_stored" => checksums_stored(backend, bucket).await,
        "multipart_checksums" => multipart_checksums(backend, bucket, config).await,
        "object_attributes" => object_attributes(backend, bucket, config).await,
        "part_number_reads" => part_number_reads(backend, bucket, config).await,
        "multipart_part_reupload" => multipart_part_reupload(backend, bucket).await,
        "multipart_complete_again" => multipart_complete_again(backend, bucket).await,
        "multipart_conditional_complete" => multipart_conditional_complete(backend, bucket).await,
        other => fail(format!("case `{other}` is listed but not run")),
    }
}

/// The message of a caught panic, when it has one.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else if let Some(message) = panic.downcast_ref::<&str>() {
        message
    } else {
        "(no message)"
    }
}

/// Reports a failed expectation.
#[track_caller]
#[expect(
    clippy::panic,
    reason = "the suite reports failures by panicking, like assert!"
)]
fn fail(message: String) -> ! {
    panic!("{message}")
}

/// The value of a call that must succeed.
#[track_caller]
fn must<T>(result: BackendResult<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(error) => fail(format!("{what}: expected success, got {error:?}")),
    }
}

/// Asserts that a result is an error matching a pattern.
macro_rules! assert_err {
    ($result:expr, $pattern:pat, $($what:tt)+) => {
        match $result {
            Err($pattern) => {}
            Err(other) => $crate::contract::fail(format!(
                "{}: expected {}, got {other:?}",
                format!($($what)+),
                stringify!($pattern)
            )),
            Ok(_) => $crate::contract::fail(format!(
                "{}: expected {}, got success",
                format!($($what)+),
                stringify!($pattern)
            )),
        }
    };
}
use assert_err;

/// Lowercase hex MD5.
fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// The ETag S3 gives a multipart object made of `parts`.
fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut md5s = Md5::new();
    for part in parts {
        md5s.update(Md5::digest(part));
    }
    format!("{}-{}", hex::encode(md5s.finalize()), parts.len())
}

/// `len` bytes of a pattern that differs per `seed`.
fn pattern(len: u64, seed: u8) -> Bytes {
    (0..len)
        .map(|i| (i % 251) as u8 ^ seed.wrapping_mul(37))
        .collect::<Vec<u8>>()
        .into()
}

/// `len` as a usize (the suite only builds bodies that fit in memory).
fn size(len: u64) -> usize {
    usize::try_from(len).unwrap_or_else(|_| fail(format!("{len} bytes do not fit in memory")))
}

/// `options`, declaring `data`'s length when they do not.
fn declared(options: PutOptions, data: &[u8]) -> PutOptions {
    PutOptions {
        content_length: options.content_length.or(Some(data.len() as u64)),
        ..options
    }
}

/// Part options declaring `data`'s length.
fn part_declared(data: &[u8]) -> PartOptions {
    PartOptions {
        content_length: Some(data.len() as u64),
        content_md5: None,
        checksum: None,
    }
}

async fn put(backend: &dyn Backend, bucket: &str, key: &str, data: &[u8]) -> PutOutput {
    put_with(backend, bucket, key, data, PutOptions::default()).await
}

async fn put_with(
    backend: &dyn Backend,
    bucket: &str,
    key: &str,
    data: &[u8],
    options: PutOptions,
) -> PutOutput {
    let mut body = MemoryBody::from(data);
    let options = declared(options, data);
    must(
        backend.put_object(bucket, key, &mut body, options).await,
        &format!("put `{key}`"),
    )
}

async fn get_bytes(backend: &dyn Backend, bucket: &str, key: &str) -> Vec<u8> {
    let output = must(
        backend.get_object(bucket, key, Default::default()).await,
        &format!("get `{key}`"),
    );
    match crate::collect_body(output.body).await {
        Ok(bytes) => bytes,
        Err(error) => fail(format!("reading `{key}`: {error}")),
    }
}

/// Every key under `prefix`, in listing order, following every page.
async fn all_keys(backend: &dyn Backend, bucket: &str, prefix: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut start_after = None;
    loop {
        let options = ListOptions {
            prefix: prefix.to_owned(),
            start_after,
            ..ListOptions::default()
        };
        let previous = options.start_after.clone();
        let page = must(backend.list_objects(bucket, options).await, "list");
        keys.extend(page.objects.into_iter().map(|o| o.key));
        if !page.is_truncated {
            return keys;
        }
        check_progress(previous.as_deref(), page.next_start_after.as_deref());
        start_after = page.next_start_after;
    }
}

/// Fails unless a truncated page's `next` marker moves past `previous`, so
/// a backend that repeats entries fails instead of looping forever.
#[track_caller]
fn check_progress(previous: Option<&str>, next: Option<&str>) {
    match next {
        None => fail("a truncated page has no next marker".into()),
        Some(next) if previous.is_some_and(|previous| next <= previous) => fail(format!(
            "the listing does not advance: `{next}` after {previous:?}"
        )),
        Some(_) => {}
    }
}

/// Removes every object and upload under `prefix`.
async fn clean(backend: &dyn Backend, bucket: &str, prefix: &str) {
    let keys = all_keys(backend, bucket, prefix).await;
    for batch in keys.chunks(1000) {
        let objects: Vec<ObjectIdentifier> = batch.iter().map(ObjectIdentifier::key).collect();
        let results = must(
            backend.delete_objects(bucket, &objects).await,
            "delete_objects",
        );
        for (key, result) in batch.iter().zip(results) {
            must(result, &format!("cleaning `{key}`"));
        }
    }
    let options = ListUploadsOptions {
        prefix: prefix.to_owned(),
        ..ListUploadsOptions::default()
    };
    let uploads = must(
        backend.list_multipart_uploads(bucket, options).await,
        "list uploads",
    );
    for upload in uploads.uploads {
        let upload_ref = UploadRef {
            bucket,
            key: &upload.key,
            upload_id: &upload.upload_id,
        };
        must(backend.abort_multipart_upload(upload_ref).await, "abort");
    }
}

/// A body that yields its chunks, then fails like a client going away.
#[derive(Debug)]
struct FailingBody {
    chunks: Vec<Bytes>,
}

#[async_trait::async_trait]
impl BodySource for FailingBody {
    async fn next_chunk(&mut self) -> std::io::Result<Option<Bytes>> {
        if self.chunks.is_empty() {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the client went away",
            ))
        } else {
            Ok(Some(self.chunks.remove(0)))
        }
    }
}
