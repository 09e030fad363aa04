//! Fuzz target: the `b2c2` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_b2c2::fuzz_parse(data));
