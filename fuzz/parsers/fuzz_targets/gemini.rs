//! Fuzz target: the `gemini` connector's response parsers.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsync_plugin_gemini::fuzz_parse(data));
