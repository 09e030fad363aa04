//! Fuzz target: the `bitmex` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_bitmex::fuzz_parse(data));
