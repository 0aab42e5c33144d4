//! The `momentum` binary's library: the CLI today, the web app and API next to it later.
//! `main.rs` only calls [`cli::main`], so tests can drive the same code.

#![forbid(unsafe_code)]

pub mod cli;
mod demo;
mod input;
mod output;
pub mod password;
