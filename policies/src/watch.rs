//! Hot reload: watch the policy directory with notify (debounced) and
//! reload the store when a `.cedar` file is created, modified or removed.
//!
//! Only those event kinds count: reloading reads every file, which itself
//! produces Access events (and, on some systems, access-time metadata
//! changes); reacting to them would reload forever.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::event::{MetadataKind, ModifyKind};
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{
    DebounceEventResult, DebouncedEvent, Debouncer, RecommendedCache, new_debouncer,
};

use crate::error::PolicyError;
use crate::load::is_policy_file;
use crate::store::PolicyStore;

/// Keeps the watch running; dropping it (or [`WatchHandle::stop`]) stops
/// watching.
pub struct WatchHandle {
    debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
}

impl std::fmt::Debug for WatchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchHandle").finish_non_exhaustive()
    }
}

impl WatchHandle {
    /// Stops watching and waits for the watcher thread to end.
    pub fn stop(self) {
        self.debouncer.stop();
    }
}

impl PolicyStore {
    /// Watches the store's directory (not recursively): after `debounce` of
    /// quiet following a change to a `.cedar` file, reloads and passes the
    /// result to `on_result` (the gateway counts `policy_reload_total` and
    /// sets `policy_generation` there). Runs on notify's thread until the
    /// handle is dropped.
    pub fn watch(
        self: Arc<Self>,
        debounce: Duration,
        on_result: impl Fn(&Result<u64, PolicyError>) + Send + 'static,
    ) -> Result<WatchHandle, PolicyError> {
        let dir = self.dir().ok_or(PolicyError::NoDirectory)?.to_owned();
        let store = Arc::clone(&self);
        watch_files(&dir, debounce, is_policy_file, move || {
            on_result(&store.reload());
        })
        .map_err(|error| PolicyError::Watch {
            dir: dir.clone(),
            message: error.to_string(),
        })
    }
}

/// Watches the directory `dir` (not recursively) and calls `on_change` once
/// per debounced batch of events that create, change or remove a file that
/// `wanted` accepts. Watching the directory rather than the file follows
/// editors and tools that replace a file by renaming another over it.
pub fn watch_files(
    dir: &Path,
    debounce: Duration,
    wanted: impl Fn(&Path) -> bool + Send + 'static,
    on_change: impl Fn() + Send + 'static,
) -> Result<WatchHandle, notify::Error> {
    let handler = move |result: DebounceEventResult| match result {
        Ok(events) => {
            if events.iter().any(|event| is_change(event, &wanted)) {
                on_change();
            }
        }
        Err(errors) => {
            for error in errors {
                tracing::warn!(%error, "file watch error");
            }
        }
    };
    let mut debouncer = new_debouncer(debounce, None, handler)?;
    debouncer.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(WatchHandle { debouncer })
}

/// Whether `event` creates, changes or removes a file `wanted` accepts.
fn is_change(event: &DebouncedEvent, wanted: &impl Fn(&Path) -> bool) -> bool {
    let relevant = match event.kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    };
    relevant && event.paths.iter().any(|path| wanted(path))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Instant;

    use notify::Event;
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, RemoveKind};

    use super::*;

    fn event(kind: EventKind, path: &str) -> DebouncedEvent {
        DebouncedEvent::new(
            Event::new(kind).add_path(PathBuf::from(path)),
            Instant::now(),
        )
    }

    #[test]
    fn only_changes_to_cedar_files_count() {
        let table = [
            (EventKind::Create(CreateKind::File), "/p/a.cedar", true),
            (
                EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                "/p/a.cedar",
                true,
            ),
            (EventKind::Remove(RemoveKind::File), "/p/a.cedar", true),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                "/p/a.cedar",
                false,
            ),
            (EventKind::Access(AccessKind::Read), "/p/a.cedar", false),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
                "/p/a.cedar",
                false,
            ),
            (EventKind::Create(CreateKind::File), "/p/a.cedar.swp", false),
            (EventKind::Modify(ModifyKind::Any), "/p/notes.txt", false),
        ];
        for (kind, path, expected) in table {
            assert_eq!(
                is_change(&event(kind, path), &is_policy_file),
                expected,
                "{kind:?} {path}"
            );
        }
    }
}
