//! Unit tests for the `okx` connector.
