//! The shim: one small process per container, the container's parent.
//!
//! CONTRACT (the shim helper fills this in; the public names below are fixed, more may be
//! added): `berth __shim <container-dir>` (dispatched by `main` before anything else, so the
//! shim carries neither the CLI nor the async runtime) reads `<dir>/init.json`, detaches,
//! starts the container through `engine::runtime`, holds its stdio, writes the json-file log,
//! reaps it, records `<dir>/exit.json` and serves `<dir>/shim.sock`. The daemon talks to it
//! only through [`client`].
//!
//! - `start`: reading the spec, detaching, cgroup, stdio, socket, the container's start.
//! - `serve`: the event loop (output → log and clients, reaping, requests, exit).
//! - `protocol`: the socket protocol, shared with [`client`].
//! - `sys`: the few raw calls (self-pipe for signals, poll, TIOCSWINSZ, fork).
//!
//! Not done yet: `StdinOnce` as a spec field (a stdin-close frame from any client closes
//! the container's stdin), a tty's stdin close (a pty cannot be half-closed).

pub mod client;
pub mod protocol;
mod serve;
mod start;
mod sys;

pub use client::{ExitRecord, Frame, ShimClient, ShimError, ShimState};

/// The hidden argv[1] that selects shim mode.
pub const SHIM_ARG: &str = "__shim";

/// Runs the shim when `args[1]` is [`SHIM_ARG`] and returns its exit code; `None` otherwise.
pub fn main_if_requested(args: &[std::ffi::OsString]) -> Option<i32> {
    if args.get(1).map(|a| a.as_os_str()) != Some(std::ffi::OsStr::new(SHIM_ARG)) {
        return None;
    }
    match args.get(2) {
        Some(dir) => Some(start::run(std::path::Path::new(dir))),
        None => {
            eprintln!("berth: usage: berth {SHIM_ARG} <container-dir>");
            Some(125)
        }
    }
}
