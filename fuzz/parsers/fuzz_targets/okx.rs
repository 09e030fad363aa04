//! Fuzz target: the `okx` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_okx::fuzz_parse(data));
