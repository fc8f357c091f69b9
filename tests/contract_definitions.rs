//! Temporary binary while the definitions area's contract tests are written (they
//! move into contract.rs when done).
#![allow(dead_code)]

#[path = "contract/harness.rs"]
mod harness;
