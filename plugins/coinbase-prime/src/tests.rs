//! Unit tests for the `coinbase_prime` connector.
