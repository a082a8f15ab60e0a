//! [`authenticate`] against the gateway's own signers: requests signed by
//! the S3 protocol's signer, in headers and presigned, checked against a
//! [`CredentialStore`] and the STS sessions a [`SessionSealer`] opens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cedargate_s3::sigv4::sign::{Identity, Unsigned, presign, sign_headers};
use cedargate_s3::sigv4::{EMPTY_SHA256_HEX, sha256_hex};
use http::{HeaderMap, HeaderValue, Method};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;

use super::*;
use crate::config::StsConfig;
use crate::sts::session::{new_access_key, new_secret_key};

use AuthFailureReason::{
    BadSignature, Disabled, Expired, InvalidSessionToken, SessionExpired, UnknownAccessKey,
};

const HOST: &str = "photos.s3.example";
const PATH: &str = "/photos/2026/cat.jpg";
const REGION: &str = "us-east-1";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ALICE: &str = "AKIAALICE0000000";
const DISABLED: &str = "AKIADISABLED0000";
const EXPIRED: &str = "AKIAEXPIRED00000";
const EXPIRING: &str = "AKIAEXPIRING0000";
const NOBODY: &str = "AKIANOBODY000000";
const CI_ROLE: &str = "arn:aws:iam::123456789012:role/ci";
const PRESIGNED_FOR: Duration = Duration::from_secs(60);
const BAD_SIGNATURE: &str =
    "the signature does not match the one computed from the request and the secret key";

/// The instant every request is signed and checked at (2027-01-15).
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// `now` moved by `seconds`, as the Unix time a session expires at.
fn unix_from_now(seconds: i64) -> u64 {
    let now = now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    now.checked_add_signed(seconds).unwrap()
}

/// Where the signature goes.
#[derive(Clone, Copy, Debug)]
enum Signing {
    Header,
    Presigned,
}

/// Who signs: an access key, the secret used, and a session token.
#[derive(Clone, Copy, Debug)]
struct Key<'a> {
    access_key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
}

/// The static key `access_key` signing with `secret`.
fn static_key<'a>(access_key: &'a str, secret: &'a str) -> Key<'a> {
    Key {
        access_key,
        secret,
        token: None,
    }
}

/// `session`'s key presenting `token`.
fn session_key<'a>(session: &'a StsSession, token: &'a str) -> Key<'a> {
    Key {
        access_key: &session.access_key,
        secret: &session.secret_key,
        token: Some(token),
    }
}

/// A `GET` of one object as the client sends it.
struct Sent {
    query: String,
    headers: HeaderMap,
    /// The signature the client computed.
    signature: String,
}

impl Sent {
    fn signed(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: "GET",
            raw_path: PATH,
            raw_query: &self.query,
            headers: &self.headers,
            body_sha256: None,
        }
    }
}

/// The object `GET` signed by `key` at `now`, the way `signing` says.
fn sign(key: Key<'_>, signing: Signing) -> Sent {
    let secret = Secret::from(key.secret);
    let identity = Identity {
        access_key: key.access_key,
        secret: &secret,
        session_token: key.token,
        region: REGION,
    };
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static(HOST));
    let request = Unsigned {
        method: &Method::GET,
        raw_path: PATH,
        raw_query: "",
        headers: &headers,
    };
    let added = match signing {
        Signing::Header => sign_headers(&request, &identity, EMPTY_SHA256_HEX, now()),
        Signing::Presigned => presign(&request, &identity, PRESIGNED_FOR, now()),
    }
    .unwrap();
    let mut sent = Sent {
        query: String::new(),
        headers,
        signature: String::new(),
    };
    for (name, value) in &added {
        match signing {
            Signing::Header => {
                sent.headers
                    .insert(*name, HeaderValue::from_str(value).unwrap());
            }
            Signing::Presigned => {
                let separator = if sent.query.is_empty() { "" } else { "&" };
                let value = utf8_percent_encode(value, NON_ALPHANUMERIC);
                sent.query.push_str(&format!("{separator}{name}={value}"));
            }
        }
    }
    // Either way the signature comes last: `authorization` ends in
    // `Signature=<hex>`, and `X-Amz-Signature` is the last parameter.
    let (_, last) = added.last().unwrap();
    sent.signature = last
        .rsplit_once("Signature=")
        .map_or(last.as_str(), |(_, s)| s)
        .to_owned();
    sent
}

/// The static credentials: one of each state.
fn store() -> CredentialStore {
    let in_a_second = OffsetDateTime::from(now() + Duration::from_secs(1));
    let a_second_ago = OffsetDateTime::from(now() - Duration::from_secs(1));
    CredentialStore::from_credentials(vec![
        Credential {
            groups: vec!["admins".to_owned()],
            ..Credential::new(ALICE, SECRET, "alice")
        },
        Credential {
            enabled: false,
            ..Credential::new(DISABLED, SECRET, "dora")
        },
        Credential {
            expires_at: Some(a_second_ago),
            ..Credential::new(EXPIRED, SECRET, "eve")
        },
        Credential {
            expires_at: Some(in_a_second),
            ..Credential::new(EXPIRING, SECRET, "ezra")
        },
    ])
    .unwrap()
}

/// The STS table with `roles` (TOML `[[roles]]` tables) and one issuer.
fn sts_config(roles: &str) -> StsConfig {
    toml::from_str(&format!(
        "[issuers.gh]\nissuer = \"https://token.actions.example\"\njwks_file = \"gh.json\"\n{roles}"
    ))
    .unwrap()
}

/// A role trusting the issuer's tokens for the `myorg` repositories.
fn role(arn: &str) -> String {
    format!(
        "[[roles]]\narn = \"{arn}\"\nissuers = [\"gh\"]\naudiences = [\"sts.amazonaws.com\"]\n\
         subjects = [\"repo:myorg/*\"]\n"
    )
}

/// A sealer with one fixed key, bound to `config`: every sealer of these
/// tests opens the others' tokens.
fn sealer(config: &StsConfig) -> SessionSealer {
    SessionSealer::from_keys(vec![("k1".to_owned(), vec![7; 32])])
        .unwrap()
        .bound_to(config)
}

/// A session of the `ci` role, as `AssumeRoleWithWebIdentity` mints it,
/// expiring at the Unix time `expires`.
fn session(expires: u64) -> StsSession {
    StsSession {
        access_key: new_access_key(),
        secret_key: new_secret_key(),
        role_arn: CI_ROLE.to_owned(),
        session_name: "build-42".to_owned(),
        issuer: "https://token.actions.example".to_owned(),
        subject: "repo:myorg/app:ref:refs/heads/main".to_owned(),
        audience: "sts.amazonaws.com".to_owned(),
        claims: [("repository".to_owned(), "myorg/app".to_owned())].into(),
        expires,
    }
}

/// What a case expects: the principal, or the failure's reason and message.
type Expected = Result<&'static str, (AuthFailureReason, &'static str)>;

/// One request to authenticate.
struct Case<'a> {
    name: &'static str,
    key: Key<'a>,
    /// The sealer configured; with none, [`authenticate`] is called.
    sessions: Option<&'a SessionSealer>,
    expected: Expected,
}

/// Authenticates `sent` against `store` and `sessions`.
fn authenticate_sent(
    sent: &Sent,
    store: &CredentialStore,
    sessions: Option<&SessionSealer>,
) -> Result<AuthOutcome, AuthFailure> {
    let config = VerifierConfig::default();
    match sessions {
        None => authenticate(&sent.signed(), store, &config, now()),
        Some(_) => authenticate_with_sessions(&sent.signed(), store, sessions, &config, now()),
    }
}

/// Signs `case` both ways, authenticates it and checks the outcome.
fn check(case: &Case<'_>, store: &CredentialStore) {
    for signing in [Signing::Header, Signing::Presigned] {
        let sealer = if case.sessions.is_some() { "a" } else { "no" };
        let name = format!("{} ({signing:?}, {sealer} sealer)", case.name);
        let sent = sign(case.key, signing);
        let outcome = authenticate_sent(&sent, store, case.sessions);
        match (outcome, case.expected) {
            (Ok(AuthOutcome::Authenticated(caller)), Ok(principal)) => {
                check_caller(&caller, case.key, principal, signing, &sent, &name);
            }
            (Err(failure), Err((reason, message))) => {
                assert_eq!(failure.reason, reason, "{name}: {failure:?}");
                assert_eq!(failure.message, message, "{name}");
                assert_eq!(
                    failure.access_key.as_deref(),
                    Some(case.key.access_key),
                    "{name}"
                );
            }
            (outcome, expected) => panic!("{name}: got {outcome:?}, expected {expected:?}"),
        }
    }
}

/// `caller` is `key`'s, as `principal`, signed the way `signing` says.
fn check_caller(
    caller: &Authenticated,
    key: Key<'_>,
    principal: &str,
    signing: Signing,
    sent: &Sent,
    name: &str,
) {
    assert_eq!(caller.credential.access_key, key.access_key, "{name}");
    assert_eq!(caller.credential.principal, principal, "{name}");
    assert_eq!(
        caller.session.as_ref().map(|s| s.access_key.as_str()),
        key.token.map(|_| key.access_key),
        "{name}: the session is attached exactly when a token was sent"
    );
    let (method, payload) = match signing {
        Signing::Header => {
            let empty = PayloadHash::parse(&sha256_hex(b"")).unwrap();
            (AuthMethod::Header, empty)
        }
        Signing::Presigned => {
            let expires_at = now() + PRESIGNED_FOR;
            (AuthMethod::Presigned { expires_at }, PayloadHash::Unsigned)
        }
    };
    assert_eq!(caller.method, method, "{name}");
    assert_eq!(caller.payload, payload, "{name}");
    assert_eq!(caller.signing.seed_signature(), sent.signature, "{name}");
}

/// Requests by each static credential, `sessions` configured or not.
fn static_cases(sessions: Option<&SessionSealer>) -> [Case<'_>; 7] {
    let case = |name, key, expected| Case {
        name,
        key,
        sessions,
        expected,
    };
    [
        case("valid credential", static_key(ALICE, SECRET), Ok("alice")),
        case(
            "credential expiring later",
            static_key(EXPIRING, SECRET),
            Ok("ezra"),
        ),
        case(
            "unknown access key",
            static_key(NOBODY, SECRET),
            Err((
                UnknownAccessKey,
                "access key `AKIANOBODY000000` is not known",
            )),
        ),
        case(
            "disabled credential",
            static_key(DISABLED, SECRET),
            Err((Disabled, "access key `AKIADISABLED0000` is disabled")),
        ),
        case(
            "expired credential",
            static_key(EXPIRED, SECRET),
            Err((Expired, "access key `AKIAEXPIRED00000` has expired")),
        ),
        case(
            "wrong secret",
            static_key(ALICE, "not-the-secret"),
            Err((BadSignature, BAD_SIGNATURE)),
        ),
        case(
            "wrong secret of a disabled credential, which hides its state",
            static_key(DISABLED, "not-the-secret"),
            Err((BadSignature, BAD_SIGNATURE)),
        ),
    ]
}

#[test]
fn static_credentials_authenticate_only_while_usable() {
    let store = store();
    let sessions = sealer(&sts_config(&role(CI_ROLE)));
    for case in static_cases(None)
        .iter()
        .chain(&static_cases(Some(&sessions)))
    {
        check(case, &store);
    }
}

#[test]
fn sessions_authenticate_while_live_and_unexpired() {
    let store = store();
    let configured = sealer(&sts_config(&role(CI_ROLE)));
    let role_removed = sealer(&sts_config(&role("arn:aws:iam::123456789012:role/deploy")));
    let live = session(unix_from_now(3600));
    let live_token = configured.seal(&live).unwrap();
    let expired = session(unix_from_now(-1));
    let expired_token = configured.seal(&expired).unwrap();
    let other = session(unix_from_now(3600));
    let cases = [
        Case {
            name: "live session",
            key: session_key(&live, &live_token),
            sessions: Some(&configured),
            expected: Ok("ci/build-42"),
        },
        Case {
            name: "expired session",
            key: session_key(&expired, &expired_token),
            sessions: Some(&configured),
            expected: Err((SessionExpired, "the provided token has expired")),
        },
        Case {
            name: "role no longer configured",
            key: session_key(&live, &live_token),
            sessions: Some(&role_removed),
            expected: Err((
                InvalidSessionToken,
                "the security token included in the request is invalid: its role is no longer configured",
            )),
        },
        Case {
            name: "token presented with another session's key",
            key: Key {
                token: Some(&live_token),
                ..session_key(&other, "")
            },
            sessions: Some(&configured),
            expected: Err((
                InvalidSessionToken,
                "the security token does not belong to the access key",
            )),
        },
        Case {
            name: "token presented with a static key",
            key: Key {
                token: Some(&live_token),
                ..static_key(ALICE, SECRET)
            },
            sessions: Some(&configured),
            expected: Err((
                InvalidSessionToken,
                "the security token does not belong to the access key",
            )),
        },
        Case {
            name: "no sealer configured",
            key: session_key(&live, &live_token),
            sessions: None,
            expected: Err((
                InvalidSessionToken,
                "the security token included in the request is invalid",
            )),
        },
        Case {
            name: "not a session token",
            key: session_key(&live, "cgs1.k1.AAAA"),
            sessions: Some(&configured),
            expected: Err((
                InvalidSessionToken,
                "the security token included in the request is invalid",
            )),
        },
        Case {
            name: "wrong secret",
            key: Key {
                secret: "not-the-secret",
                ..session_key(&live, &live_token)
            },
            sessions: Some(&configured),
            expected: Err((BadSignature, BAD_SIGNATURE)),
        },
    ];
    for case in &cases {
        check(case, &store);
    }
}

#[test]
fn an_authenticated_session_carries_what_its_token_sealed() {
    let store = store();
    let sessions = sealer(&sts_config(&role(CI_ROLE)));
    let live = session(unix_from_now(3600));
    let token = sessions.seal(&live).unwrap();
    let sent = sign(session_key(&live, &token), Signing::Header);
    let Ok(AuthOutcome::Authenticated(caller)) = authenticate_sent(&sent, &store, Some(&sessions))
    else {
        panic!("the live session did not authenticate");
    };
    let attached = caller.session.unwrap();
    assert_eq!(attached.role_arn, CI_ROLE);
    assert_eq!(attached.subject, live.subject);
    assert_eq!(attached.claims, live.claims);
    assert_eq!(attached.expires, live.expires);
    assert!(caller.credential.groups.is_empty());
    assert!(caller.credential.enabled);
}

#[test]
fn a_request_without_sigv4_is_anonymous() {
    let store = store();
    let sessions = sealer(&sts_config(&role(CI_ROLE)));
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static(HOST));
    let sent = Sent {
        query: "versionId=3".to_owned(),
        headers,
        signature: String::new(),
    };
    for configured in [None, Some(&sessions)] {
        let outcome = authenticate_sent(&sent, &store, configured);
        assert!(matches!(outcome, Ok(AuthOutcome::Anonymous)), "{outcome:?}");
    }
}

#[test]
fn only_static_keys_that_verified_fill_the_signing_key_cache() {
    let store = store();
    let sessions = sealer(&sts_config(&role(CI_ROLE)));
    let live = session(unix_from_now(3600));
    let token = sessions.seal(&live).unwrap();
    // In order: whether the request authenticates, and the cached keys after.
    let steps = [
        ("unknown access key", static_key(NOBODY, SECRET), false, 0),
        (
            "wrong secret",
            static_key(ALICE, "not-the-secret"),
            false,
            0,
        ),
        ("live session", session_key(&live, &token), true, 0),
        ("valid credential", static_key(ALICE, SECRET), true, 1),
        ("valid credential again", static_key(ALICE, SECRET), true, 1),
        ("live session again", session_key(&live, &token), true, 1),
    ];
    for (name, key, authenticates, cached) in steps {
        let sent = sign(key, Signing::Header);
        let outcome = authenticate_sent(&sent, &store, Some(&sessions));
        assert_eq!(outcome.is_ok(), authenticates, "{name}: {outcome:?}");
        assert_eq!(store.signing_keys().len(), cached, "{name}");
    }
}

/// A POST form's SigV4 fields for `key`, signing `policy`.
fn form_signature<'a>(
    key: Key<'a>,
    policy: &'a str,
    signature: &'a mut String,
) -> FormSignature<'a> {
    let signing = cedargate_s3::sigv4::SigningKey::derive(
        &Secret::new(key.secret.to_owned()),
        "20270115",
        REGION,
        "s3",
    );
    *signature = hex::encode(signing.sign(policy.as_bytes()));
    FormSignature {
        policy,
        version: cedargate_s3::post::signature::Version::V4 {
            credential: Box::leak(
                format!("{}/20270115/{REGION}/s3/aws4_request", key.access_key).into_boxed_str(),
            ),
            date: "20270115T080000Z",
        },
        signature,
        token: key.token,
    }
}

#[test]
fn signed_forms_authenticate_static_keys_and_sessions() {
    let store = store();
    let sessions = sealer(&sts_config(&role(CI_ROLE)));
    let config = VerifierConfig::default();
    let policy = "eyJjb25kaXRpb25zIjpbXX0=";
    let live = session(unix_from_now(3600));
    let live_token = sessions.seal(&live).unwrap();
    let ended = session(unix_from_now(-1));
    let ended_token = sessions.seal(&ended).unwrap();
    let cases: [(Key<'_>, Result<&str, AuthFailureReason>); 6] = [
        (static_key(ALICE, SECRET), Ok("alice")),
        (session_key(&live, &live_token), Ok("ci/build-42")),
        (static_key(ALICE, "not-the-secret"), Err(BadSignature)),
        (static_key(DISABLED, SECRET), Err(Disabled)),
        (session_key(&ended, &ended_token), Err(SessionExpired)),
        (session_key(&live, "forged-token"), Err(InvalidSessionToken)),
    ];
    for (key, expected) in cases {
        let mut signature = String::new();
        let form = form_signature(key, policy, &mut signature);
        let outcome = authenticate_form(&form, &store, Some(&sessions), &config, now());
        let got = outcome
            .as_ref()
            .map(|(credential, _)| credential.principal.as_str())
            .map_err(|failure| failure.reason);
        assert_eq!(got, expected, "{key:?}");
        if let Ok((_, session)) = &outcome {
            assert_eq!(session.is_some(), key.token.is_some(), "{key:?}");
        }
    }
}
