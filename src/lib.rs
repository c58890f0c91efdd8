//! berth: a Compose-style multi-container orchestrator.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of this crate.
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod compose;
pub mod daemon;
pub mod engine;
pub mod image;
pub mod net;
pub mod scheduler;
pub mod volume;
