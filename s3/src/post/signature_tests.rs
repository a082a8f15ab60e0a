//! The form signature: which forms are signed, and each check's refusal.

use std::time::{Duration, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::*;
use crate::sigv4::{Secret, SigningKeyCache};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// One static key, `AKID`, and one session token, `tok`, of key `ASIA`.
struct Lookup {
    secret: Secret,
    keys: SigningKeyCache,
    disabled: bool,
}

impl SecretLookup for Lookup {
    type Signer = String;

    fn signer(&self, access_key: &str, token: Option<&str>) -> Result<String, AuthFailure> {
        match (access_key, token) {
            ("AKID", None) => Ok("alice".to_owned()),
            ("ASIA", Some("tok")) => Ok("session".to_owned()),
            (_, Some(_)) => Err(AuthFailure::new(
                AuthFailureReason::InvalidSessionToken,
                "bad token",
            )),
            _ => Err(AuthFailure::unknown_access_key(access_key)),
        }
    }

    fn secret(_: &String) -> &Secret {
        // Both signers share the one secret in these tests.
        static SECRET_VALUE: std::sync::OnceLock<Secret> = std::sync::OnceLock::new();
        SECRET_VALUE.get_or_init(|| Secret::new(SECRET.to_owned()))
    }

    fn key_cache(&self, _: &String) -> Option<&SigningKeyCache> {
        Some(&self.keys)
    }

    fn check(&self, signer: &String, _: SystemTime) -> Result<(), AuthFailure> {
        if self.disabled {
            return Err(AuthFailure::disabled(signer));
        }
        let _ = &self.secret;
        Ok(())
    }
}

fn lookup(disabled: bool) -> Lookup {
    Lookup {
        secret: Secret::new(SECRET.to_owned()),
        keys: SigningKeyCache::default(),
        disabled,
    }
}

/// The signature, computed the long way (the HMAC chain of SigV4).
fn sign(policy: &str, date: &str, region: &str) -> String {
    let hmac = |key: &[u8], data: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    let mut key = hmac(format!("AWS4{SECRET}").as_bytes(), date);
    for part in [region, "s3", "aws4_request"] {
        key = hmac(&key, part);
    }
    hex::encode(hmac(&key, policy))
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn form(fields: &[(&str, &str)]) -> PostForm {
    PostForm::new("bkt", fields.iter().copied()).expect("form")
}

#[test]
fn anonymous_and_incomplete_forms() {
    assert_eq!(
        form_signature(&form(&[("key", "k"), ("acl", "private")])),
        Ok(None)
    );
    let cases: &[(&[(&str, &str)], S3ErrorCode)] = &[
        (
            &[("AWSAccessKeyId", "AKID"), ("signature", "x")],
            S3ErrorCode::InvalidArgument,
        ),
        (
            &[("signature", "x"), ("policy", "p")],
            S3ErrorCode::InvalidArgument,
        ),
        (&[("policy", "p")], S3ErrorCode::InvalidArgument),
        (&[("x-amz-signature", "s")], S3ErrorCode::InvalidArgument),
        (
            &[
                ("policy", "p"),
                ("x-amz-algorithm", "AWS4-HMAC-SHA1"),
                ("x-amz-credential", "c"),
                ("x-amz-date", "d"),
                ("x-amz-signature", "s"),
            ],
            S3ErrorCode::InvalidArgument,
        ),
        (
            &[
                ("policy", "p"),
                ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
                ("x-amz-credential", "c"),
                ("x-amz-date", "d"),
            ],
            S3ErrorCode::InvalidArgument,
        ),
    ];
    for (fields, code) in cases {
        let error = form_signature(&form(fields)).expect_err("refused");
        assert_eq!(error.code(), *code, "{fields:?}");
    }
}

#[test]
fn verifies_and_refuses() {
    let policy = "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=";
    let date = "20231114T221320Z";
    let good = sign(policy, "20231114", "us-east-1");
    let config = VerifierConfig::default();
    let signed = |credential: &'static str, date: &'static str, signature: String, token| {
        move |policy: &'static str| FormSignature {
            policy,
            version: Version::V4 { credential, date },
            signature: Box::leak(signature.clone().into_boxed_str()),
            token,
        }
    };
    let ok = signed(
        "AKID/20231114/us-east-1/s3/aws4_request",
        date,
        good.clone(),
        None,
    )(policy);
    assert_eq!(
        verify(&ok, &lookup(false), &config, now()).as_deref(),
        Ok("alice")
    );
    // Twice: the second answer comes from the key cache.
    assert_eq!(
        verify(&ok, &lookup(false), &config, now()).as_deref(),
        Ok("alice")
    );
    let session = signed(
        "ASIA/20231114/us-east-1/s3/aws4_request",
        date,
        good.clone(),
        Some("tok"),
    )(policy);
    assert_eq!(
        verify(&session, &lookup(false), &config, now()).as_deref(),
        Ok("session")
    );

    let other_region = sign(policy, "20231114", "eu-west-1");
    let cases: Vec<(FormSignature<'_>, AuthFailureReason)> = vec![
        (
            signed(
                "AKID/20231114/us-east-1/s3/aws4_request",
                date,
                good.clone(),
                None,
            )("tampered"),
            AuthFailureReason::BadSignature,
        ),
        (
            signed(
                "AKID/20231114/us-east-1/s3/aws4_request",
                date,
                "0".repeat(64),
                None,
            )(policy),
            AuthFailureReason::BadSignature,
        ),
        (
            signed(
                "AKID/20231114/us-east-1/s3/aws4_request",
                date,
                "zz".to_owned(),
                None,
            )(policy),
            AuthFailureReason::BadAuthorizationFormat,
        ),
        (
            signed(
                "NOPE/20231114/us-east-1/s3/aws4_request",
                date,
                good.clone(),
                None,
            )(policy),
            AuthFailureReason::UnknownAccessKey,
        ),
        (
            signed(
                "ASIA/20231114/us-east-1/s3/aws4_request",
                date,
                good.clone(),
                Some("forged"),
            )(policy),
            AuthFailureReason::InvalidSessionToken,
        ),
        (
            signed("AKID/20231114/us-east-1/s3", date, good.clone(), None)(policy),
            AuthFailureReason::BadCredentialField,
        ),
        (
            signed("AKID//us-east-1/s3/aws4_request/", date, good.clone(), None)(policy),
            AuthFailureReason::BadCredentialField,
        ),
        (
            signed(
                "AKID/20231114/us-east-1/s3/aws4_request",
                "2023-11-14",
                good.clone(),
                None,
            )(policy),
            AuthFailureReason::BadDate,
        ),
        (
            signed(
                "AKID/20231115/us-east-1/s3/aws4_request",
                date,
                good.clone(),
                None,
            )(policy),
            AuthFailureReason::BadAuthorizationFormat,
        ),
        (
            signed(
                "AKID/20231114/eu-west-1/s3/aws4_request",
                date,
                other_region,
                None,
            )(policy),
            AuthFailureReason::BadAuthorizationFormat,
        ),
        (
            signed(
                "AKID/20231114/us-east-1/sts/aws4_request",
                date,
                good.clone(),
                None,
            )(policy),
            AuthFailureReason::BadAuthorizationFormat,
        ),
    ];
    for (form, reason) in &cases {
        let failure = verify(form, &lookup(false), &config, now()).expect_err("refused");
        assert_eq!(failure.reason, *reason, "{form:?}");
    }
    let failure = verify(&ok, &lookup(true), &config, now()).expect_err("disabled");
    assert_eq!(failure.reason, AuthFailureReason::Disabled);
}

#[test]
fn sigv2_forms() {
    use base64::Engine as _;
    use sha1::Sha1;
    let policy = "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=";
    let mut mac = Hmac::<Sha1>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(policy.as_bytes());
    let good = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let v2 = |access_key, signature: &str, policy| FormSignature {
        policy,
        version: Version::V2 { access_key },
        signature: Box::leak(signature.to_owned().into_boxed_str()),
        token: None,
    };
    let config = VerifierConfig::default();
    let ok = v2("AKID", &good, policy);
    assert_eq!(
        verify(&ok, &lookup(false), &config, now()).as_deref(),
        Ok("alice")
    );
    let cases = [
        (v2("AKID", &good, "other"), AuthFailureReason::BadSignature),
        (
            v2("AKID", &good[1..], policy),
            AuthFailureReason::BadAuthorizationFormat,
        ),
        (v2("AKID", "AAAA", policy), AuthFailureReason::BadSignature),
        (
            v2("NOPE", &good, policy),
            AuthFailureReason::UnknownAccessKey,
        ),
    ];
    for (form, reason) in &cases {
        let failure = verify(form, &lookup(false), &config, now()).expect_err("refused");
        assert_eq!(failure.reason, *reason, "{form:?}");
    }
    assert_eq!(
        verify(&ok, &lookup(true), &config, now()).map_err(|f| f.reason),
        Err(AuthFailureReason::Disabled)
    );
}
