//! Watches the configuration and plugin directories and reloads when they change.
//!
//! Directories, never single files: an editor that saves by writing a temporary file and
//! renaming it over the old one, and a Kubernetes ConfigMap that swaps its `..data` symlink,
//! both show up as events in the directory. The parents of both directories are watched too,
//! so a directory replaced whole (removed and created again, or renamed over) is noticed and
//! watched again. Events are debounced: a reload starts once the directories have been quiet
//! for [`CONFIG_WATCH_DELAY`]; the reload itself finds out what changed ([`crate::reload`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::daemon::Daemon;
use crate::reload;

/// Quiet time before a reload. Saves arrive as bursts of events (write, close, rename, the
/// editor's backup file); most bursts are over within tens of milliseconds, `cp` of a large
/// plugin within a few hundred. Long enough to see a burst through, short enough that a
/// change is applied within 1.5 s of being written.
pub const CONFIG_WATCH_DELAY: Duration = Duration::from_millis(800);

/// A burst that never goes quiet (a file written continuously) still reloads this often.
const MAX_DEBOUNCE: Duration = Duration::from_secs(5);

/// Whether an event may change what a reload reads. Reads (our own included: a reload opens
/// every file it checks) are not changes.
fn is_change(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

struct Watched {
    config_dir: PathBuf,
    plugin_dir: PathBuf,
    /// What the daemon writes itself (the state directory, the socket), should an operator
    /// put it inside a watched directory: its writes are not configuration changes.
    own: Vec<PathBuf>,
}

impl Watched {
    /// Whether an event concerns one of the watched directories (the parents' events also
    /// name siblings).
    fn concerns(&self, path: &Path) -> bool {
        if self.own.iter().any(|own| path.starts_with(own)) {
            return false;
        }
        path.starts_with(&self.config_dir)
            || path.starts_with(&self.plugin_dir)
            || self.config_dir.starts_with(path)
            || self.plugin_dir.starts_with(path)
    }

    /// (Re)installs every watch; a directory that does not exist now is picked up when its
    /// parent sees it appear.
    fn install(&self, watcher: &mut notify::RecommendedWatcher) {
        for (dir, mode) in [
            (&self.config_dir, RecursiveMode::Recursive),
            (&self.plugin_dir, RecursiveMode::NonRecursive),
        ] {
            let _ = watcher.unwatch(dir);
            if let Err(e) = watcher.watch(dir, mode) {
                tracing::warn!(dir = %dir.display(), error = %e, "Cannot watch a directory; changes are applied on SIGHUP and `exsyncctl reload` only until it can be watched.");
            }
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                let _ = watcher.unwatch(parent);
                let _ = watcher.watch(parent, RecursiveMode::NonRecursive);
            }
        }
    }
}

/// Starts watching; returns the task that reloads on changes, or `None` when no watcher can
/// be created (the daemon then reloads on SIGHUP and `exsyncctl reload` only).
pub fn spawn(daemon: Arc<Daemon>) -> Option<tokio::task::JoinHandle<()>> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<notify::Event>();
    let mut watcher = match notify::recommended_watcher(
        move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event {
                let _ = tx.send(event);
            }
        },
    ) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot watch the configuration; changes are applied on SIGHUP and `exsyncctl reload` only.");
            return None;
        }
    };
    let watched = Watched {
        config_dir: absolute(&daemon.settings.config_dir),
        plugin_dir: absolute(&daemon.settings.plugin_dir),
        own: vec![
            absolute(&daemon.settings.state_dir),
            absolute(&daemon.settings.socket),
        ],
    };
    watched.install(&mut watcher);
    Some(tokio::spawn(async move {
        let relevant =
            |e: &notify::Event| is_change(&e.kind) && e.paths.iter().any(|p| watched.concerns(p));
        loop {
            let Some(event) = rx.recv().await else { return };
            if !relevant(&event) {
                continue;
            }
            let first = tokio::time::Instant::now();
            let mut quiet_at = first + CONFIG_WATCH_DELAY;
            loop {
                tokio::select! {
                    event = rx.recv() => match event {
                        None => return,
                        Some(e) if relevant(&e) => {
                            quiet_at = (tokio::time::Instant::now() + CONFIG_WATCH_DELAY)
                                .min(first + MAX_DEBOUNCE);
                        }
                        Some(_) => {}
                    },
                    _ = tokio::time::sleep_until(quiet_at) => break,
                    _ = daemon.shutdown.cancelled() => return,
                }
            }
            tracing::debug!("Configuration or plugin directory changed; reloading.");
            reload::reload(&daemon, "watch").await;
            // A directory replaced whole has lost its watch: install them all again.
            watched.install(&mut watcher);
        }
    }))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_changes() {
        use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
    }

    #[test]
    fn parents_events_count_only_for_the_watched_directories() {
        let w = Watched {
            config_dir: "/etc/exsync".into(),
            plugin_dir: "/usr/lib/exsync/plugins".into(),
            own: vec!["/etc/exsync/state".into()],
        };
        assert!(w.concerns(Path::new("/etc/exsync/integrations.d/a.toml")));
        assert!(w.concerns(Path::new("/etc/exsync")));
        assert!(w.concerns(Path::new("/usr/lib/exsync/plugins/x.so")));
        assert!(!w.concerns(Path::new("/etc/passwd")));
        assert!(!w.concerns(Path::new("/usr/lib/exsync/other")));
        assert!(!w.concerns(Path::new("/etc/exsync/state/exsync.redb")));
    }
}
