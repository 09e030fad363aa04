//! Fuzz target: the `bitget` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_bitget::fuzz_parse(data));
