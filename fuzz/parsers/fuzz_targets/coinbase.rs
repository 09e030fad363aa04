//! Fuzz target: the `coinbase` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_coinbase::fuzz_parse(data));
