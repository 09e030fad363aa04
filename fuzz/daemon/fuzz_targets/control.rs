//! Fuzz target: bytes on the control socket, through the frame reader and request decoding.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| exsyncd::fuzzing::control(data));
