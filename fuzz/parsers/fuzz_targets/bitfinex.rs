//! Fuzz target: the `bitfinex` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_bitfinex::fuzz_parse(data));
