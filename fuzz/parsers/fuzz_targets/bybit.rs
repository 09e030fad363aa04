//! Fuzz target: the `bybit` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_bybit::fuzz_parse(data));
