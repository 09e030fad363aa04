//! Unit tests for the `copper` connector.
