//! Fuzz target: the `deribit` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_deribit::fuzz_parse(data));
