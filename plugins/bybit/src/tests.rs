//! Unit tests for the `bybit` connector.
