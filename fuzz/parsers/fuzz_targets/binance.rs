//! Fuzz target: the `binance` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_binance::fuzz_parse(data));
