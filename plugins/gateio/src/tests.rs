//! Unit tests for the `gateio` connector.
