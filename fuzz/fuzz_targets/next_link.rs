#![no_main]
//! The pagination link check: never panics; never accepts another origin.

libfuzzer_sys::fuzz_target!(|data: &[u8]| smartthings_ext::fuzzing::next_link(data));
