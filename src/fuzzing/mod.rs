//! The fuzz harnesses, one module per cargo-fuzz target in `fuzz/`.
//!
//! They live in the library rather than in `fuzz/` so that `cargo test` compiles them and runs
//! each over its committed seeds (`fuzz/seeds/<target>/`): a harness that no longer builds, or a
//! seed that now panics, fails the ordinary test run instead of the next nightly fuzzing job.
//! Each `run` takes arbitrary bytes and must return; a panic is a bug in idpsim (or, for the
//! round-trip assertions, a printer and parser that disagree).

pub mod entra_expression;
pub mod patch_path;
pub mod response_checker;
pub mod scenario_loader;
pub mod scim_filter;
pub mod template;
