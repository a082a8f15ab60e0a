//! POST Object (browser form uploads), its own branch of the pipeline:
//! the authentication material is in the body, so the stages run in this
//! order here:
//!
//! 1. *read the form*: the fields before the `file` part, at most
//!    [`cedargate_s3::post::MAX_PRE_DATA_BYTES`] (S3's cap), with `100 Continue` sent first
//!    when asked for; a form without `Content-Length` is refused;
//! 2. *authenticate*: the SigV4 form signature against the credential in
//!    `x-amz-credential` (an STS session with `x-amz-security-token`); a
//!    form with no signing field and no policy at all is anonymous;
//! 3. *policy*: a signed form's policy document is checked (expiration,
//!    conditions, every field covered) against the fields, the key being
//!    the final one (`${filename}` replaced);
//! 4. the form becomes the PutObject it stands for (its fields as the
//!    headers a PutObject would carry: `Content-Type`, `Cache-Control`,
//!    `x-amz-meta-*`, `acl` as `x-amz-acl`, `tagging` as `x-amz-tagging`,
//!    ...), whose `Content-Length` is an upper bound of the file's size (the
//!    bytes left in the body), and from there the stages are PutObject's:
//!    key checks, the caller limit, *authorize* (Cedar decides
//!    `s3:PutObject` and every action the fields imply), *quota*;
//! 5. *dispatch*: the file part streams into the backend's put; its size
//!    is held to the policy's `content-length-range` and S3's 5 GiB as it
//!    arrives, and the body ends only at the form's closing boundary, so
//!    a truncated form stores nothing. Fields after the file are ignored.
//!
//! The answer is [`cedargate_s3::post::answer`]'s: 204, 200, 201 with a
//! `PostResponse`, or 303 to `success_action_redirect`.

use std::io;

use async_trait::async_trait;
use bytes::Bytes;
use cedargate_backends::BodySource;

use super::*;
use crate::authorize::Connection;
use cedargate_s3::post::answer::success;
use cedargate_s3::post::multipart::{FormEvent, FormReader, Step};
use cedargate_s3::post::policy::PolicyDocument;
use cedargate_s3::post::signature::form_signature;
use cedargate_s3::post::{Collected, FormCollector, PostForm, form_error, no_file};

/// S3's largest object written in one request (5 GiB).
const MAX_POST_OBJECT_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Form fields that are not object headers: the signature, the policy,
/// the key and bucket, the answer's shape.
const NOT_HEADERS: &[&str] = &[
    "key",
    "bucket",
    "policy",
    "file",
    "acl",
    "tagging",
    "success_action_status",
    "success_action_redirect",
    "redirect",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
    "x-amz-security-token",
];

/// Form fields stored as the object's standard headers.
const STANDARD_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

impl Gateway {
    /// The POST Object branch (see the module docs), after *route*,
    /// *classify* and the per-address rate limits.
    pub(super) async fn post_object(
        &self,
        request: &S3Request,
        connection: Connection,
        client: &mut dyn ClientBody,
        ctx: &mut RequestCtx,
        trace: &RequestTrace<'_>,
        buckets: &BucketMap,
    ) -> Result<S3Response, S3Error> {
        let bucket = request.bucket()?.to_owned();
        let declared = wire_length(request)?.ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::MissingContentLength,
                "you must provide the Content-Length HTTP header",
            )
        })?;
        let mut reader = FormReader::new(request.header("content-type").unwrap_or_default())
            .map_err(|e| form_error(&e))?;
        let mut raw = RequestBody::new(
            client,
            expects_continue(&request.headers),
            Some(declared),
            None,
        );
        let span = trace.stage("form");
        let form = read_fields(&mut reader, &mut raw, &bucket).await;
        drop(span);
        let mut form = form.map_err(|error| raw.take_failure().unwrap_or(error))?;
        let key = form.resolve_key()?;
        ctx.key = Some(key.clone());
        ctx.resource = Some(format!("/{bucket}/{key}"));
        if key.len() > MAX_KEY_BYTES {
            return Err(S3Error::new(
                S3ErrorCode::KeyTooLongError,
                "your key is too long",
            ));
        }

        let span = trace.stage("authenticate");
        let caller = self.authenticate_form(&form, ctx)?;
        drop(span);
        if caller.credential().is_some() {
            let _span = trace.stage("limit");
            self.limits
                .check_caller(&caller, &self.metrics)
                .await
                .map_err(|limited| self.rate_limited(limited, false, ctx))?;
        }
        let mut length_range = (0, MAX_POST_OBJECT_BYTES);
        if let Some(signed) = form_signature(&form)? {
            let check = PolicyDocument::parse(signed.policy)?.check(&form, SystemTime::now())?;
            if let Some((min, max)) = check.length_range {
                length_range = (min, max.min(MAX_POST_OBJECT_BYTES));
            }
        }
        // What is left of the body bounds the file's size.
        let bound = declared
            .saturating_sub(reader.consumed())
            .min(length_range.1);
        if bound < length_range.0 {
            return Err(too_small());
        }

        let put = put_request(request, &form, &key, bound)?;
        let mut authz = self
            .decide(&put, caller, connection, buckets, trace, ctx)
            .await?;
        let target = resolve_bucket(&put, buckets)?
            .ok_or_else(|| S3Error::internal("a POST upload without a bucket target"))?;
        if target.prefix.len() + key.len() > MAX_KEY_BYTES {
            return Err(S3Error::new(
                S3ErrorCode::KeyTooLongError,
                "your key is too long for this bucket",
            ));
        }
        let span = trace.stage("limit");
        let ticket = self
            .quotas
            .prepare(&put, &target, buckets, &mut authz)
            .await?;
        drop(span);

        let mut file = FileBody {
            reader,
            raw,
            range: length_range,
            size: 0,
            in_file: true,
            ended: false,
            failure: None,
        };
        let started = Instant::now();
        let span = trace.stage("dispatch");
        let outcome = handlers::post_object(&put, &target, &mut file).await;
        drop(span);
        ctx.upstream_duration = Some(started.elapsed());
        ctx.bytes_in = file.raw.received();
        let outcome = outcome.map_err(|error| {
            file.failure
                .take()
                .or_else(|| file.raw.take_failure())
                .unwrap_or(error)
        });
        if let Some(mut ticket) = ticket {
            ticket.set_written(file.size);
            let result = outcome.as_ref().map(|_| ()).map_err(S3Error::code);
            ticket.finish(&target, Some(&key), result).await;
        }
        let etag = outcome?;
        let scheme = if connection.secure_transport {
            "https"
        } else {
            "http"
        };
        let host = request.header("host").unwrap_or("localhost");
        let answer = success(&form, &key, &etag, &format!("{scheme}://{host}"));
        let mut response = if answer.body.is_empty() {
            S3Response::empty(answer.status)
        } else {
            let mut xml = S3Response::xml(answer.body);
            xml.status = answer.status;
            xml
        };
        for (name, value) in answer.headers {
            if name != "content-type" {
                response = response.header(name, value);
            }
        }
        Ok(response)
    }

    /// Stage *authenticate* for a form: the signer of a signed form, or
    /// the anonymous caller for a form with no signing field.
    fn authenticate_form(&self, form: &PostForm, ctx: &mut RequestCtx) -> Result<Caller, S3Error> {
        let Some(signed) = form_signature(form)? else {
            ctx.auth_mode = RequestAuthMode::Anonymous;
            if !self.config.anonymous.enabled {
                ctx.result = RequestResult::DisabledGlobally;
                self.metrics.record_anonymous_reject("disabled_globally");
                return Err(S3Error::new(
                    S3ErrorCode::AccessDenied,
                    "anonymous access is disabled; sign the form with a credential",
                ));
            }
            return Ok(Caller::Anonymous);
        };
        let store = self.credentials.load();
        let (credential, session) = auth::authenticate_form(
            &signed,
            &store,
            Some(self.sts.sealer()),
            &self.verifier,
            SystemTime::now(),
        )
        .map_err(|failure| {
            self.metrics.record_auth_failure(failure.reason.as_str());
            ctx.result = RequestResult::AuthFailure(failure.reason);
            auth_error(failure)
        })?;
        ctx.principal = Some(credential.principal.clone());
        Ok(match session {
            Some(session) => {
                ctx.auth_mode = RequestAuthMode::Sts;
                Caller::Session {
                    credential,
                    session,
                }
            }
            None => {
                ctx.auth_mode = RequestAuthMode::Signed;
                Caller::Credential {
                    credential,
                    mode: AuthMode::Signed,
                }
            }
        })
    }
}

/// Reads the form up to its file part. Memory stays bounded: the reader
/// hands content out as it arrives and caps header blocks, the collector
/// caps the fields, so at most one chunk more than the caps is held.
async fn read_fields(
    reader: &mut FormReader,
    raw: &mut RequestBody<'_>,
    bucket: &str,
) -> Result<PostForm, S3Error> {
    let mut collector = FormCollector::new(bucket);
    loop {
        match reader.step().map_err(|e| form_error(&e))? {
            Step::NeedMore => match raw.next_chunk().await {
                Ok(Some(chunk)) => reader.push(&chunk),
                Ok(None) => {
                    reader.finish().map_err(|e| form_error(&e))?;
                }
                Err(error) => return Err(S3Error::internal(error)),
            },
            Step::End => return Err(no_file()),
            Step::Event(event) => {
                if let Collected::File(form) = collector.collect(event, reader.consumed())? {
                    return Ok(form);
                }
            }
        }
    }
}

/// The PutObject a form stands for: `key` in the request's bucket, the
/// form's header fields as headers, and `bound` as its `Content-Length`.
fn put_request(
    request: &S3Request,
    form: &PostForm,
    key: &str,
    bound: u64,
) -> Result<S3Request, S3Error> {
    let mut headers = http::HeaderMap::new();
    let mut add = |name: &str, value: &str| -> Result<(), S3Error> {
        let invalid = || {
            S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!("the form field `{name}` has a value no header can carry"),
            )
        };
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = http::HeaderValue::from_bytes(value.as_bytes()).map_err(|_| invalid())?;
        headers.append(name, value);
        Ok(())
    };
    for (name, value) in form.fields() {
        if name.starts_with("x-amz-checksum-") {
            return Err(S3Error::new(
                S3ErrorCode::NotImplemented,
                "checksum fields are not supported on POST uploads",
            ));
        }
        // Only what a PutObject stores becomes a header: user metadata,
        // the standard headers and S3's storage headers. A form cannot set
        // how the body is framed or measured (`x-amz-decoded-content-length`,
        // `x-amz-content-sha256`, ...), which policies and quotas read.
        let stored = STANDARD_HEADERS.contains(&name)
            || name.starts_with("x-amz-meta-")
            || cedargate_backends::is_storage_header(name);
        if stored && !NOT_HEADERS.contains(&name) {
            add(name, value)?;
        } else if name.starts_with("x-amz-") && !NOT_HEADERS.contains(&name) {
            return Err(S3Error::new(
                S3ErrorCode::InvalidArgument,
                format!("the form field `{name}` cannot be set on a POST upload"),
            ));
        }
    }
    if let Some(acl) = form.field("acl") {
        add("x-amz-acl", acl)?;
    }
    if let Some(tagging) = form.field("tagging") {
        add("x-amz-tagging", &tagging_query(tagging)?)?;
    }
    add("content-length", &bound.to_string())?;
    let mut route = request.route.clone();
    route.key = Some(key.to_owned());
    Ok(S3Request {
        method: http::Method::PUT,
        route,
        query: request.query.clone(),
        headers,
        operation: S3Operation::PutObject,
        raw_path: request.raw_path.clone(),
        raw_query: request.raw_query.clone(),
    })
}

/// The `tagging` field (a `<Tagging>` document) as `x-amz-tagging` text.
fn tagging_query(document: &str) -> Result<String, S3Error> {
    let tags = cedargate_s3::xml::parse_tagging(document.as_bytes())
        .map_err(|error| S3Error::new(S3ErrorCode::MalformedXML, error.message()))?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in &tags {
        query.append_pair(key, value);
    }
    // `x-amz-tagging` is percent-encoded: a space is `%20`, not `+`.
    Ok(query.finish().replace('+', "%20"))
}

fn too_small() -> S3Error {
    S3Error::new(
        S3ErrorCode::EntityTooSmall,
        "Your proposed upload is smaller than the minimum allowed size",
    )
}

fn too_large() -> S3Error {
    S3Error::new(
        S3ErrorCode::PostEntityTooLarge,
        "Your proposed upload exceeds the maximum allowed size",
    )
}

/// The file part as the backend reads it: its content, held to the size
/// range as it arrives; the end only once the form's closing boundary
/// has been read (fields after the file are read and dropped).
struct FileBody<'a> {
    reader: FormReader,
    raw: RequestBody<'a>,
    /// Smallest and largest size allowed.
    range: (u64, u64),
    /// File bytes delivered.
    size: u64,
    /// Whether the file part is still being read.
    in_file: bool,
    ended: bool,
    failure: Option<S3Error>,
}

impl FileBody<'_> {
    fn fail(&mut self, error: S3Error) -> io::Error {
        let io = io::Error::new(io::ErrorKind::InvalidData, error.to_string());
        self.failure = Some(error);
        io
    }
}

#[async_trait]
impl BodySource for FileBody<'_> {
    async fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        if let Some(failure) = &self.failure {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                failure.to_string(),
            ));
        }
        if self.ended {
            return Ok(None);
        }
        loop {
            let step = match self.reader.step() {
                Ok(step) => step,
                Err(error) => return Err(self.fail(form_error(&error))),
            };
            match step {
                Step::NeedMore => match self.raw.next_chunk().await {
                    Ok(Some(chunk)) => self.reader.push(&chunk),
                    Ok(None) => {
                        if let Err(error) = self.reader.finish() {
                            return Err(self.fail(form_error(&error)));
                        }
                    }
                    Err(error) => {
                        let failure = self
                            .raw
                            .take_failure()
                            .unwrap_or_else(|| S3Error::internal(&error));
                        return Err(self.fail(failure));
                    }
                },
                Step::Event(FormEvent::Data(data)) if self.in_file => {
                    self.size += data.len() as u64;
                    if self.size > self.range.1 {
                        return Err(self.fail(too_large()));
                    }
                    return Ok(Some(data));
                }
                Step::Event(FormEvent::PartEnd) if self.in_file => {
                    self.in_file = false;
                    if self.size < self.range.0 {
                        return Err(self.fail(too_small()));
                    }
                }
                // Fields after the file are ignored, as S3 does.
                Step::Event(_) => {}
                Step::End => {
                    self.ended = true;
                    return Ok(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted() -> S3Request {
        S3Request {
            method: http::Method::POST,
            route: cedargate_s3::route::route(None, "/bkt", &[]).expect("route"),
            query: cedargate_s3::query::Query::parse("").expect("query"),
            headers: http::HeaderMap::new(),
            operation: S3Operation::PostObject,
            raw_path: "/bkt".to_owned(),
            raw_query: String::new(),
        }
    }

    #[test]
    fn a_form_becomes_the_putobject_it_stands_for() {
        let tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>blue sky</Value></Tag>\
                       <Tag><Key>a+b</Key><Value>c&amp;d</Value></Tag></TagSet></Tagging>";
        let form = PostForm::new(
            "bkt",
            [
                ("key", "up/a.txt"),
                ("Content-Type", "text/plain"),
                ("Cache-Control", "no-cache"),
                ("x-amz-meta-owner", "ada \u{e9}"),
                ("x-amz-storage-class", "STANDARD"),
                ("acl", "private"),
                ("tagging", tagging),
                ("policy", "p"),
                ("x-amz-credential", "c"),
                ("x-amz-date", "d"),
                ("x-amz-signature", "s"),
                ("x-amz-security-token", "t"),
                ("success_action_status", "201"),
                ("x-ignore-this", "1"),
                ("unrelated", "1"),
            ],
        )
        .expect("form");
        let put = put_request(&posted(), &form, "up/a.txt", 1234).expect("put");
        assert_eq!(put.operation, S3Operation::PutObject);
        assert_eq!(put.route.key.as_deref(), Some("up/a.txt"));
        let mut headers: Vec<(String, String)> = put
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        headers.sort();
        let expected = [
            ("cache-control", "no-cache"),
            ("content-length", "1234"),
            ("content-type", "text/plain"),
            ("x-amz-acl", "private"),
            ("x-amz-meta-owner", "ada \u{e9}"),
            ("x-amz-storage-class", "STANDARD"),
            ("x-amz-tagging", "team=blue%20sky&a%2Bb=c%26d"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(headers, expected);
        assert_eq!(
            put.user_metadata().expect("metadata")["owner"],
            "ada \u{e9}"
        );
    }

    #[test]
    fn fields_no_header_can_carry_are_refused() {
        let cases: [(&str, &str, S3ErrorCode); 3] = [
            (
                "x-amz-meta-a",
                "line\r\nbreak",
                S3ErrorCode::InvalidArgument,
            ),
            ("tagging", "<Tagging><TagSet>", S3ErrorCode::MalformedXML),
            (
                "x-amz-checksum-crc32",
                "AAAAAA==",
                S3ErrorCode::NotImplemented,
            ),
        ];
        for (name, value, code) in cases {
            let form = PostForm::new("bkt", [(name, value)]).expect("form");
            let error = put_request(&posted(), &form, "k", 1).expect_err(name);
            assert_eq!(error.code(), code, "{name}");
        }
    }
}
