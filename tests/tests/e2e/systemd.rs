//! Checks of the systemd unit.
