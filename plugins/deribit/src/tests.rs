//! Unit tests for the `deribit` connector.
