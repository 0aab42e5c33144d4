//! The `momentum` binary's library: the CLI, which also starts the web app (`serve`).
//! `main.rs` only calls [`cli::main`], so tests can drive the same code.

// `deny`, not `forbid`: `cli::limit_malloc_arenas` is the one reviewed exception.
#![deny(unsafe_code)]

mod calendar;
pub mod cli;
mod demo;
mod export;
mod import;
mod output;
mod report;
