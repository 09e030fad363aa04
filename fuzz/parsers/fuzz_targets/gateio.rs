//! Fuzz target: the `gateio` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_gateio::fuzz_parse(data));
