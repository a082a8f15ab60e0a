//! [`PolicyStore`]: the current [`PolicySnapshot`] behind an `ArcSwap`,
//! reloaded validate-then-swap. A reload builds a whole new snapshot from
//! the directory; only when every file parses and validates is it
//! published. A failed reload leaves the old snapshot (and generation) in
//! force and is recorded in [`PolicyStore::last_reload`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use crate::error::{Diagnostic, PolicyError};
use crate::snapshot::PolicySnapshot;

/// The outcome of the most recent load or reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadStatus {
    /// Whether it succeeded.
    pub ok: bool,
    /// Why it failed: `file:line:col: message` for a policy problem.
    pub error: Option<String>,
    /// Every problem found in the files, each with its `file:line:col`
    /// (empty on success and for errors not about a file's content).
    pub diagnostics: Vec<Diagnostic>,
    /// The generation in force once it finished (unchanged by a failure).
    pub generation: u64,
    /// When it finished.
    pub at: SystemTime,
}

/// The live policy set of a gateway.
#[derive(Debug)]
pub struct PolicyStore {
    dir: Option<PathBuf>,
    current: ArcSwap<PolicySnapshot>,
    status: Mutex<ReloadStatus>,
    last_failure: Mutex<Option<ReloadStatus>>,
    /// Serialises reloads so generations are handed out in order.
    reloading: Mutex<()>,
}

impl PolicyStore {
    /// Loads `dir` (generation 1); fails if any file is invalid.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let dir = dir.as_ref().to_owned();
        let snapshot = PolicySnapshot::from_dir(&dir, 1)?;
        Ok(Self::new(Some(dir), snapshot))
    }

    /// A store holding `snapshot` with no directory behind it (e.g. the
    /// embedded development set): [`Self::reload`] and [`Self::watch`]
    /// return [`PolicyError::NoDirectory`].
    pub fn from_snapshot(snapshot: PolicySnapshot) -> Self {
        Self::new(None, snapshot)
    }

    fn new(dir: Option<PathBuf>, snapshot: PolicySnapshot) -> Self {
        Self {
            dir,
            status: Mutex::new(ReloadStatus {
                ok: true,
                error: None,
                diagnostics: Vec::new(),
                generation: snapshot.generation(),
                at: SystemTime::now(),
            }),
            current: ArcSwap::from_pointee(snapshot),
            last_failure: Mutex::new(None),
            reloading: Mutex::new(()),
        }
    }

    /// The policy directory, if the store has one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The current snapshot (an `Arc` clone: cheap; keep it for the whole
    /// request so one request sees one policy set).
    pub fn snapshot(&self) -> Arc<PolicySnapshot> {
        self.current.load_full()
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.current.load().generation()
    }

    /// Re-reads the directory; on success publishes the new snapshot and
    /// returns its generation, on failure keeps the current one.
    pub fn reload(&self) -> Result<u64, PolicyError> {
        let Some(dir) = &self.dir else {
            return Err(PolicyError::NoDirectory);
        };
        let _reloading = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let generation = self.generation() + 1;
        let result = PolicySnapshot::from_dir(dir, generation).map(|snapshot| {
            self.current.store(Arc::new(snapshot));
            generation
        });
        match &result {
            Ok(generation) => tracing::info!(generation, dir = %dir.display(), "policies reloaded"),
            Err(error) => {
                tracing::warn!(%error, dir = %dir.display(), "policy reload failed; keeping the previous policies")
            }
        }
        let status = ReloadStatus {
            ok: result.is_ok(),
            error: result.as_ref().err().map(ToString::to_string),
            diagnostics: result
                .as_ref()
                .err()
                .map(|error| error.diagnostics().to_vec())
                .unwrap_or_default(),
            generation: self.generation(),
            at: SystemTime::now(),
        };
        if !status.ok {
            *self
                .last_failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(status.clone());
        }
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
        result
    }

    /// The outcome of the most recent load or reload.
    pub fn last_reload(&self) -> ReloadStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The most recent reload that failed, if any did: what the last
    /// invalid edit was, even after a later reload succeeded.
    pub fn last_failure(&self) -> Option<ReloadStatus> {
        self.last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_without_directory_cannot_reload() {
        let snapshot = PolicySnapshot::from_sources(&[], 7).unwrap();
        let store = PolicyStore::from_snapshot(snapshot);
        assert!(matches!(store.reload(), Err(PolicyError::NoDirectory)));
        assert_eq!(store.generation(), 7);
        assert!(store.last_reload().ok);
        assert!(store.dir().is_none());
        assert_eq!(store.last_reload().generation, 7);
        assert!(store.last_failure().is_none());
    }

    #[test]
    fn a_failed_reload_records_its_diagnostics_and_keeps_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let good = "@id(\"p\")\npermit (principal, action, resource);\n";
        std::fs::write(dir.path().join("a.cedar"), good).unwrap();
        let store = PolicyStore::load(dir.path()).unwrap();
        std::fs::write(dir.path().join("a.cedar"), "permit (principal,\n  nope);\n").unwrap();
        assert!(store.reload().is_err());
        let status = store.last_reload();
        assert!(!status.ok);
        assert_eq!(status.generation, 1);
        let first = &status.diagnostics[0];
        assert!(first.location.file.ends_with("a.cedar"), "{first}");
        assert_eq!(first.location.line, 2, "{first}");
        std::fs::write(dir.path().join("a.cedar"), good).unwrap();
        assert_eq!(store.reload().unwrap(), 2);
        assert!(store.last_reload().ok);
        assert_eq!(store.last_reload().generation, 2);
        assert_eq!(
            store.last_failure().unwrap().diagnostics,
            status.diagnostics
        );
    }

    #[test]
    fn a_missing_directory_fails_to_load() {
        let error = PolicyStore::load("/nonexistent/cedargate-policies").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot read policy directory `/nonexistent"),
            "{error}"
        );
    }
}
