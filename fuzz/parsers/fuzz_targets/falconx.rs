//! Fuzz target: the `falconx` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_falconx::fuzz_parse(data));
