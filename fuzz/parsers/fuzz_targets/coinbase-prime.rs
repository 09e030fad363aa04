//! Fuzz target: the `coinbase-prime` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_coinbase_prime::fuzz_parse(data));
