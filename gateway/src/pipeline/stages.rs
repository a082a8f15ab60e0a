//! The middle stages of the pipeline, as [`Gateway`] methods: *route* and
//! *classify* (from the request head to an [`S3Request`]), *authenticate*
//! (SigV4 header, presigned URL, STS session or anonymous) and *authorize*
//! (the operation put to the Cedar policies), with the errors each maps to.

use super::*;

impl Gateway {
    /// Stages *route* and *classify*.
    pub(super) fn route_and_classify(
        &self,
        head: &http::request::Parts,
        ctx: &mut RequestCtx,
    ) -> Result<S3Request, S3Error> {
        let raw_path = head.uri.path();
        let route = route::route(
            request_host(head),
            raw_path,
            &self.config.s3.virtual_host_suffixes,
        )
        .map_err(route_error)?;
        record_route(ctx, &route);
        let query = Query::parse(head.uri.query().unwrap_or_default())
            .map_err(|e| S3Error::new(S3ErrorCode::InvalidURI, e.to_string()))?;
        let operation = classify::classify(&head.method, &route, &query, &head.headers)
            .map_err(|e| S3Error::new(S3ErrorCode::InvalidRequest, e.to_string()))?;
        ctx.operation = Some(operation);
        Ok(S3Request {
            method: head.method.clone(),
            route,
            query,
            headers: head.headers.clone(),
            operation,
            raw_path: raw_path.to_owned(),
            raw_query: head.uri.query().unwrap_or_default().to_owned(),
        })
    }

    /// Stage *authenticate*: the caller, and the SHA-256 the body must
    /// hash to when the client signed one.
    pub(super) fn authenticate(
        &self,
        request: &S3Request,
        ctx: &mut RequestCtx,
    ) -> Result<
        (
            Caller,
            PayloadHash,
            Option<cedargate_s3::sigv4::SigningContext>,
        ),
        S3Error,
    > {
        let signed = cedargate_s3::sigv4::SignedRequest {
            method: request.method.as_str(),
            raw_path: &request.raw_path,
            raw_query: &request.raw_query,
            headers: &request.headers,
            body_sha256: None,
        };
        if request.query.has("AWSAccessKeyId") || request.query.has("Signature") {
            // A SigV2 presigned URL must never pass as an anonymous request.
            self.metrics.record_auth_failure("bad_authorization_format");
            ctx.result = RequestResult::AuthFailure(
                cedargate_s3::sigv4::AuthFailureReason::BadAuthorizationFormat,
            );
            return Err(S3Error::new(
                S3ErrorCode::InvalidRequest,
                "the authorization mechanism you have provided is not supported; use AWS4-HMAC-SHA256",
            ));
        }
        let store = self.credentials.load();
        let sealer = Some(self.sts.sealer());
        let now = SystemTime::now();
        let outcome =
            auth::authenticate_with_sessions(&signed, &store, sealer, &self.verifier, now)
                .map_err(|failure| {
                    self.metrics.record_auth_failure(failure.reason.as_str());
                    ctx.result = RequestResult::AuthFailure(failure.reason);
                    auth_error(failure)
                })?;
        match outcome {
            AuthOutcome::Anonymous => {
                ctx.auth_mode = RequestAuthMode::Anonymous;
                if !self.config.anonymous.enabled {
                    ctx.result = RequestResult::DisabledGlobally;
                    self.metrics.record_anonymous_reject("disabled_globally");
                    return Err(S3Error::new(
                        S3ErrorCode::AccessDenied,
                        "anonymous access is disabled; sign the request with a credential",
                    ));
                }
                let payload = request
                    .header("x-amz-content-sha256")
                    .and_then(PayloadHash::parse)
                    .unwrap_or(PayloadHash::Unsigned);
                Ok((Caller::Anonymous, payload, None))
            }
            AuthOutcome::Authenticated(authenticated) => {
                ctx.auth_mode = authenticated.method.into();
                ctx.principal = Some(authenticated.credential.principal.clone());
                let mode = match authenticated.method {
                    cedargate_s3::sigv4::AuthMethod::Header => AuthMode::Signed,
                    cedargate_s3::sigv4::AuthMethod::Presigned { .. } => AuthMode::Presigned,
                };
                let caller = match authenticated.session {
                    Some(session) => {
                        ctx.auth_mode = RequestAuthMode::Sts;
                        Caller::Session {
                            credential: authenticated.credential,
                            session,
                        }
                    }
                    None => Caller::Credential {
                        credential: authenticated.credential,
                        mode,
                    },
                };
                Ok((caller, authenticated.payload, Some(authenticated.signing)))
            }
        }
    }

    /// Stage *authorize*, whole: the request's keys checked before any
    /// policy is asked or the backend reached for a key's tags or size (one
    /// key, one meaning), the facts policies read about its resource
    /// looked up (quota context, stored tags, ACL), and the decision made
    /// ([`Self::authorize`]) and recorded on `ctx`. Every request that
    /// writes or reads an object goes through here, so no path decides
    /// without one of those facts.
    pub(super) async fn decide(
        &self,
        request: &S3Request,
        caller: Caller,
        connection: Connection,
        buckets: &BucketMap,
        trace: &RequestTrace<'_>,
        ctx: &mut RequestCtx,
    ) -> Result<Authorizer<'_>, S3Error> {
        check_keys(request, buckets)?;
        let mut authz = Authorizer::new(
            self.policies.snapshot(),
            caller,
            request,
            connection,
            &self.metrics,
        )
        .keeping_questions(self.keep_questions);
        let _span = trace.stage("authorize");
        self.quotas.set_context(request, buckets, &mut authz).await;
        crate::object_tags::load(request, buckets, &mut authz).await?;
        crate::resource_acl::load(request, buckets, &mut authz).await?;
        let authorized = self.authorize(request, buckets, &mut authz);
        ctx.decision = authz.outcome();
        authorized.map(|()| authz)
    }

    /// Stage *authorize*: the operation on its bucket and key with the
    /// actions its headers imply, and the source of a copy. DeleteObjects
    /// is decided per key and ListBuckets per bucket, by their handlers.
    pub(super) fn authorize(
        &self,
        request: &S3Request,
        buckets: &BucketMap,
        authz: &mut Authorizer<'_>,
    ) -> Result<(), S3Error> {
        use S3Operation as Op;
        let action = request.operation.name();
        let Some(bucket) = request.route.bucket.as_deref() else {
            if authz.caller().is_anonymous() {
                let decision = cedargate_policies::Decision {
                    reason: Some("operation_not_allowed".to_owned()),
                    ..Default::default()
                };
                return Err(authz.refuse(&decision, action));
            }
            return Ok(());
        };
        match request.operation {
            Op::DeleteObjects => {
                if buckets.resolve(bucket).is_none() {
                    // Nothing can be known of a caller's rights on a bucket
                    // that does not exist: refuse rather than reveal it.
                    return Err(S3Error::new(
                        S3ErrorCode::AccessDenied,
                        "access to this bucket is denied",
                    ));
                }
                Ok(())
            }
            Op::CopyObject | Op::UploadPartCopy => {
                let source = handlers::copy_source(request)?;
                authz.set_copy_source(&source.bucket, &source.key);
                authz.require_with_implied(action, bucket, request.route.key.as_deref())?;
                authz.require_copy_source(
                    &source.bucket,
                    &source.key,
                    source.version_id.is_some(),
                )?;
                Ok(())
            }
            Op::GetObjectAttributes => {
                // AWS asks for both s3:GetObjectAttributes and s3:GetObject
                // (and their version actions for a named version).
                let key = request.route.key.as_deref();
                if request.query.has("versionId") {
                    if let Some(Some(version_action)) = request.operation.version_action() {
                        authz.require(version_action, bucket, key)?;
                    }
                    authz.require("GetObjectVersion", bucket, key)?;
                }
                authz.require_with_implied(action, bucket, key)?;
                authz.require("GetObject", bucket, key).map(|_| ())
            }
            _ if request.query.has("versionId") => {
                // As AWS decides a named version (`s3:GetObjectVersion`,
                // `s3:DeleteObjectVersion`, ...), and still the operation.
                let key = request.route.key.as_deref();
                if let Some(Some(version_action)) = request.operation.version_action() {
                    authz.require(version_action, bucket, key)?;
                }
                authz.require_with_implied(action, bucket, key).map(|_| ())
            }
            _ => authz
                .require_with_implied(action, bucket, request.route.key.as_deref())
                .map(|_| ()),
        }
    }
}

/// The `Host` header, else the URI's host.
pub(super) fn request_host(head: &http::request::Parts) -> Option<&str> {
    head.headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| head.uri.host())
}

/// Records the routed bucket, key and resource for the *respond* stage.
pub(super) fn record_route(ctx: &mut RequestCtx, route: &route::Route) {
    ctx.bucket = route.bucket.clone();
    ctx.key = route.key.clone();
    ctx.resource = Some(match (&route.bucket, &route.key) {
        (Some(bucket), Some(key)) => format!("/{bucket}/{key}"),
        (Some(bucket), None) => format!("/{bucket}"),
        _ => "/".to_owned(),
    });
}

/// Looks up the request's bucket; `None` for ListBuckets. CreateBucket
/// of a bucket not in config is routed by its handler.
pub(super) fn resolve_bucket<'a>(
    request: &S3Request,
    buckets: &'a BucketMap,
) -> Result<Option<std::borrow::Cow<'a, crate::buckets::BucketTarget>>, S3Error> {
    match request.route.bucket.as_deref() {
        None => Ok(None),
        Some(bucket) if request.operation == S3Operation::CreateBucket => Ok(buckets
            .get(bucket)
            .map(std::borrow::Cow::Borrowed)
            .or_else(|| {
                buckets
                    .route_unlisted(bucket)
                    .ok()
                    .map(std::borrow::Cow::Owned)
            })),
        Some(bucket) => buckets.resolve(bucket).map(Some).ok_or_else(|| {
            S3Error::new(
                S3ErrorCode::NoSuchBucket,
                "the specified bucket does not exist",
            )
        }),
    }
}

/// Refuses a request whose key, or copy source key, its bucket's backend
/// would read as another key (see `BucketTarget::check_key`): policies
/// must decide on the key that is stored. A bucket that does not resolve
/// is left to the later stages.
pub(super) fn check_keys(request: &S3Request, buckets: &BucketMap) -> Result<(), S3Error> {
    let check = |bucket: &str, key: &str| match buckets.resolve(bucket) {
        Some(target) => target.check_key(key).map_err(handlers::backend_error),
        None => Ok(()),
    };
    if let (Some(bucket), Some(key)) = (
        request.route.bucket.as_deref(),
        request.route.key.as_deref(),
    ) {
        check(bucket, key)?;
    }
    if matches!(
        request.operation,
        S3Operation::CopyObject | S3Operation::UploadPartCopy
    ) && let Ok(source) = handlers::copy_source(request)
    {
        check(&source.bucket, &source.key)?;
    }
    Ok(())
}

/// S3's limit on key length, in bytes.
pub(super) const MAX_KEY_BYTES: usize = 1024;

/// The body's length on the wire (`Content-Length`), framing included.
pub(super) fn wire_length(request: &S3Request) -> Result<Option<u64>, S3Error> {
    request
        .header("content-length")
        .map(|value| {
            value.trim().parse::<u64>().map_err(|_| {
                S3Error::new(
                    S3ErrorCode::InvalidArgument,
                    "the Content-Length is not a number",
                )
            })
        })
        .transpose()
}

/// Whether the request carries no SigV4 credentials at all (it will be
/// treated as anonymous, or refused as such): exactly the test
/// authentication applies, so a stray `X-Amz-Signature` or
/// `X-Amz-Credential` without `X-Amz-Algorithm` cannot dodge the anonymous
/// rate limits while being served as anonymous.
pub(super) fn is_unsigned(request: &S3Request) -> bool {
    !request.headers.contains_key(http::header::AUTHORIZATION)
        && !request.query.has("X-Amz-Algorithm")
}

pub(super) fn route_error(error: RouteError) -> S3Error {
    let code = match error.code() {
        "InvalidBucketName" => S3ErrorCode::InvalidBucketName,
        "KeyTooLongError" => S3ErrorCode::KeyTooLongError,
        "InvalidURI" => S3ErrorCode::InvalidURI,
        _ => S3ErrorCode::InvalidArgument,
    };
    S3Error::new(code, error.to_string())
}

/// Maps an authentication failure to its documented S3 error.
pub fn auth_error(failure: AuthFailure) -> S3Error {
    use AuthFailureReason as R;
    let code = match failure.reason {
        R::UnknownAccessKey | R::Disabled | R::BadCredentialField => {
            S3ErrorCode::InvalidAccessKeyId
        }
        R::BadSignature => S3ErrorCode::SignatureDoesNotMatch,
        R::BadAuthorizationFormat | R::BadDate => S3ErrorCode::AuthorizationHeaderMalformed,
        R::Expired | R::UnsignedHeader => S3ErrorCode::AccessDenied,
        R::SessionExpired => S3ErrorCode::ExpiredToken,
        R::InvalidSessionToken => S3ErrorCode::InvalidAccessKeyId,
        R::TimeSkew => S3ErrorCode::RequestTimeTooSkewed,
        R::InvalidExpires => S3ErrorCode::InvalidArgument,
    };
    S3Error::new(code, failure.message)
}
