//! Unit tests for the `bitfinex` connector.
