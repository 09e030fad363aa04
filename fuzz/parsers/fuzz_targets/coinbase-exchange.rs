//! Fuzz target: the `coinbase-exchange` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_coinbase_exchange::fuzz_parse(data));
