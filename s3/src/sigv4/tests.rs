//! Verifier tests: a table that provokes every failure reason, presigned
//! URL failures, and the helpers the other test files share. Valid
//! requests are signed by the `aws-sigv4` crate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;

use super::Secret;
use super::*;
use time::OffsetDateTime;

/// A static credential of the tests.
#[derive(Debug)]
pub(super) struct Credential {
    pub(super) access_key: String,
    pub(super) secret_key: Secret,
    pub(super) principal: String,
    pub(super) enabled: bool,
    pub(super) expires_at: Option<OffsetDateTime>,
}

/// The tests' credentials, looked up by access key, with a signing-key cache.
pub(super) struct CredentialStore {
    credentials: HashMap<String, Arc<Credential>>,
    keys: SigningKeyCache,
}

impl CredentialStore {
    pub(super) fn from_credentials(list: Vec<Credential>) -> Self {
        let credentials = list
            .into_iter()
            .map(|c| (c.access_key.clone(), Arc::new(c)))
            .collect();
        Self {
            credentials,
            keys: SigningKeyCache::default(),
        }
    }

    pub(super) fn signing_keys(&self) -> &SigningKeyCache {
        &self.keys
    }
}

impl SecretLookup for CredentialStore {
    type Signer = Arc<Credential>;

    fn signer(&self, access_key: &str, token: Option<&str>) -> Result<Self::Signer, AuthFailure> {
        if token.is_some() {
            return Err(AuthFailure::new(
                AuthFailureReason::InvalidSessionToken,
                "no sessions here",
            ));
        }
        self.credentials
            .get(access_key)
            .cloned()
            .ok_or_else(|| AuthFailure::unknown_access_key(access_key))
    }

    fn secret(signer: &Self::Signer) -> &Secret {
        &signer.secret_key
    }

    fn key_cache(&self, _: &Self::Signer) -> Option<&SigningKeyCache> {
        Some(&self.keys)
    }

    fn check(&self, signer: &Self::Signer, now: SystemTime) -> Result<(), AuthFailure> {
        if !signer.enabled {
            return Err(AuthFailure::disabled(&signer.access_key));
        }
        if signer
            .expires_at
            .is_some_and(|at| at <= OffsetDateTime::from(now))
        {
            return Err(AuthFailure::expired(&signer.access_key));
        }
        Ok(())
    }
}

/// What the tests' [`authenticate`] returns.
#[derive(Debug)]
pub(super) enum AuthOutcome {
    Anonymous,
    Authenticated(Authenticated),
}

/// A request the tests' store verified.
pub(super) type Authenticated = Verified<Arc<Credential>>;

/// [`super::verify`] against the tests' store.
pub(super) fn authenticate(
    req: &SignedRequest<'_>,
    store: &CredentialStore,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<AuthOutcome, AuthFailure> {
    Ok(match super::verify(req, store, config, now)? {
        None => AuthOutcome::Anonymous,
        Some(verified) => AuthOutcome::Authenticated(verified),
    })
}

/// Access key and secret of AWS's documented S3 examples.
pub(super) const AK: &str = "AKIAIOSFODNN7EXAMPLE";
pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// 2013-05-24T00:00:00Z, the date of AWS's S3 examples.
pub(super) fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

pub(super) fn store() -> CredentialStore {
    let credential = |access_key: &str, enabled: bool, expired: bool| Credential {
        access_key: access_key.to_owned(),
        secret_key: Secret::from(SECRET),
        principal: format!("principal-{access_key}"),
        enabled,
        expires_at: expired.then(|| OffsetDateTime::from(t0() - Duration::from_secs(1))),
    };
    CredentialStore::from_credentials(vec![
        credential(AK, true, false),
        credential("AKIDDISABLED", false, false),
        credential("AKIDEXPIRED", true, true),
    ])
}

/// How the oracle signs.
pub(super) struct Sign<'a> {
    pub(super) access_key: &'a str,
    pub(super) secret: &'a str,
    pub(super) time: SystemTime,
    pub(super) body: SignableBody<'a>,
    pub(super) presign: Option<Duration>,
}

impl Default for Sign<'_> {
    fn default() -> Self {
        Self {
            access_key: AK,
            secret: SECRET,
            time: t0(),
            body: SignableBody::UnsignedPayload,
            presign: None,
        }
    }
}

/// Signs `url` (already encoded as the client would send it) with S3
/// settings: no normalisation, single encoding, `x-amz-content-sha256`.
pub(super) fn oracle(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    how: Sign<'_>,
) -> http::Request<()> {
    let mut request = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(()).unwrap();
    let host = request.uri().authority().unwrap().to_string();
    request.headers_mut().insert("host", host.parse().unwrap());
    let identity: Identity =
        Credentials::new(how.access_key, how.secret, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if let Some(expires) = how.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    } else {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(how.time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap())),
        how.body,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

pub(super) fn verify_at(
    request: &http::Request<()>,
    config: &VerifierConfig,
    now: SystemTime,
) -> Result<AuthOutcome, AuthFailure> {
    let signed = SignedRequest {
        method: request.method().as_str(),
        raw_path: request.uri().path(),
        raw_query: request.uri().query().unwrap_or(""),
        headers: request.headers(),
        body_sha256: None,
    };
    authenticate(&signed, &store(), config, now)
}

pub(super) fn verify(request: &http::Request<()>) -> Result<Authenticated, AuthFailure> {
    match verify_at(request, &VerifierConfig::default(), t0())? {
        AuthOutcome::Authenticated(authenticated) => Ok(authenticated),
        AuthOutcome::Anonymous => panic!("anonymous"),
    }
}

pub(super) fn raw(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> http::Request<()> {
    let mut request = http::Request::builder().method(method).uri(path_and_query);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(()).unwrap()
}

/// What a failure case changes in a validly signed request.
#[derive(Clone, Copy)]
enum Change {
    Header(&'static str, &'static str),
    Append(&'static str, &'static str),
    Remove(&'static str),
    Authorization(&'static str, &'static str),
    FlipSignatureBit,
    Query(&'static str),
    Now(i64),
    Config(fn(&mut VerifierConfig)),
    Key(&'static str),
    Secret(&'static str),
}

use AuthFailureReason::*;
use Change::*;

/// (case, change, reason, part of the message, whether the failure names the access key)
#[rustfmt::skip]
const FAILURES: &[(&str, Change, AuthFailureReason, &str, bool)] = &[
    ("unknown key", Key("AKIDUNKNOWN"), UnknownAccessKey, "access key `AKIDUNKNOWN` is not known", true),
    ("wrong secret", Secret("not-the-secret"), BadSignature, "signature does not match", true),
    ("altered header", Header("range", "bytes=0-10"), BadSignature, "signature does not match", true),
    ("signature bit", FlipSignatureBit, BadSignature, "signature does not match", true),
    ("disabled", Key("AKIDDISABLED"), Disabled, "access key `AKIDDISABLED` is disabled", true),
    ("expired", Key("AKIDEXPIRED"), Expired, "access key `AKIDEXPIRED` has expired", true),
    ("two headers", Append("authorization", "AWS4-HMAC-SHA256 x"), BadAuthorizationFormat, "more than one authorization header", false),
    ("sigv2", Authorization("AWS4-HMAC-SHA256 ", "AWS "), BadAuthorizationFormat, "must start with `AWS4-HMAC-SHA256 `", false),
    ("sigv4a", Authorization("AWS4-HMAC-SHA256 ", "AWS4-ECDSA-P256-SHA256 "), BadAuthorizationFormat, "must start with", false),
    ("unknown part", Authorization(", Signature=", ", X="), BadAuthorizationFormat, "unknown authorization component `X`", false),
    ("no signature", Authorization(", Signature=", ", Signature2="), BadAuthorizationFormat, "component `Signature2`", false),
    ("repeated", Authorization("SignedHeaders=", "Signature=0, SignedHeaders="), BadAuthorizationFormat, "`Signature` is repeated", false),
    ("not name=value", Authorization(", Signature=", ", Sig, Signature="), BadAuthorizationFormat, "`Sig` is not `name=value`", false),
    ("short signature", Authorization("Signature=", "Signature=ab,Zignature="), BadAuthorizationFormat, "unknown authorization component `Zignature`", false),
    ("not hex", Authorization("Signature=", "Signature=zz"), BadAuthorizationFormat, "is not 64 lowercase hex digits", true),
    ("host unsigned", Authorization("host;", ""), BadAuthorizationFormat, "the `host` header must be signed", true),
    ("upper case", Authorization("host;", "Host;"), BadAuthorizationFormat, "`Host` is not a lowercase header name", true),
    ("empty name", Authorization("host;", "host;;"), BadAuthorizationFormat, "`` is not a lowercase header name", true),
    ("listed twice", Authorization("host;", "host;host;"), BadAuthorizationFormat, "`host` is listed twice", true),
    ("missing signed", Remove("range"), BadAuthorizationFormat, "signed header `range` is not in the request", true),
    ("unsigned sha", Authorization(";x-amz-content-sha256", ""), BadAuthorizationFormat, "`x-amz-content-sha256` must be signed", true),
    ("unsigned copy source", Header("x-amz-copy-source", "/private/p.txt"), UnsignedHeader, "which were not signed: `x-amz-copy-source`", true),
    ("no sha header", Remove("x-amz-content-sha256"), BadAuthorizationFormat, "`x-amz-content-sha256` header is missing", true),
    ("upper hex sha", Header("x-amz-content-sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"), BadAuthorizationFormat, "is not a lowercase hex sha-256", true),
    ("both", Query("X-Amz-Algorithm=AWS4-HMAC-SHA256"), BadAuthorizationFormat, "both an authorization header and `X-Amz-Algorithm`", false),
    ("region", Authorization("/us-east-1/", "/eu-west-1/"), BadAuthorizationFormat, "region `eu-west-1` is wrong, expecting `us-east-1`", true),
    ("other region", Config(|c| c.region = RegionRule::Exact("eu-west-1".into())), BadAuthorizationFormat, "expecting `eu-west-1`", true),
    ("service", Authorization("/s3/", "/iam/"), BadAuthorizationFormat, "service `iam` is wrong, expecting `s3`", true),
    ("scope date", Authorization("/20130524/", "/20130525/"), BadAuthorizationFormat, "scope date `20130525` is not the request date `20130524`", true),
    ("terminator", Authorization("/aws4_request", "/aws4_requests"), BadAuthorizationFormat, "must end with `aws4_request`", true),
    ("four parts", Authorization("/aws4_request", ""), BadCredentialField, "is not `access-key/yyyymmdd/region/service/aws4_request`", false),
    ("empty key", Authorization("AKIAIOSFODNN7EXAMPLE/", "/"), BadCredentialField, "has an empty part", false),
    ("bad date", Header("x-amz-date", "2013-05-24T00:00:00Z"), BadDate, "`x-amz-date` value `2013-05-24T00:00:00Z` is not a date", true),
    ("no date", Remove("x-amz-date"), BadDate, "neither an `x-amz-date` nor a `date` header", true),
    ("late", Now(15 * 60 + 1), TimeSkew, "differs from the server time by more than 900 seconds", true),
    ("early", Now(-15 * 60 - 1), TimeSkew, "differs from the server time", true),
];

#[test]
fn every_failure_reason_is_reported() {
    for &(name, change, reason, message, names_key) in FAILURES {
        let mut how = Sign::default();
        match change {
            Key(key) => how.access_key = key,
            Secret(secret) => how.secret = secret,
            _ => {}
        }
        let mut url = "https://examplebucket.s3.amazonaws.com/test.txt".to_owned();
        if let Query(query) = change {
            url = format!("{url}?{query}");
        }
        let mut request = oracle("GET", &url, &[("range", "bytes=0-9")], how);
        let mut config = VerifierConfig::default();
        let mut now = t0();
        let headers: &mut HeaderMap = request.headers_mut();
        let authorization = headers["authorization"].to_str().unwrap().to_owned();
        let mut set_authorization = |value: String| {
            headers.insert("authorization", value.parse().unwrap());
        };
        match change {
            Header(name, value) => {
                headers.insert(name, value.parse().unwrap());
            }
            Append(name, value) => {
                headers.append(name, value.parse().unwrap());
            }
            Remove(name) => {
                headers.remove(name);
            }
            Authorization(from, to) => set_authorization(authorization.replacen(from, to, 1)),
            FlipSignatureBit => {
                let mut bytes = authorization.into_bytes();
                let last = bytes.len() - 1;
                bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
                set_authorization(String::from_utf8(bytes).unwrap());
            }
            Now(secs) => {
                now = OffsetDateTime::from(now)
                    .saturating_add(time::Duration::seconds(secs))
                    .into()
            }
            Config(edit) => edit(&mut config),
            Query(_) | Key(_) | Secret(_) => {}
        }
        let failure = verify_at(&request, &config, now).unwrap_err();
        assert_eq!(failure.reason, reason, "{name}: {failure:?}");
        assert!(
            failure.message.contains(message),
            "{name}: {:?} lacks {message:?}",
            failure.message
        );
        assert!(!failure.message.contains(SECRET), "{name}");
        assert!(!failure.message.ends_with('.'), "{name}");
        assert_eq!(
            failure.access_key.is_some(),
            names_key,
            "{name}: {failure:?}"
        );
    }
    let reasons: std::collections::HashSet<_> = FAILURES.iter().map(|case| case.2).collect();
    assert_eq!(
        reasons.len(),
        9,
        "every reason but InvalidExpires (see presigned_failures)"
    );
}

#[test]
fn presigned_failures() {
    let presigned = |expires: u64| {
        let how = Sign {
            presign: Some(Duration::from_secs(expires)),
            ..Sign::default()
        };
        oracle(
            "GET",
            "https://examplebucket.s3.amazonaws.com/test.txt",
            &[],
            how,
        )
    };
    let config = VerifierConfig::default();
    let ok = presigned(3600);
    assert!(verify_at(&ok, &config, t0() + Duration::from_secs(3600)).is_ok());
    let cases = [
        (
            presigned(3600),
            t0() + Duration::from_secs(3601),
            Expired,
            "expired 3600 seconds after `20130524T000000Z`",
        ),
        (
            presigned(3600),
            t0() - Duration::from_secs(901),
            TimeSkew,
            "not valid before `20130524T000000Z`",
        ),
        (
            presigned(0),
            t0(),
            InvalidExpires,
            "from 1 to 604800, got `0`",
        ),
        (presigned(604_801), t0(), InvalidExpires, "got `604801`"),
    ];
    for (request, now, reason, message) in cases {
        let failure = verify_at(&request, &config, now).unwrap_err();
        assert_eq!(failure.reason, reason, "{failure:?}");
        assert!(failure.message.contains(message), "{failure:?}");
    }
    assert_eq!(InvalidExpires.as_str(), "bad_authorization_format");

    let tamper = |from: &str, to: &str| {
        let uri = ok.uri().to_string().replacen(from, to, 1);
        raw("GET", &uri, &[("host", "examplebucket.s3.amazonaws.com")])
    };
    for (from, to, reason, message) in [
        (
            "X-Amz-Expires=3600",
            "X-Amz-Expires=3601",
            BadSignature,
            "does not match",
        ),
        (
            "X-Amz-Expires=3600",
            "X-Amz-Expires=soon",
            InvalidExpires,
            "got `soon`",
        ),
        (
            "X-Amz-Date=20130524T000000Z",
            "X-Amz-Date=20130524",
            BadDate,
            "`X-Amz-Date` value `20130524`",
        ),
        (
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Algorithm=AWS4",
            BadAuthorizationFormat,
            "must be `AWS4-HMAC-SHA256`, got `AWS4`",
        ),
        (
            "X-Amz-Signature=",
            "X-Amz-Signature=0&X-Amz-Signature=",
            BadAuthorizationFormat,
            "`X-Amz-Signature` is repeated",
        ),
        (
            "X-Amz-SignedHeaders=",
            "X-Amz-Signed=",
            BadAuthorizationFormat,
            "no `X-Amz-SignedHeaders` parameter",
        ),
        (
            "%2Fus-east-1",
            "",
            BadCredentialField,
            "is not `access-key/yyyymmdd",
        ),
    ] {
        let failure = verify_at(&tamper(from, to), &config, t0()).unwrap_err();
        assert_eq!(failure.reason, reason, "{from}: {failure:?}");
        assert!(failure.message.contains(message), "{from}: {failure:?}");
    }
}

#[test]
fn anonymous_without_authentication() {
    let request = raw(
        "GET",
        "/bucket/key?X-Amz-Credential=x&list-type=2",
        &[("host", "h")],
    );
    let outcome = verify_at(&request, &VerifierConfig::default(), t0()).unwrap();
    assert!(matches!(outcome, AuthOutcome::Anonymous));
}

#[test]
fn signing_keys_are_cached_after_success_only() {
    let store = store();
    let request = oracle(
        "GET",
        "https://examplebucket.s3.amazonaws.com/k",
        &[],
        Sign::default(),
    );
    let signed = SignedRequest {
        method: "GET",
        raw_path: request.uri().path(),
        raw_query: "",
        headers: request.headers(),
        body_sha256: None,
    };
    let config = VerifierConfig::default();
    let bad = oracle(
        "GET",
        "https://examplebucket.s3.amazonaws.com/k",
        &[],
        Sign {
            secret: "x",
            ..Sign::default()
        },
    );
    let bad_signed = SignedRequest {
        headers: bad.headers(),
        body_sha256: None,
        ..signed
    };
    assert!(authenticate(&bad_signed, &store, &config, t0()).is_err());
    assert_eq!(store.signing_keys().len(), 0);
    for _ in 0..2 {
        assert!(authenticate(&signed, &store, &config, t0()).is_ok());
        assert_eq!(store.signing_keys().len(), 1);
    }
    assert!(authenticate(&bad_signed, &store, &config, t0()).is_err());
}
