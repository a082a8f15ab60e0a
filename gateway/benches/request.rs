//! Per-request costs of the pipeline stages that run before a backend is
//! touched: SigV4 verification (header, presigned, one signed 64 KiB
//! `aws-chunked` chunk), *route* + *classify*, and the *authorize* stage's
//! request context and decision.
//!
//! `cargo bench -p cedargate --bench request` (add `-- --warm-up-time 1
//! --measurement-time 2` for a quick run).

#![expect(
    missing_docs,
    reason = "criterion_group! defines an undocumented public function"
)]
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a bench whose fixed inputs do not verify must stop at once"
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use cedargate::auth::{self, AuthOutcome, Credential, CredentialStore};
use cedargate::authorize::{Authorizer, Caller, Connection};
use cedargate::metrics::Metrics;
use cedargate::request::S3Request;
use cedargate_policies::{AuthMode, PolicySnapshot};
use cedargate_s3::body::chunked::{AwsChunkedDecoder, ChunkedLimits, StreamingMode};
use cedargate_s3::classify;
use cedargate_s3::query::Query;
use cedargate_s3::route;
use cedargate_s3::sigv4::{AuthMethod, RegionRule, SignedRequest, SigningContext, VerifierConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

/// The gateway's allocator, so the figures are the gateway's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "CGBENCHACCESSKEY0001";
const SECRET_KEY: &str = "bench-secret-key-000000000000000000000000";
const HOST: &str = "127.0.0.1:9000";
const PATH: &str = "/bench/data/2025/part-0001.parquet";
const CHUNK: usize = 64 * 1024;

/// A signed request as the gateway receives it: method, raw path and
/// query, headers (with `host`).
struct Wire {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
}

impl Wire {
    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: self.method.as_str(),
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            body_sha256: None,
        }
    }
}

fn settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

/// `method` on `path?query` signed (in headers, or presigned) at `time`,
/// with `x-amz-content-sha256: content_sha256` for header signatures.
fn sign_request(
    method: Method,
    path: &str,
    query: &str,
    presigned: bool,
    content_sha256: &str,
    time: SystemTime,
) -> Wire {
    let identity: Identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into();
    let mut settings = settings();
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(3600));
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .expect("signing parameters")
        .into();
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let body = if presigned {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Precomputed(content_sha256.to_owned())
    };
    let signable = SignableRequest::new(
        method.as_str(),
        format!("http://{HOST}{target}"),
        std::iter::once(("host", HOST)),
        body,
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("signing").into_parts();
    let (headers, params) = instructions.into_parts();
    let mut map = HeaderMap::new();
    map.insert("host", HeaderValue::from_static(HOST));
    map.insert("user-agent", HeaderValue::from_static("aws-sdk-rust/1.0"));
    for header in headers {
        map.insert(
            HeaderName::from_bytes(header.name().as_bytes()).expect("header name"),
            HeaderValue::from_str(header.value()).expect("header value"),
        );
    }
    let mut query = query.to_owned();
    for (name, value) in params {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&percent_encoding::utf8_percent_encode(&value, QUERY_VALUE).to_string());
    }
    Wire {
        method,
        path: path.to_owned(),
        query,
        headers: map,
    }
}

/// Characters SigV4 leaves unencoded in a query value.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn store() -> CredentialStore {
    let mut credential = Credential::new(ACCESS_KEY, SECRET_KEY, "alice");
    credential.groups = vec!["team7".to_owned()];
    CredentialStore::from_credentials(vec![credential]).expect("credential store")
}

fn verifier() -> VerifierConfig {
    VerifierConfig {
        region: RegionRule::Any,
        ..VerifierConfig::default()
    }
}

fn authenticated(wire: &Wire, store: &CredentialStore, now: SystemTime) -> auth::Authenticated {
    match auth::authenticate(&wire.signed(), store, &verifier(), now) {
        Ok(AuthOutcome::Authenticated(authenticated)) => authenticated,
        other => panic!("the bench request does not verify: {other:?}"),
    }
}

/// One signed 64 KiB chunk, then the final chunk, as an SDK sends them.
fn chunked_body(signing: &SigningContext, data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 256);
    let mut previous = signing.seed_signature().to_owned();
    for chunk in [data, &b""[..]] {
        let hash: [u8; 32] = Sha256::digest(chunk).into();
        let signature = signing.chunk_signature(&previous, &hash);
        out.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        previous = signature;
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

fn sigv4(c: &mut Criterion) {
    let now = SystemTime::now();
    let store = store();
    let config = verifier();
    let header = sign_request(Method::GET, PATH, "", false, "UNSIGNED-PAYLOAD", now);
    let presigned = sign_request(Method::GET, PATH, "", true, "", now);
    // The first verification of each fills the signing-key cache, as the
    // first request of a credential each day does.
    authenticated(&header, &store, now);
    let presigned_outcome = authenticated(&presigned, &store, now);
    assert!(matches!(
        presigned_outcome.method,
        AuthMethod::Presigned { .. }
    ));
    let mut group = c.benchmark_group("sigv4");
    group.bench_function("header", |b| {
        b.iter(|| auth::authenticate(black_box(&header.signed()), &store, &config, now));
    });
    group.bench_function("presigned", |b| {
        b.iter(|| auth::authenticate(black_box(&presigned.signed()), &store, &config, now));
    });

    let streaming = sign_request(
        Method::PUT,
        PATH,
        "",
        false,
        StreamingMode::SignedPayload.as_str(),
        now,
    );
    let signing = authenticated(&streaming, &store, now).signing;
    let data: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    let body = chunked_body(&signing, &data);
    group.throughput(Throughput::Bytes(CHUNK as u64));
    group.bench_function("chunk_64k", |b| {
        b.iter(|| {
            let mut decoder = AwsChunkedDecoder::new(
                StreamingMode::SignedPayload,
                Some(signing.clone()),
                Vec::new(),
                Some(CHUNK as u64),
                ChunkedLimits::default(),
            )
            .expect("decoder");
            let mut out = Vec::with_capacity(2);
            decoder
                .push(black_box(body.clone()), &mut out)
                .expect("valid chunk");
            decoder.finish().expect("complete body");
            out
        });
    });
    group.bench_function("sha256_64k", |b| {
        b.iter(|| Sha256::digest(black_box(&data)));
    });
    group.finish();
}

/// *route* + *classify* as the pipeline runs them, and the `S3Request` it
/// then builds (which copies the path, query and headers).
fn route_classify(c: &mut Criterion) {
    let now = SystemTime::now();
    let cases = [
        (
            "get_object",
            sign_request(Method::GET, PATH, "", false, "UNSIGNED-PAYLOAD", now),
        ),
        (
            "list_objects_v2",
            sign_request(
                Method::GET,
                "/bench",
                "list-type=2&prefix=data%2F2025%2F&max-keys=1000",
                false,
                "UNSIGNED-PAYLOAD",
                now,
            ),
        ),
    ];
    let suffixes = vec!["s3.example.com".to_owned()];
    let mut group = c.benchmark_group("route_classify");
    for (name, wire) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let route =
                    route::route(Some(HOST), black_box(&wire.path), &suffixes).expect("route");
                let query = Query::parse(&wire.query).expect("query");
                let operation = classify::classify(&wire.method, &route, &query, &wire.headers)
                    .expect("classify");
                (route, query, operation)
            });
        });
        group.bench_function(format!("{name}_request"), |b| {
            b.iter(|| {
                let route =
                    route::route(Some(HOST), black_box(&wire.path), &suffixes).expect("route");
                let query = Query::parse(&wire.query).expect("query");
                let operation = classify::classify(&wire.method, &route, &query, &wire.headers)
                    .expect("classify");
                S3Request {
                    method: wire.method.clone(),
                    route,
                    query,
                    headers: wire.headers.clone(),
                    operation,
                    raw_path: wire.path.clone(),
                    raw_query: wire.query.clone(),
                }
            });
        });
    }
    group.finish();
}

/// A bench policy set: one permit per team over 100 buckets.
fn policies() -> Arc<PolicySnapshot> {
    let mut text = String::new();
    for bucket in 0..100 {
        text.push_str(&format!(
            "@id(\"p{bucket}\")\npermit (principal in Group::\"team{bucket}\", action in [Action::\"read\", Action::\"write\", Action::\"list\"], resource in Bucket::\"bucket{bucket}\");\n"
        ));
    }
    Arc::new(PolicySnapshot::from_sources(&[("bench.cedar", &text)], 1).expect("policies"))
}

/// The *authorize* stage: the request context built from the request, then
/// the context and one decision (GetObject on `bucket7`).
fn authorize(c: &mut Criterion) {
    let now = SystemTime::now();
    let store = store();
    let wire = sign_request(
        Method::GET,
        "/bucket7/data/2025/part-0001.parquet",
        "",
        false,
        "UNSIGNED-PAYLOAD",
        now,
    );
    let credential = authenticated(&wire, &store, now).credential;
    let route = route::route(Some(HOST), &wire.path, &[]).expect("route");
    let query = Query::parse(&wire.query).expect("query");
    let operation = classify::classify(&wire.method, &route, &query, &wire.headers).expect("op");
    let request = S3Request {
        method: wire.method.clone(),
        route,
        query,
        headers: wire.headers.clone(),
        operation,
        raw_path: wire.path.clone(),
        raw_query: wire.query.clone(),
    };
    let snapshot = policies();
    let metrics = Metrics::new("cedargate_bench").expect("metrics");
    let connection = Connection {
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        secure_transport: false,
    };
    let caller = || Caller::Credential {
        credential: Arc::clone(&credential),
        mode: AuthMode::Signed,
    };
    let key = request.route.key.as_deref();
    let check = Authorizer::new(
        Arc::clone(&snapshot),
        caller(),
        &request,
        connection,
        &metrics,
    );
    assert!(check.require("GetObject", "bucket7", key).is_ok());
    let mut group = c.benchmark_group("authorize");
    group.bench_function("context", |b| {
        b.iter(|| {
            Authorizer::new(
                Arc::clone(&snapshot),
                caller(),
                black_box(&request),
                connection,
                &metrics,
            )
        });
    });
    group.bench_function("context_and_decision", |b| {
        b.iter(|| {
            let authz = Authorizer::new(
                Arc::clone(&snapshot),
                caller(),
                black_box(&request),
                connection,
                &metrics,
            );
            authz.require("GetObject", "bucket7", key).is_ok()
        });
    });
    group.finish();
}

criterion_group!(benches, sigv4, route_classify, authorize);
criterion_main!(benches);
