//! cargo-fuzz entry point; the harness is `idpsim::fuzzing::response_checker`, compiled and run over
//! the seeds by the main crate's tests (tests/fuzz_regressions.rs), so it cannot rot.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| idpsim::fuzzing::response_checker::run(data));
