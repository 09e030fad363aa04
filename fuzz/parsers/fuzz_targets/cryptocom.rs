//! Fuzz target: the `cryptocom` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_cryptocom::fuzz_parse(data));
