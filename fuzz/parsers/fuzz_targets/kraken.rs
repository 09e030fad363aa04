//! Fuzz target: the `kraken` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_kraken::fuzz_parse(data));
