//! The shim: one small process per container, the container's parent.
//!
//! CONTRACT (the shim helper fills this in; the public names below are fixed, more may be
//! added): `berth __shim <container-dir>` (dispatched by `main` before anything else, so the
//! shim carries neither the CLI nor the async runtime) reads `<dir>/init.json`, detaches,
//! starts the container through `engine::runtime`, holds its stdio, writes the json-file log,
//! reaps it, records `<dir>/exit.json` and serves `<dir>/shim.sock`. The daemon talks to it
//! only through [`client`].

pub mod client;

pub use client::{ExitRecord, Frame, ShimClient, ShimError, ShimState};

/// The hidden argv[1] that selects shim mode.
pub const SHIM_ARG: &str = "__shim";

/// Runs the shim when `args[1]` is [`SHIM_ARG`] and returns its exit code; `None` otherwise.
pub fn main_if_requested(args: &[std::ffi::OsString]) -> Option<i32> {
    if args.get(1).map(|a| a.as_os_str()) != Some(std::ffi::OsStr::new(SHIM_ARG)) {
        return None;
    }
    eprintln!("berth: the shim is not implemented yet");
    Some(125)
}
