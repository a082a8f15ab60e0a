//! Validate-then-swap reloads and the file watcher, on real directories.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cedargate_policies::{
    AuthMode, AuthzRequest, PolicySnapshot, PolicyStore, PrincipalRef, watch_files,
};

use crate::support::{context, write};

const READ: &str = "@id(\"read\")\npermit (principal, action in Action::\"read\", resource);\n";
const BROKEN: &str = "@id(\"read\")\npermit (principal, action in Action::\"read\", resource)\nwhen { context.secure_transport && };\n";
const WRITE: &str = "@id(\"write\")\npermit (principal, action in Action::\"write\", resource);\n";

fn allows(snapshot: &PolicySnapshot, action: &str) -> bool {
    let signed = context(AuthMode::Signed);
    snapshot
        .decide(&AuthzRequest {
            principal: PrincipalRef::Credential {
                name: "alice",
                access_key: "AK",
                groups: &[],
            },
            action,
            bucket: Some("b"),
            key: Some("k"),
            context: &signed,
        })
        .allowed
}

#[test]
fn a_failed_reload_keeps_the_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.cedar", READ);
    let store = PolicyStore::load(dir.path()).unwrap();
    assert_eq!(store.generation(), 1);
    let before = store.snapshot();
    assert!(allows(&before, "GetObject"));

    write(dir.path(), "a.cedar", BROKEN);
    let error = store.reload().unwrap_err();
    let expected_location = format!("{}:3:36: ", dir.path().join("a.cedar").display());
    assert!(error.to_string().starts_with(&expected_location), "{error}");
    assert_eq!(store.generation(), 1);
    assert!(
        allows(&store.snapshot(), "GetObject"),
        "the old policies stay in force"
    );
    assert!(Arc::ptr_eq(&before, &store.snapshot()));
    let status = store.last_reload();
    assert!(!status.ok);
    assert!(status.error.unwrap().starts_with(&expected_location));

    write(dir.path(), "a.cedar", READ);
    write(dir.path(), "b.cedar", WRITE);
    assert_eq!(store.reload().unwrap(), 2);
    assert_eq!(store.generation(), 2);
    let status = store.last_reload();
    assert!(status.ok && status.error.is_none());
    let after = store.snapshot();
    assert!(allows(&after, "PutObject"));
    assert_eq!(after.generation(), 2);
    assert!(after.policy_ids().contains(&"write".to_owned()));
    // A snapshot taken before the swap still answers with the old set.
    assert!(!allows(&before, "PutObject"));
}

#[test]
fn only_cedar_files_directly_in_the_directory_load() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.cedar", READ);
    write(dir.path(), "notes.txt", "not a policy");
    write(dir.path(), ".a.cedar.swp", "not a policy either");
    std::fs::create_dir(dir.path().join("old")).unwrap();
    write(&dir.path().join("old"), "x.cedar", "garbage");
    let store = PolicyStore::load(dir.path()).unwrap();
    let ids = store.snapshot().policy_ids();
    assert_eq!(
        ids,
        [
            "cedargate-base/anonymous-no-response-overrides",
            "cedargate-base/anonymous-read-only",
            "cedargate-base/quota",
            "read"
        ]
    );
}

/// Polls `check` every 25 ms for up to 5 s.
fn eventually(check: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    check()
}

#[test]
fn the_watcher_reloads_on_changes_and_reports_each_result() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.cedar", READ);
    let store = Arc::new(PolicyStore::load(dir.path()).unwrap());
    let results = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&results);
    let handle = Arc::clone(&store)
        .watch(Duration::from_millis(50), move |result| {
            seen.lock()
                .unwrap()
                .push(result.as_ref().map(|g| *g).map_err(ToString::to_string));
        })
        .unwrap();

    write(dir.path(), "b.cedar", WRITE);
    assert!(
        eventually(|| store.generation() == 2),
        "no reload after a new file"
    );
    assert!(allows(&store.snapshot(), "PutObject"));

    write(
        dir.path(),
        "b.cedar",
        BROKEN.replace("read", "write").as_str(),
    );
    assert!(
        eventually(|| !store.last_reload().ok),
        "no failed reload reported"
    );
    assert_eq!(store.generation(), 2);

    std::fs::remove_file(dir.path().join("b.cedar")).unwrap();
    assert!(
        eventually(|| store.generation() == 3),
        "no reload after a removal"
    );
    assert!(!allows(&store.snapshot(), "PutObject"));

    // Reading the files (as every reload does) must not trigger reloads.
    // Nor do changes to files that are not policies: once a second watcher,
    // taking every file with the same debounce, has seen the change to
    // `notes.txt`, the store's watcher has had it too. The reload that
    // brings in `m.cedar` afterwards must then be the very next one.
    let probe_seen = Arc::new(Mutex::new(0usize));
    let probe_count = Arc::clone(&probe_seen);
    let probe = watch_files(
        dir.path(),
        Duration::from_millis(50),
        |_| true,
        move || {
            *probe_count.lock().unwrap() += 1;
        },
    )
    .unwrap();
    let probed = || *probe_seen.lock().unwrap();
    write(dir.path(), "notes.txt", "hello");
    assert!(eventually(|| probed() >= 1), "the probe missed notes.txt");
    write(dir.path(), "m.cedar", WRITE);
    assert!(
        eventually(|| allows(&store.snapshot(), "PutObject")),
        "no reload after a new file"
    );
    assert_eq!(store.snapshot().generation(), 4, "unexpected reloads");
    let before_stop = probed();

    // A reload's result is reported after its snapshot is in place.
    assert!(
        eventually(|| results.lock().unwrap().contains(&Ok(4))),
        "no result reported for generation 4"
    );
    let results = results.lock().unwrap().clone();
    assert!(
        results.contains(&Ok(2)) && results.contains(&Ok(3)) && results.contains(&Ok(4)),
        "{results:?}"
    );
    assert!(results.iter().any(Result::is_err), "{results:?}");

    // After stop, changes go unnoticed: the probe sees `m.cedar` go, the
    // stopped watcher does not.
    handle.stop();
    std::fs::remove_file(dir.path().join("m.cedar")).unwrap();
    assert!(
        eventually(|| probed() > before_stop),
        "the probe missed the removal"
    );
    probe.stop();
    assert_eq!(store.generation(), 4);
    assert!(allows(&store.snapshot(), "PutObject"));
}
