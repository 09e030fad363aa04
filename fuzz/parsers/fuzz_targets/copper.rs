//! Fuzz target: the `copper` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_copper::fuzz_parse(data));
