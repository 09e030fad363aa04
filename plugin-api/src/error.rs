//! The error taxonomy shared by plugins, the daemon, metrics and `exsyncctl`.

use std::fmt;

use abi_stable::{std_types::RString, StableAbi};

/// What went wrong, as the operator must act on it.
///
/// A newtype over `u8` rather than an enum so that a later 1.x release can add kinds without
/// breaking plugins built against this one: an unknown value reads as [`ErrorKind::PLUGIN`]'s
/// neighbour `unknown` and is reported, never undefined behaviour.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorKind(pub u8);

impl ErrorKind {
    /// Bad API key, secret or passphrase.
    pub const AUTH: ErrorKind = ErrorKind(1);
    /// The key is valid but lacks a right the request needs.
    pub const PERMISSION: ErrorKind = ErrorKind(2);
    /// A nonce or timestamp was rejected.
    pub const CLOCK: ErrorKind = ErrorKind(3);
    /// The exchange asked us to slow down (429 and friends) and retries ran out.
    pub const RATE_LIMITED: ErrorKind = ErrorKind(4);
    /// The exchange banned the key or the address for a while (Binance's 418).
    pub const BANNED: ErrorKind = ErrorKind(5);
    /// Could not reach the exchange: DNS, TCP, TLS, timeout.
    pub const NETWORK: ErrorKind = ErrorKind(6);
    /// The exchange answered with a server error or maintenance.
    pub const EXCHANGE_UNAVAILABLE: ErrorKind = ErrorKind(7);
    /// The exchange sent something the plugin cannot parse.
    pub const BAD_RESPONSE: ErrorKind = ErrorKind(8);
    /// The stream, option or sandbox is not offered by this exchange or plugin.
    pub const UNSUPPORTED: ErrorKind = ErrorKind(9);
    /// The integration's configuration is wrong.
    pub const CONFIG: ErrorKind = ErrorKind(10);
    /// The plugin failed: load failure, panic, broken invariant.
    pub const PLUGIN: ErrorKind = ErrorKind(11);

    /// Every kind this version knows, in order.
    pub const ALL: [ErrorKind; 11] = [
        Self::AUTH,
        Self::PERMISSION,
        Self::CLOCK,
        Self::RATE_LIMITED,
        Self::BANNED,
        Self::NETWORK,
        Self::EXCHANGE_UNAVAILABLE,
        Self::BAD_RESPONSE,
        Self::UNSUPPORTED,
        Self::CONFIG,
        Self::PLUGIN,
    ];

    /// The stable snake_case name used in logs, metric labels and ctl output.
    pub fn as_str(self) -> &'static str {
        match self.0 {
            1 => "auth",
            2 => "permission",
            3 => "clock",
            4 => "rate_limited",
            5 => "banned",
            6 => "network",
            7 => "exchange_unavailable",
            8 => "bad_response",
            9 => "unsupported",
            10 => "config",
            11 => "plugin",
            _ => "unknown",
        }
    }

    /// Parses a name produced by [`ErrorKind::as_str`].
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What the operator should do about it.
    pub fn hint(self) -> &'static str {
        match self.0 {
            1 => "check the API key, secret and passphrase of this integration",
            2 => "give the API key the missing read permission on the exchange",
            3 => "synchronise this host's clock (chrony/NTP); the exchange rejected our timestamp",
            4 => "the exchange throttled us; exsync backs off and retries on the next schedule",
            5 => "the exchange banned this key or address for a while; exsync waits it out",
            6 => "check DNS, proxy and network access to the exchange",
            7 => "the exchange is failing or in maintenance; exsync retries on the next schedule",
            8 => "the exchange sent data the plugin cannot read; report it with the log line",
            9 => "remove the stream or option from the integration, or use another plugin",
            10 => "fix the integration file; `exsyncctl validate` shows what is wrong",
            11 => "the plugin failed; check `exsyncctl plugins` and the daemon log",
            _ => "unknown error kind; upgrade exsyncd",
        }
    }

    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_transient(self) -> bool {
        matches!(self.0, 4..=7)
    }
}

impl fmt::Debug for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that crosses the plugin boundary: a kind the host acts on and a message for people.
///
/// The message must never contain a secret; the host redacts credential values from it anyway.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PluginError {
    pub kind: ErrorKind,
    pub message: RString,
}

impl PluginError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> PluginError {
        PluginError {
            kind,
            message: RString::from(message.into()),
        }
    }
    pub fn auth(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::AUTH, message)
    }
    pub fn permission(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::PERMISSION, message)
    }
    pub fn clock(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::CLOCK, message)
    }
    pub fn network(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::NETWORK, message)
    }
    pub fn unavailable(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::EXCHANGE_UNAVAILABLE, message)
    }
    pub fn bad_response(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::BAD_RESPONSE, message)
    }
    pub fn unsupported(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::UNSUPPORTED, message)
    }
    pub fn config(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::CONFIG, message)
    }
    pub fn plugin(message: impl Into<String>) -> PluginError {
        Self::new(ErrorKind::PLUGIN, message)
    }

    /// Prefixes the message with what was being done: "while fetching trades for BTCUSDT: …".
    pub fn context(mut self, what: impl fmt::Display) -> PluginError {
        self.message = RString::from(format!("{what}: {}", self.message));
        self
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
            assert!(seen.insert(kind.as_str()));
            assert!(!kind.hint().is_empty());
        }
        assert_eq!(ErrorKind(200).as_str(), "unknown");
    }

    #[test]
    fn context_reads_while_doing_what() {
        let e = PluginError::bad_response("missing field `price`").context("parsing myTrades");
        assert_eq!(
            e.to_string(),
            "bad_response: parsing myTrades: missing field `price`"
        );
    }
}
