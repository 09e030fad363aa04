//! Fuzz target: the `kucoin` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_kucoin::fuzz_parse(data));
