#![no_main]
//! Status decoding: never panics; what decodes round-trips losslessly.

libfuzzer_sys::fuzz_target!(|data: &[u8]| smartthings_ext::fuzzing::status_decode(data));
