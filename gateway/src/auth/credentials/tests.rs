use std::time::{Duration, SystemTime};

use super::*;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn entry(fields: &str) -> String {
    format!("[[credential]]\n{fields}\n")
}

fn valid(access_key: &str) -> String {
    entry(&format!(
        "access_key = \"{access_key}\"\nsecret_key = \"{SECRET}\"\nprincipal = \"alice\""
    ))
}

#[test]
fn loads_full_and_minimal_entries() {
    let text = format!(
        "{}{}",
        entry(&format!(
            "access_key = \"AKIAFULL\"\nsecret_key = \"{SECRET}\"\nprincipal = \"alice\"\n\
             groups = [\"admins\", \"ops\"]\nenabled = false\nexpires_at = \"2027-01-01T00:00:00Z\""
        )),
        valid("min_key-1"),
    );
    let store: CredentialStore = text.parse().unwrap();
    assert_eq!(store.len(), 2);
    assert!(!store.is_empty());
    let full = store.get("AKIAFULL").unwrap();
    assert_eq!(full.principal, "alice");
    assert_eq!(full.groups, ["admins", "ops"]);
    assert!(!full.enabled);
    let expires = full.expires_at.unwrap();
    assert_eq!(expires.unix_timestamp(), 1_798_761_600);
    let minimal = store.get("min_key-1").unwrap();
    assert!(minimal.enabled);
    assert!(minimal.groups.is_empty());
    assert!(minimal.expires_at.is_none());
    assert_eq!(minimal.secret_key.expose_bytes(), SECRET.as_bytes());
    assert!(store.get("nope").is_none());
    assert_eq!(store.iter().count(), 2);
}

#[test]
fn empty_document_is_an_empty_store() {
    let store: CredentialStore = "".parse().unwrap();
    assert!(store.is_empty());
}

#[test]
fn expires_at_accepts_toml_datetimes_and_offsets() {
    for (value, unix) in [
        ("2027-01-01T00:00:00Z", 1_798_761_600),
        ("\"2027-01-01T02:00:00+02:00\"", 1_798_761_600),
    ] {
        let text = entry(&format!(
            "access_key = \"AKIA1\"\nsecret_key = \"s\"\nprincipal = \"p\"\nexpires_at = {value}"
        ));
        let store: CredentialStore = text.parse().unwrap();
        let credential = store.get("AKIA1").unwrap();
        assert_eq!(credential.expires_at.unwrap().unix_timestamp(), unix);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_761_600);
        assert!(credential.is_expired(at));
        assert!(!credential.is_expired(at - Duration::from_secs(1)));
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let store: CredentialStore = valid("AKIADEBUG").parse().unwrap();
    let credential = store.get("AKIADEBUG").unwrap();
    for shown in [format!("{credential:?}"), format!("{store:?}")] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
}

#[test]
fn invalid_documents_name_the_entry_and_field() {
    let too_long = "A".repeat(129);
    let cases: Vec<(String, &str)> = vec![
        (
            valid("AK"),
            "`credential[0].access_key` must be 3 to 128 characters long, got 2 in `AK`",
        ),
        (
            valid(&too_long),
            "`credential[0].access_key` must be 3 to 128 characters long, got 129",
        ),
        (
            format!("{}{}", valid("AKIAOK"), valid("AKIA/BAD")),
            "`credential[1].access_key` may only contain `A-Z a-z 0-9 _ -`, found `/` in `AKIA/BAD`",
        ),
        (
            entry("access_key = \"AKIA1\"\nsecret_key = \"\"\nprincipal = \"p\""),
            "`credential[0].secret_key` of `AKIA1` must not be empty",
        ),
        (
            entry("access_key = \"AKIA1\"\nsecret_key = \"abc \"\nprincipal = \"p\""),
            "`credential[0].secret_key` of `AKIA1` must not start or end with whitespace",
        ),
        (
            entry("access_key = \"AKIA1\"\nsecret_key = \"s\"\nprincipal = \" \""),
            "`credential[0].principal` of `AKIA1` must not be empty",
        ),
        (
            entry("access_key = \"AKIA1\"\nsecret_key = \"s\"\nprincipal = \"p\"\ngroups = [\"\"]"),
            "`credential[0].groups` of `AKIA1` must not contain an empty group name",
        ),
        (
            format!("{}{}{}", valid("AKIA1"), valid("AKIA2"), valid("AKIA1")),
            "duplicate access key `AKIA1` in `credential[0]` and `credential[2]`",
        ),
        (
            entry("access_key = \"AKIA1\"\nsecret_key = \"s\"\nprincipal = \"p\"\nsecret = 1"),
            "invalid credentials document at line 5, column 1: unknown field `secret`",
        ),
        (
            entry("access_key = \"AKIA1\"\nprincipal = \"p\""),
            "missing field `secret_key`",
        ),
        (
            entry(
                "access_key = \"AKIA1\"\nsecret_key = \"s\"\nprincipal = \"p\"\nexpires_at = \"tomorrow\"",
            ),
            "`tomorrow` is not an RFC 3339 date-time with an offset",
        ),
        (
            entry(
                "access_key = \"AKIA1\"\nsecret_key = \"s\"\nprincipal = \"p\"\nexpires_at = 2027-01-01T00:00:00",
            ),
            "`2027-01-01T00:00:00` is not an RFC 3339 date-time with an offset",
        ),
        (
            "[[credentials]]\n".to_owned(),
            "unknown field `credentials`",
        ),
    ];
    for (text, expected) in cases {
        let message = text.parse::<CredentialStore>().unwrap_err().to_string();
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[test]
fn parse_errors_do_not_echo_the_secret() {
    for text in [
        entry("access_key = \"AKIA1\"\nsecret_key = 98765432123\nprincipal = \"p\""),
        entry("access_key = \"AKIA1\"\nsecret_key = s3cr3tvalue\nprincipal = \"p\""),
    ] {
        let message = text.parse::<CredentialStore>().unwrap_err().to_string();
        assert!(!message.contains("98765432123"), "{message}");
        assert!(!message.contains("s3cr3tvalue"), "{message}");
    }
}

#[test]
fn from_file_reads_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("credentials.toml");
    std::fs::write(&good, valid("AKIAFILE")).unwrap();
    assert_eq!(CredentialStore::from_file(&good).unwrap().len(), 1);

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[credential]]\naccess_key = 1\n").unwrap();
    let message = CredentialStore::from_file(&bad).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "invalid credentials file `{}` at line 2",
            bad.display()
        )),
        "{message}"
    );

    let missing = dir.path().join("missing.toml");
    let err = CredentialStore::from_file(&missing).unwrap_err();
    assert!(matches!(err, CredentialsError::Read { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot read credentials file `"),
        "{err}"
    );
}

#[test]
fn from_credentials_validates_too() {
    let credential = Credential::new("AKIAVEC", "s", "p");
    assert!(credential.enabled && credential.groups.is_empty() && credential.expires_at.is_none());
    let store = CredentialStore::from_credentials(vec![credential.clone()]).unwrap();
    assert_eq!(store.len(), 1);
    let mut credentials = store.into_credentials();
    credentials.push(Credential::new("AKIAVEC2", String::from("s2"), "q"));
    let store = CredentialStore::from_credentials(credentials).unwrap();
    let keys: Vec<&str> = store.iter().map(|c| c.access_key.as_str()).collect();
    assert_eq!(keys, ["AKIAVEC", "AKIAVEC2"]);
    assert_eq!(store.get("AKIAVEC2").unwrap().principal, "q");
    let err = CredentialStore::from_credentials(vec![credential.clone(), credential]).unwrap_err();
    assert!(matches!(
        err,
        CredentialsError::DuplicateAccessKey {
            first: 0,
            second: 1,
            ..
        }
    ));
}
