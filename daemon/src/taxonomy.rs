//! The daemon's side of the error taxonomy: the plugin kinds, plus the kinds only the daemon
//! raises.
//!
//! Owns the names and hints of the daemon's own kinds and the one place a kind becomes the
//! word logs, metrics (`reason`) and `exsyncctl` show. A daemon kind is a value of
//! [`ErrorKind`] the plugin API never defines (128 and up), so it travels through the engine
//! like any other; a plugin that sends such a value is reporting a broken invariant, and
//! [`from_plugin`] reads it as `plugin`. The plugin API itself is unchanged.

use exsync_plugin_api::{ErrorKind, PluginError};

/// The store could not write or read what a sync needs (a full disk, an I/O error).
pub const STORE: ErrorKind = ErrorKind(128);

/// The word logs, metric labels and ctl output use for `kind`.
pub fn name(kind: ErrorKind) -> &'static str {
    if kind == STORE {
        "store"
    } else {
        kind.as_str()
    }
}

/// What the operator should do about `kind`.
pub fn hint(kind: ErrorKind) -> &'static str {
    if kind == STORE {
        "the store could not write (a full disk or an I/O error on the state directory): free space or fix the disk; syncs resume from the last page committed"
    } else {
        kind.hint()
    }
}

/// A store failure while `what` (`committing a page`).
pub fn store_error(what: &str, e: impl std::fmt::Display) -> PluginError {
    PluginError::new(STORE, format!("while {what}: {e}"))
}

/// An error as a plugin returned it: a daemon-only kind is not the plugin's to send.
pub fn from_plugin(mut e: PluginError) -> PluginError {
    if e.kind.0 >= STORE.0 {
        e.kind = ErrorKind::PLUGIN;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_the_daemons_own_and_plugins_cannot_send_it() {
        assert_eq!(name(STORE), "store");
        assert!(hint(STORE).contains("disk"));
        assert!(!ErrorKind::ALL.contains(&STORE));
        assert_eq!(name(ErrorKind::AUTH), "auth");
        assert_eq!(
            from_plugin(PluginError::new(STORE, "x")).kind,
            ErrorKind::PLUGIN
        );
        assert_eq!(from_plugin(PluginError::clock("x")).kind, ErrorKind::CLOCK);
        let e = store_error("committing a page", "No space left on device");
        assert_eq!(e.kind, STORE);
        assert_eq!(
            e.message.as_str(),
            "while committing a page: No space left on device"
        );
    }
}
