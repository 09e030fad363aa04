//! Unit tests for the `bitmex` connector.
