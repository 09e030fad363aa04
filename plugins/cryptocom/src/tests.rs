//! Unit tests for the `cryptocom` connector.
