#![no_main]
//! Any server answer (status line, headers, body) to a generated operation
//! and a paged list: never panics, never hangs, every failure typed.

libfuzzer_sys::fuzz_target!(|data: &[u8]| smartthings_ext::fuzzing::response(data));
