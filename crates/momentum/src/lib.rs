//! The `momentum` binary's library: the CLI, which also starts the web app (`serve`).
//! `main.rs` only calls [`cli::main`], so tests can drive the same code.

#![forbid(unsafe_code)]

mod calendar;
pub mod cli;
mod demo;
mod export;
mod import;
mod output;
mod report;
