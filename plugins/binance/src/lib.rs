//! The Binance connector.
