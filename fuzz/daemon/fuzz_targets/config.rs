//! Fuzz target: `exsyncd.toml`, integration and data source files.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsyncd::fuzzing::config(data));
